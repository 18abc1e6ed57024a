//! The ICP desk (`/api/v1/apps/{app}/icp/…`, `/api/v1/icp/…`, the public `/icp/{app_id}`): one
//! method per route, with the wire types of [`landfall_icp::api`] re-exported here.
//!
//! ```no_run
//! # async fn demo() -> Result<(), landfall_client::Error> {
//! use landfall_client::{icp::NumberCheck, Client};
//! let client = Client::new("http://127.0.0.1:8080", Some("lf_secret".to_owned()))?;
//! let n = client
//!     .icp_check_number(&NumberCheck { number: "京ICP备12345678号-1A".into(), kind: None, lenient: false })
//!     .await?;
//! println!("{} ({:?})", n.canonical, n.kind);
//! # Ok(()) }
//! ```

use std::path::Path;

use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use tokio::io::AsyncWriteExt;
use url::Url;

pub use landfall_icp::api::*;
pub use landfall_icp::compliance::{CheckKind, ComplianceItem, ItemStatus};
pub use landfall_icp::documents::{ChecklistItem, DocumentKind, DocumentStatus, ReadinessReport};
pub use landfall_icp::filing::{EventKind, FilingRecord, FilingState, OrderKind, Timeline};
pub use landfall_icp::numbers::NumberKind;
pub use landfall_icp::{Finding, IpClass, Localized, Severity};

use crate::{Client, Error, Result};

/// Largest file the server accepts as a document or evidence file.
pub const MAX_DOCUMENT_BYTES: u64 = 20 * 1000 * 1000;

fn with_query(mut url: Url, pairs: &[(&str, Option<String>)]) -> Url {
    if pairs.iter().any(|(_, v)| v.is_some()) {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
    }
    url
}

async fn read_file(path: &Path) -> Result<Vec<u8>> {
    let file_err = |source| Error::File {
        path: path.to_owned(),
        source,
    };
    let meta = tokio::fs::metadata(path).await.map_err(file_err)?;
    if meta.len() > MAX_DOCUMENT_BYTES {
        return Err(file_err(std::io::Error::other(format!(
            "the file has {} bytes; the server accepts at most 20 MB",
            meta.len()
        ))));
    }
    tokio::fs::read(path).await.map_err(file_err)
}

fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "document".to_owned())
}

impl Client {
    fn icp_app(&self, app: &str, rest: &[&str]) -> Url {
        let mut segments = vec!["apps", app, "icp"];
        segments.extend_from_slice(rest);
        self.api(&segments)
    }

    async fn icp_bytes(&self, req: reqwest::RequestBuilder) -> Result<bytes::Bytes> {
        let resp = self.send(req).await?;
        let (_, _, bytes) = self.body(resp).await?;
        Ok(bytes)
    }

    async fn icp_text(&self, req: reqwest::RequestBuilder) -> Result<String> {
        let bytes = self.icp_bytes(req).await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    // ---- filing ---------------------------------------------------------------------------

    /// `GET /api/v1/apps/{app}/icp/filing`.
    pub async fn icp_filing(&self, app: &str) -> Result<FilingView> {
        let url = self.icp_app(app, &["filing"]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `PUT /api/v1/apps/{app}/icp/filing`: record the filing record (a `FilingRecord` as JSON;
    /// numbers as text, validated and normalised by the server).
    pub async fn icp_record_filing(
        &self,
        app: &str,
        record: &serde_json::Value,
        params: &RecordParams,
    ) -> Result<FilingView> {
        let url = with_query(
            self.icp_app(app, &["filing"]),
            &[
                ("lenient", params.lenient.then(|| "true".to_owned())),
                ("reason", params.reason.clone()),
                ("effective_on", params.effective_on.map(|d| d.to_string())),
                (
                    "already_filed",
                    params.already_filed.then(|| "true".to_owned()),
                ),
            ],
        );
        self.json(self.req(Method::PUT, url).json(record)).await
    }

    /// `POST /api/v1/apps/{app}/icp/filing/transitions`: `{"event": "submit", "note": "…",
    /// "force": false}` and the event's fields (`number`, `reasons`, `failure`).
    pub async fn icp_transition(&self, app: &str, event: &serde_json::Value) -> Result<FilingView> {
        let url = self.icp_app(app, &["filing", "transitions"]);
        self.json(self.req(Method::POST, url).json(event)).await
    }

    /// `GET /api/v1/apps/{app}/icp/filing/changes` (oldest first).
    pub async fn icp_record_changes(&self, app: &str) -> Result<Vec<RecordChangeInfo>> {
        let url = self.icp_app(app, &["filing", "changes"]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/apps/{app}/icp/timeline?since=` (`since`: planned submission of a draft).
    pub async fn icp_timeline(&self, app: &str, since: Option<&str>) -> Result<TimelineView> {
        let url = with_query(
            self.icp_app(app, &["timeline"]),
            &[("since", since.map(String::from))],
        );
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/apps/{app}/icp/readiness?today=`.
    pub async fn icp_readiness(&self, app: &str, today: Option<&str>) -> Result<ReadinessReport> {
        let url = with_query(
            self.icp_app(app, &["readiness"]),
            &[("today", today.map(String::from))],
        );
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/apps/{app}/icp/hosting`: the recorded server IPs, classified.
    pub async fn icp_hosting(&self, app: &str) -> Result<HostingReport> {
        let url = self.icp_app(app, &["hosting"]);
        self.json(self.req(Method::GET, url)).await
    }

    // ---- server-wide helpers --------------------------------------------------------------

    /// `POST /api/v1/icp/numbers/check`.
    pub async fn icp_check_number(&self, body: &NumberCheck) -> Result<NumberCheckResult> {
        let url = self.api(&["icp", "numbers", "check"]);
        self.json(self.req(Method::POST, url).json(body)).await
    }

    /// `POST /api/v1/icp/ip-check`.
    pub async fn icp_ip_check(&self, body: &IpCheck) -> Result<IpCheckResult> {
        let url = self.api(&["icp", "ip-check"]);
        self.json(self.req(Method::POST, url).json(body)).await
    }

    /// `GET /api/v1/icp/calendar?year=`.
    pub async fn icp_calendar(&self, year: Option<i32>) -> Result<CalendarInfo> {
        let url = with_query(
            self.api(&["icp", "calendar"]),
            &[("year", year.map(|y| y.to_string()))],
        );
        self.json(self.req(Method::GET, url)).await
    }

    /// `POST /api/v1/icp/calendar/years`: load one holiday year (JSON text as published).
    pub async fn icp_load_year(&self, json_text: &str) -> Result<YearLoaded> {
        let url = self.api(&["icp", "calendar", "years"]);
        let req = self
            .req(Method::POST, url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(json_text.to_owned());
        self.json(req).await
    }

    /// `GET /api/v1/icp/calendar/days/{date}`.
    pub async fn icp_day(&self, date: &str) -> Result<DayInfo> {
        let url = self.api(&["icp", "calendar", "days", date]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/icp/calendar/working-days?from=&days=`.
    pub async fn icp_working_days(&self, from: &str, days: u32) -> Result<WorkingDays> {
        let url = with_query(
            self.api(&["icp", "calendar", "working-days"]),
            &[
                ("from", Some(from.to_owned())),
                ("days", Some(days.to_string())),
            ],
        );
        self.json(self.req(Method::GET, url)).await
    }

    // ---- documents ------------------------------------------------------------------------

    /// `GET /api/v1/apps/{app}/icp/documents`: checklist and stored documents.
    pub async fn icp_documents(&self, app: &str) -> Result<DocumentsView> {
        let url = self.icp_app(app, &["documents"]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `POST /api/v1/apps/{app}/icp/documents?kind=&file_name=…`: uploads the file at `path`
    /// (≤ 20 MB). `params.file_name` empty = the file's own name.
    pub async fn icp_upload_document(
        &self,
        app: &str,
        params: &UploadDocument,
        path: &Path,
    ) -> Result<DocumentInfo> {
        let bytes = read_file(path).await?;
        let name = if params.file_name.trim().is_empty() {
            file_name_of(path)
        } else {
            params.file_name.clone()
        };
        let kind = serde_json::to_value(params.kind)
            .ok()
            .and_then(|v| v.as_str().map(String::from));
        let url = with_query(
            self.icp_app(app, &["documents"]),
            &[
                ("kind", kind),
                ("file_name", Some(name)),
                (
                    "foreign_language",
                    params.foreign_language.then(|| "true".into()),
                ),
                (
                    "has_chinese_translation",
                    params.has_chinese_translation.then(|| "true".into()),
                ),
                (
                    "red_seal_confirmed",
                    params.red_seal_confirmed.then(|| "true".into()),
                ),
                ("expires_on", params.expires_on.map(|d| d.to_string())),
            ],
        );
        let req = self
            .req(Method::POST, url)
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            )
            .body(bytes);
        self.json(req).await
    }

    /// `GET /api/v1/apps/{app}/icp/documents/{id}`.
    pub async fn icp_document(&self, app: &str, id: i64) -> Result<DocumentInfo> {
        let url = self.icp_app(app, &["documents", &id.to_string()]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `PATCH /api/v1/apps/{app}/icp/documents/{id}`: verify, or fix flags.
    pub async fn icp_patch_document(
        &self,
        app: &str,
        id: i64,
        patch: &DocumentPatch,
    ) -> Result<DocumentInfo> {
        let url = self.icp_app(app, &["documents", &id.to_string()]);
        self.json(self.req(Method::PATCH, url).json(patch)).await
    }

    /// `DELETE /api/v1/apps/{app}/icp/documents/{id}`.
    pub async fn icp_delete_document(&self, app: &str, id: i64) -> Result<()> {
        let url = self.icp_app(app, &["documents", &id.to_string()]);
        self.empty(self.req(Method::DELETE, url)).await
    }

    /// `GET /api/v1/apps/{app}/icp/documents/{id}/content`: the stored bytes.
    pub async fn icp_document_content(&self, app: &str, id: i64) -> Result<bytes::Bytes> {
        let url = self.icp_app(app, &["documents", &id.to_string(), "content"]);
        self.icp_bytes(self.req(Method::GET, url)).await
    }

    // ---- settings and compliance calendar -------------------------------------------------

    /// `GET /api/v1/apps/{app}/icp/settings`.
    pub async fn icp_settings(&self, app: &str) -> Result<IcpSettings> {
        let url = self.icp_app(app, &["settings"]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `PUT /api/v1/apps/{app}/icp/settings`.
    pub async fn icp_put_settings(&self, app: &str, body: &IcpSettings) -> Result<IcpSettings> {
        let url = self.icp_app(app, &["settings"]);
        self.json(self.req(Method::PUT, url).json(body)).await
    }

    /// `GET /api/v1/apps/{app}/icp/compliance?today=`.
    pub async fn icp_compliance(&self, app: &str, today: Option<&str>) -> Result<ComplianceView> {
        let url = with_query(
            self.icp_app(app, &["compliance"]),
            &[("today", today.map(String::from))],
        );
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/apps/{app}/icp/compliance/{check}/prefill`.
    pub async fn icp_prefill(&self, app: &str, check: &str) -> Result<serde_json::Value> {
        let url = self.icp_app(app, &["compliance", check, "prefill"]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `POST /api/v1/apps/{app}/icp/compliance/{check}/completions`.
    pub async fn icp_complete(
        &self,
        app: &str,
        check: &str,
        body: &CompleteCheck,
    ) -> Result<CompletionInfo> {
        let url = self.icp_app(app, &["compliance", check, "completions"]);
        self.json(self.req(Method::POST, url).json(body)).await
    }

    /// `POST /api/v1/apps/{app}/icp/compliance/completions/{id}/evidence?file_name=`.
    pub async fn icp_add_evidence(
        &self,
        app: &str,
        completion: i64,
        path: &Path,
    ) -> Result<CompletionInfo> {
        let bytes = read_file(path).await?;
        let url = with_query(
            self.icp_app(
                app,
                &[
                    "compliance",
                    "completions",
                    &completion.to_string(),
                    "evidence",
                ],
            ),
            &[("file_name", Some(file_name_of(path)))],
        );
        let req = self
            .req(Method::POST, url)
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            )
            .body(bytes);
        self.json(req).await
    }

    // ---- emergency response ---------------------------------------------------------------

    /// `GET /api/v1/apps/{app}/icp/emergency`.
    pub async fn icp_emergency(&self, app: &str) -> Result<EmergencySetup> {
        let url = self.icp_app(app, &["emergency"]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `PUT /api/v1/apps/{app}/icp/emergency`.
    pub async fn icp_put_emergency(
        &self,
        app: &str,
        body: &EmergencySetup,
    ) -> Result<EmergencySetup> {
        let url = self.icp_app(app, &["emergency"]);
        self.json(self.req(Method::PUT, url).json(body)).await
    }

    /// `GET /api/v1/apps/{app}/icp/incidents` (newest first).
    pub async fn icp_incidents(&self, app: &str) -> Result<Vec<Incident>> {
        let url = self.icp_app(app, &["incidents"]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/apps/{app}/icp/incidents/{id}`.
    pub async fn icp_incident(&self, app: &str, id: i64) -> Result<Incident> {
        let url = self.icp_app(app, &["incidents", &id.to_string()]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `POST /api/v1/apps/{app}/icp/incidents`.
    pub async fn icp_create_incident(&self, app: &str, body: &NewIncident) -> Result<Incident> {
        let url = self.icp_app(app, &["incidents"]);
        self.json(self.req(Method::POST, url).json(body)).await
    }

    /// `POST /api/v1/apps/{app}/icp/incidents/{id}/timeline`.
    pub async fn icp_update_incident(
        &self,
        app: &str,
        id: i64,
        body: &IncidentUpdate,
    ) -> Result<Incident> {
        let url = self.icp_app(app, &["incidents", &id.to_string(), "timeline"]);
        self.json(self.req(Method::POST, url).json(body)).await
    }

    /// `POST /api/v1/apps/{app}/icp/incidents/{id}/kill-switch`: every channel → `target`.
    pub async fn icp_kill_switch(
        &self,
        app: &str,
        id: i64,
        body: &KillSwitch,
    ) -> Result<KillSwitchResult> {
        let url = self.icp_app(app, &["incidents", &id.to_string(), "kill-switch"]);
        self.json(self.req(Method::POST, url).json(body)).await
    }

    // ---- records, report, backup, public display -------------------------------------------

    fn export_url(&self, app: &str, from: Option<&str>, to: Option<&str>, format: &str) -> Url {
        with_query(
            self.icp_app(app, &["export"]),
            &[
                ("from", from.map(String::from)),
                ("to", to.map(String::from)),
                ("format", Some(format.to_owned())),
            ],
        )
    }

    /// `GET /api/v1/apps/{app}/icp/export?format=json&from=&to=` (China dates, inclusive).
    pub async fn icp_export_json(
        &self,
        app: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<ContentChanges> {
        let url = self.export_url(app, from, to, "json");
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/apps/{app}/icp/export?format=csv&from=&to=`: the CSV text.
    pub async fn icp_export_csv(
        &self,
        app: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<String> {
        let url = self.export_url(app, from, to, "csv");
        self.icp_text(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/apps/{app}/icp/report` (JSON).
    pub async fn icp_report(&self, app: &str) -> Result<ComplianceReport> {
        let url = self.icp_app(app, &["report"]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/apps/{app}/icp/report?format=html`: printable HTML.
    pub async fn icp_report_html(&self, app: &str) -> Result<String> {
        let url = with_query(
            self.icp_app(app, &["report"]),
            &[("format", Some("html".into()))],
        );
        self.icp_text(self.req(Method::GET, url)).await
    }

    /// `GET /api/v1/apps/{app}/icp/backup`: streams the zip to `dest` (written to a temporary
    /// name beside it, renamed when complete). Returns its size.
    pub async fn icp_backup(&self, app: &str, dest: &Path) -> Result<u64> {
        let url = self.icp_app(app, &["backup"]);
        let resp = self.send(self.req(Method::GET, url)).await?;
        if !resp.status().is_success() {
            self.body(resp).await?;
            return Err(Error::Decode {
                url: self.origin(),
                status: 0,
                cause: "unexpected answer".into(),
            });
        }
        let file_err = |source| Error::File {
            path: dest.to_owned(),
            source,
        };
        let partial = dest.with_extension("zip.partial");
        let mut out = tokio::fs::File::create(&partial).await.map_err(file_err)?;
        let mut size = 0u64;
        let mut resp = resp;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| Error::from_reqwest(e, &self.origin()))?
        {
            size += chunk.len() as u64;
            out.write_all(&chunk).await.map_err(file_err)?;
        }
        out.flush().await.map_err(file_err)?;
        out.sync_all().await.map_err(file_err)?;
        drop(out);
        tokio::fs::rename(&partial, dest).await.map_err(file_err)?;
        Ok(size)
    }

    /// `GET /icp/{app_id}`: the public display (no token needed).
    pub async fn icp_public(&self, app: &str) -> Result<PublicFiling> {
        let url = self.join(&["icp", app]);
        self.json(self.req(Method::GET, url)).await
    }

    /// `GET /icp/{app_id}?format=html`: the public HTML snippet.
    pub async fn icp_public_html(&self, app: &str) -> Result<String> {
        let url = with_query(self.join(&["icp", app]), &[("format", Some("html".into()))]);
        self.icp_text(self.req(Method::GET, url)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icp_urls() {
        let c = Client::new("http://127.0.0.1:8080/x", None).unwrap();
        assert_eq!(
            c.icp_app("com.a", &["documents", "3", "content"]).as_str(),
            "http://127.0.0.1:8080/x/api/v1/apps/com.a/icp/documents/3/content"
        );
        assert_eq!(
            c.export_url("com.a", Some("2026-01-01"), None, "csv")
                .as_str(),
            "http://127.0.0.1:8080/x/api/v1/apps/com.a/icp/export?from=2026-01-01&format=csv"
        );
        assert_eq!(
            with_query(
                c.join(&["icp", "com.a"]),
                &[("format", Some("html".into()))]
            )
            .as_str(),
            "http://127.0.0.1:8080/x/icp/com.a?format=html"
        );
    }
}
