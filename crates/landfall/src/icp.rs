//! `landfall icp …`: the ICP-filing (ICP备案) compliance desk from the command line, over the
//! typed client (`landfall_client::Client::icp_*`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use landfall_client::icp::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::commands::Ctx;
use crate::failure::{CliError, EXIT_USAGE};
use crate::output::{self, Table};

/// ICP filing (ICP备案) compliance desk.
#[derive(Debug, Subcommand)]
pub enum IcpCmd {
    /// The filing record and its state: show, record, history of changes.
    #[command(subcommand)]
    Filing(FilingCmd),
    /// Check and normalise an ICP filing, licence or public-security number.
    #[command(subcommand)]
    Numbers(NumbersCmd),
    /// Compliance documents: checklist, upload, verify, download.
    #[command(subcommand)]
    Documents(DocumentsCmd),
    /// Every blocker and warning before submitting the filing.
    Readiness {
        app_id: String,
        /// Check as of this date (YYYY-MM-DD) [default: today in China].
        #[arg(long)]
        today: Option<String>,
    },
    /// Move the filing: submit, withdraw, provider-approve, provider-reject, submit-to-ca,
    /// sms-resent, sms-verified, sms-failed, ca-approve, ca-reject, start-change, abandon,
    /// request-cancel, cancel-approved, cancel-withdrawn.
    Transition(TransitionArgs),
    /// Estimated dates of the remaining stages, in Chinese working days.
    Timeline {
        app_id: String,
        /// For a draft: the planned submission date (YYYY-MM-DD) [default: today].
        #[arg(long)]
        since: Option<String>,
    },
    /// The working-day calendar: show a year, load a new year, classify a day, count days.
    #[command(subcommand)]
    Calendar(CalendarCmd),
    /// Check server IPs against the mainland-China table (IPv4 and IPv6).
    IpCheck {
        /// Addresses to check; with --app, the app's recorded servers are checked too.
        ips: Vec<String>,
        /// Check the servers recorded in this app's filing.
        #[arg(long)]
        app: Option<String>,
    },
    /// Print the public display of the filing (text and HTML snippets for the About page).
    Badge {
        app_id: String,
        /// Only the HTML snippet.
        #[arg(long, conflicts_with = "text")]
        html: bool,
        /// Only the text (Chinese and English).
        #[arg(long)]
        text: bool,
    },
    /// Per-app ICP settings: drift policy, ignored hosts, launch date, tracked certificates.
    #[command(subcommand)]
    Settings(SettingsCmd),
    /// The compliance calendar: recurring checks, deadlines, expiries, completions.
    #[command(subcommand)]
    Compliance(ComplianceCmd),
    /// The emergency-response set-up (compliance officer, authorities, provider, counsel).
    #[command(subcommand)]
    Emergency(EmergencyCmd),
    /// Incidents and the kill switch.
    #[command(subcommand)]
    Incident(IncidentCmd),
    /// Export every content change in a date range (CSV or JSON).
    Export {
        app_id: String,
        /// First day (YYYY-MM-DD, China time) [default: 30 days before --to].
        #[arg(long)]
        from: Option<String>,
        /// Last day (YYYY-MM-DD) [default: today].
        #[arg(long)]
        to: Option<String>,
        /// csv or json.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write to this file instead of stdout.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// The full compliance report (summary; --html for the printable report).
    Report {
        app_id: String,
        /// The printable HTML report.
        #[arg(long)]
        html: bool,
        /// Write to this file instead of stdout.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// Download a zip of every compliance document and record (with a JSON manifest).
    Backup {
        app_id: String,
        /// Where to write the zip [default: <app>-icp-backup.zip].
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum FilingCmd {
    /// Show the filing: state, numbers, update-required flag, history.
    Show { app_id: String },
    /// Record the filing record from a JSON file (entity, app, access, numbers).
    Record {
        app_id: String,
        /// FilingRecord JSON (see docs/ICP.md).
        file: PathBuf,
        /// Accept variant number forms seen in the wild (with warnings).
        #[arg(long)]
        lenient: bool,
        /// Why (kept in the history of changes).
        #[arg(long)]
        reason: Option<String>,
        /// When a change takes effect (checked against the 30-days-in-advance rule).
        #[arg(long, value_name = "YYYY-MM-DD")]
        effective_on: Option<String>,
        /// The app is already filed: record it as active with numbers.filing.
        #[arg(long)]
        already_filed: bool,
    },
    /// Every recorded change of the details.
    Changes { app_id: String },
}

#[derive(Debug, Subcommand)]
pub enum NumbersCmd {
    /// Validate and normalise one number.
    Check {
        number: String,
        /// filing, licence or public-security [default: detected].
        #[arg(long)]
        kind: Option<String>,
        /// Accept variant forms seen in the wild (with warnings).
        #[arg(long)]
        lenient: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DocumentsCmd {
    /// The checklist for the entity type and the stored documents.
    List { app_id: String },
    /// Upload a document (PDF; ID documents may be JPEG/PNG), at most 20 MB.
    Add {
        app_id: String,
        /// Checklist kind, e.g. entity-certificate, domain-certificate, emergency-response-plan.
        kind: String,
        file: PathBuf,
        /// Stored file name [default: the file's name].
        #[arg(long)]
        name: Option<String>,
        /// Expiry date (YYYY-MM-DD).
        #[arg(long)]
        expires_on: Option<String>,
        /// The original is not in Chinese.
        #[arg(long)]
        foreign_language: bool,
        /// A Chinese translation is attached.
        #[arg(long)]
        translated: bool,
        /// The red company seal is confirmed.
        #[arg(long)]
        red_seal: bool,
    },
    /// Mark a document verified (and fix its flags).
    Verify {
        app_id: String,
        id: i64,
        /// Confirm the red company seal.
        #[arg(long)]
        red_seal: bool,
        /// A Chinese translation is attached.
        #[arg(long)]
        translated: bool,
        /// Expiry date (YYYY-MM-DD).
        #[arg(long)]
        expires_on: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Download a document.
    Get {
        app_id: String,
        id: i64,
        /// Where to write it [default: its stored name].
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// Remove a document from the checklist (kept for the record and backups).
    Remove { app_id: String, id: i64 },
}

#[derive(Debug, Args)]
pub struct TransitionArgs {
    pub app_id: String,
    /// The event, e.g. submit, provider-approve, ca-approve.
    pub event: String,
    /// Why (kept in the history).
    #[arg(long)]
    pub note: Option<String>,
    /// The issued service number (ca-approve), e.g. 京ICP备12345678号-1A.
    #[arg(long)]
    pub number: Option<String>,
    /// A per-field rejection reason FIELD=ERROR (provider-reject, ca-reject); repeatable.
    #[arg(long = "reason", value_name = "FIELD=ERROR")]
    pub reasons: Vec<String>,
    /// Why the SMS verification failed (sms-failed): timeout or too-many-wrong-codes.
    #[arg(long)]
    pub failure: Option<String>,
    /// Submit even though the readiness check reports blockers.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum CalendarCmd {
    /// Loaded years and the administrator's overrides; with --year, that year's holidays.
    Show {
        #[arg(long)]
        year: Option<i32>,
    },
    /// Load (add or replace) a year from JSON: {"year":2027,"holidays":[{"name":"元旦","off":[…],"work":[…]}]}.
    LoadYear { file: PathBuf },
    /// What kind of day a date is.
    Day { date: String },
    /// The N-th working day after a date.
    Add { from: String, days: u32 },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCmd {
    /// Show the settings.
    Show { app_id: String },
    /// Change settings (unspecified ones stay as they are).
    Set {
        app_id: String,
        /// Refuse uploads that call unfiled hosts (true) or only warn (false).
        #[arg(long)]
        refuse_unfiled_hosts: Option<bool>,
        /// Acknowledge a third-party host (covers its subdomains); repeatable.
        #[arg(long = "ignore-host", value_name = "DOMAIN")]
        ignore_hosts: Vec<String>,
        /// Clear the ignored hosts first.
        #[arg(long)]
        clear_ignored_hosts: bool,
        /// Launch date of the app (YYYY-MM-DD).
        #[arg(long)]
        launch_date: Option<String>,
        /// Track a certificate expiry SUBJECT=YYYY-MM-DD; repeatable.
        #[arg(long = "certificate", value_name = "SUBJECT=DATE")]
        certificates: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ComplianceCmd {
    /// Due and overdue checks, deadlines and expiries.
    List {
        app_id: String,
        #[arg(long)]
        today: Option<String>,
    },
    /// Record a completed check: content-audit, security-check, server-performance,
    /// user-data-review, documentation-review, public-security-filing.
    Complete {
        app_id: String,
        check: String,
        /// Day it was done (YYYY-MM-DD) [default: today].
        #[arg(long)]
        on: Option<String>,
        #[arg(long, default_value = "")]
        notes: String,
        /// Evidence file to attach; repeatable.
        #[arg(long = "evidence", value_name = "FILE")]
        evidence: Vec<PathBuf>,
        /// Measurements as a JSON file [default: pre-filled by the server where it can].
        #[arg(long, value_name = "FILE")]
        measurements: Option<PathBuf>,
    },
    /// What the server can fill in for a check (server-performance, security-check).
    Prefill { app_id: String, check: String },
}

#[derive(Debug, Subcommand)]
pub enum EmergencyCmd {
    /// Show the set-up.
    Show { app_id: String },
    /// Replace the set-up from a JSON file.
    Set { app_id: String, file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum IncidentCmd {
    /// Open an incident.
    Create {
        app_id: String,
        #[arg(long)]
        title: String,
        /// low, medium, high or critical.
        #[arg(long)]
        severity: String,
        /// Responsible officer [default: the compliance officer].
        #[arg(long)]
        officer: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Incidents, newest first.
    List { app_id: String },
    /// One incident with its timeline and actions.
    Show { app_id: String, id: i64 },
    /// Add a note, a linked action and/or a status change.
    Update {
        app_id: String,
        id: i64,
        #[arg(long, default_value = "")]
        note: String,
        /// open, contained, resolved or closed.
        #[arg(long)]
        status: Option<String>,
        /// A linked action kind (e.g. report-to-authority).
        #[arg(long)]
        action: Option<String>,
        /// Detail of the action.
        #[arg(long, default_value = "")]
        detail: String,
    },
    /// Point every channel of the app at a known-good version (or builtin), ending rollouts.
    KillSwitch {
        app_id: String,
        id: i64,
        /// Known-good version, or builtin.
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "")]
        note: String,
    },
}

/// `kebab-case` or `snake_case` name → a serde enum.
fn parse_enum<T: DeserializeOwned>(what: &str, value: &str, allowed: &str) -> Result<T> {
    serde_json::from_value(Value::String(value.trim().replace('-', "_"))).map_err(|_| {
        CliError::new(
            EXIT_USAGE,
            "usage",
            format!("`{value}` is not a valid {what}; use one of: {allowed}"),
        )
        .into()
    })
}

fn parse_date(what: &str, value: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        CliError::new(
            EXIT_USAGE,
            "usage",
            format!("{what} `{value}` is not a date that exists in YYYY-MM-DD form / 不是有效日期"),
        )
        .into()
    })
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

fn name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', "-")))
        .unwrap_or_default()
}

fn write_or_print(output: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match output {
        Some(p) => {
            std::fs::write(p, bytes).with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!(
                "Wrote {} ({})",
                p.display(),
                output::size(bytes.len() as u64)
            );
            Ok(())
        }
        None => {
            out!("{}", String::from_utf8_lossy(bytes));
            Ok(())
        }
    }
}

/// An instant as China time, `2026-03-01 09:30`.
fn china(at: chrono::DateTime<chrono::Utc>) -> String {
    chrono::FixedOffset::east_opt(8 * 3600)
        .map(|tz| at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| at.format("%Y-%m-%d %H:%M UTC").to_string())
}

fn print_filing(v: &FilingView) {
    outln!(
        "{}  state: {} / {}  order: {}{}",
        v.app_id,
        v.state_label.en,
        v.state_label.zh,
        name(&v.order),
        if v.update_required {
            "  UPDATE REQUIRED (change filing not approved) / 需要更新"
        } else {
            ""
        }
    );
    outln!(
        "entity: {}  app: {}",
        v.record.entity.name,
        v.record.app.name
    );
    let n = &v.record.numbers;
    let show = |label: &str, value: Option<String>| {
        if let Some(value) = value {
            outln!("{label}: {value}");
        }
    };
    show("filing number", n.filing.as_ref().map(|x| x.to_string()));
    show("licence", n.licence.as_ref().map(|x| x.to_string()));
    show(
        "public security",
        n.public_security.as_ref().map(|x| x.to_string()),
    );
    if let Some(c) = &v.change {
        let sections: Vec<String> = c.sections.iter().map(name).collect();
        outln!(
            "change filing: {}{}",
            sections.join(", "),
            c.file_by
                .map(|d| format!(" (file by {d})"))
                .unwrap_or_default()
        );
    }
    let allowed: Vec<String> = v.allowed_events.iter().map(name).collect();
    outln!("next: {}", allowed.join(", "));
    for notice in &v.notices {
        eprintln!("note: {}", notice.message);
    }
    if !v.filing.history.is_empty() {
        let mut t = Table::new(&["WHEN (UTC+8)", "WHO", "EVENT", "FROM", "TO", "WHY"]);
        for h in &v.filing.history {
            t.row(vec![
                china(h.at),
                h.actor.clone(),
                name(&h.event),
                name(&h.from),
                name(&h.to),
                h.note.clone().unwrap_or_default(),
            ]);
        }
        outln!("");
        t.print("");
    }
}

fn print_findings(list: &[Finding], mark: &str) {
    for f in list {
        outln!(
            "{mark} {}{}: {}",
            f.code,
            f.field
                .as_deref()
                .map(|x| format!(" [{x}]"))
                .unwrap_or_default(),
            f.message
        );
    }
}

fn print_ips(items: &[IpCheckItem]) {
    let mut t = Table::new(&["IP", "CLASS", "NOTE"]);
    for i in items {
        t.row(vec![i.ip.clone(), name(&i.class), i.message.to_string()]);
    }
    t.print("no addresses");
}

fn print_incident(i: &Incident) {
    outln!(
        "#{} {}  severity: {}  status: {}  officer: {}",
        i.id,
        i.title,
        name(&i.severity),
        name(&i.status),
        i.officer.as_deref().unwrap_or("-")
    );
    for e in &i.timeline {
        outln!("  {}  {}  {}  {}", china(e.at), e.actor, e.kind, e.note);
    }
    for a in &i.actions {
        for m in &a.channels {
            outln!(
                "  channel {}: {} → {}{}",
                m.channel,
                m.from,
                m.to,
                if m.rollout_ended {
                    " (rollout ended)"
                } else {
                    ""
                }
            );
        }
    }
}

/// Runs `landfall icp …`.
pub async fn run(ctx: &Ctx, cmd: IcpCmd) -> Result<()> {
    let client = ctx.client()?;
    match cmd {
        IcpCmd::Filing(FilingCmd::Show { app_id }) => {
            let v = client
                .icp_filing(&app_id)
                .await
                .with_context(|| format!("cannot read the ICP filing of {app_id}"))?;
            ctx.emit(&v, || print_filing(&v))
        }
        IcpCmd::Filing(FilingCmd::Record {
            app_id,
            file,
            lenient,
            reason,
            effective_on,
            already_filed,
        }) => {
            let record = read_json(&file)?;
            let params = RecordParams {
                lenient,
                reason,
                effective_on: effective_on
                    .as_deref()
                    .map(|d| parse_date("--effective-on", d))
                    .transpose()?,
                already_filed,
            };
            let v = client
                .icp_record_filing(&app_id, &record, &params)
                .await
                .with_context(|| format!("cannot record the ICP filing of {app_id}"))?;
            ctx.emit(&v, || print_filing(&v))
        }
        IcpCmd::Filing(FilingCmd::Changes { app_id }) => {
            let list = client.icp_record_changes(&app_id).await?;
            ctx.emit(&list, || {
                let mut t = Table::new(&["AT", "ACTOR", "SECTIONS", "CHANGE FILING", "REASON"]);
                for c in &list {
                    t.row(vec![
                        output::time(c.at),
                        c.actor.clone(),
                        c.sections.iter().map(name).collect::<Vec<_>>().join(","),
                        if c.change_filing { "yes" } else { "" }.into(),
                        c.reason.clone().unwrap_or_default(),
                    ]);
                }
                t.print("no changes recorded");
            })
        }
        IcpCmd::Numbers(NumbersCmd::Check {
            number,
            kind,
            lenient,
        }) => {
            let kind = kind
                .as_deref()
                .map(|k| {
                    parse_enum::<NumberKind>("number kind", k, "filing, licence, public-security")
                })
                .transpose()?;
            let r = client
                .icp_check_number(&NumberCheck {
                    number,
                    kind,
                    lenient,
                })
                .await?;
            ctx.emit(&r, || {
                outln!("{}  ({})", r.canonical, name(&r.kind));
                if let Some(p) = r.province {
                    outln!("province: {}", name(&p));
                }
                outln!("verify at: {}", r.verify_url);
                for w in &r.warnings {
                    eprintln!("warning: {w}");
                }
            })
        }
        IcpCmd::Documents(cmd) => documents(ctx, &client, cmd).await,
        IcpCmd::Readiness { app_id, today } => {
            let r = client
                .icp_readiness(&app_id, today.as_deref())
                .await
                .with_context(|| format!("cannot check the readiness of {app_id}"))?;
            ctx.emit(&r, || {
                if r.ready {
                    outln!("ready to submit (no blockers) / 可以提交");
                } else {
                    outln!(
                        "NOT ready: {} blocker(s) / 有 {} 项阻断问题",
                        r.blockers.len(),
                        r.blockers.len()
                    );
                }
                print_findings(&r.blockers, "✗");
                print_findings(&r.warnings, "!");
            })
        }
        IcpCmd::Transition(a) => {
            let event = a.event.trim().replace('-', "_");
            let mut body = json!({ "event": event, "force": a.force });
            if let Some(n) = a.note {
                body["note"] = json!(n);
            }
            if let Some(n) = a.number {
                body["number"] = json!(n);
            }
            if !a.reasons.is_empty() {
                let mut reasons = Vec::new();
                for r in &a.reasons {
                    let (field, error) = r.split_once('=').ok_or_else(|| {
                        CliError::new(
                            EXIT_USAGE,
                            "usage",
                            format!(
                                "--reason `{r}` must be FIELD=ERROR, e.g. app.name=名称与实际不符"
                            ),
                        )
                    })?;
                    reasons.push(json!({ "field": field.trim(), "error": error.trim() }));
                }
                body["reasons"] = Value::Array(reasons);
            } else if matches!(event.as_str(), "provider_reject" | "ca_reject") {
                body["reasons"] = json!([]);
            }
            if let Some(f) = a.failure {
                body["failure"] = json!(f.replace('-', "_"));
            }
            let v = client
                .icp_transition(&a.app_id, &body)
                .await
                .with_context(|| {
                    format!("cannot apply `{}` to the filing of {}", a.event, a.app_id)
                })?;
            ctx.emit(&v, || print_filing(&v))
        }
        IcpCmd::Timeline { app_id, since } => {
            let t = client
                .icp_timeline(&app_id, since.as_deref())
                .await
                .with_context(|| format!("cannot estimate the timeline of {app_id}"))?;
            ctx.emit(&t, || {
                let tl = &t.timeline;
                outln!(
                    "state: {} / {} since {}",
                    tl.state.label().en,
                    tl.state.label().zh,
                    tl.since
                );
                let mut table =
                    Table::new(&["STAGE", "WORKING DAYS", "EARLIEST END", "LATEST END"]);
                for s in &tl.stages {
                    table.row(vec![
                        format!("{} / {}", s.label.en, s.label.zh),
                        format!("{}–{}", s.window.min, s.window.max),
                        s.earliest_end.to_string(),
                        s.latest_end.to_string(),
                    ]);
                }
                table.print("nothing pending");
                if let (Some(a), Some(b)) = (tl.earliest_completion, tl.latest_completion) {
                    outln!(
                        "done between {a} and {b} ({}–{} working days)",
                        tl.remaining.min,
                        tl.remaining.max
                    );
                }
            })
        }
        IcpCmd::Calendar(cmd) => calendar(ctx, &client, cmd).await,
        IcpCmd::IpCheck { ips, app } => {
            let mut items = Vec::new();
            if !ips.is_empty() {
                items.extend(client.icp_ip_check(&IpCheck { ips }).await?.results);
            }
            if let Some(app) = &app {
                let h = client.icp_hosting(app).await?;
                items.extend(h.providers.into_iter().flat_map(|p| p.ips));
            }
            if items.is_empty() {
                return Err(CliError::new(
                    EXIT_USAGE,
                    "usage",
                    "give IP addresses to check, or --app APP for the recorded servers",
                )
                .into());
            }
            let all = items.iter().all(|i| i.class == IpClass::Mainland);
            ctx.emit(&json!({ "results": items, "all_mainland": all }), || {
                print_ips(&items);
                if all {
                    outln!("all in mainland China / 全部位于中国内地");
                } else {
                    outln!("NOT all in mainland China / 并非所有地址都在中国内地");
                }
            })
        }
        IcpCmd::Badge { app_id, html, text } => {
            let info = client
                .icp_public(&app_id)
                .await
                .with_context(|| format!("no public ICP display for {app_id}"))?;
            ctx.emit(&info, || {
                if !html {
                    outln!("{}", info.display.text_zh);
                    outln!("");
                    outln!("{}", info.display.text_en);
                }
                if !html && !text {
                    outln!("");
                }
                if !text {
                    outln!("{}", info.display.html);
                }
            })
        }
        IcpCmd::Settings(SettingsCmd::Show { app_id }) => {
            let s = client.icp_settings(&app_id).await?;
            ctx.emit(&s, || print_settings(&s))
        }
        IcpCmd::Settings(SettingsCmd::Set {
            app_id,
            refuse_unfiled_hosts,
            ignore_hosts,
            clear_ignored_hosts,
            launch_date,
            certificates,
        }) => {
            let mut s = client.icp_settings(&app_id).await?;
            if let Some(r) = refuse_unfiled_hosts {
                s.refuse_unfiled_hosts = r;
            }
            if clear_ignored_hosts {
                s.ignored_hosts.clear();
            }
            s.ignored_hosts.extend(ignore_hosts);
            if let Some(d) = launch_date {
                s.launch_date = Some(parse_date("--launch-date", &d)?);
            }
            for c in certificates {
                let (subject, date) = c.rsplit_once('=').ok_or_else(|| {
                    CliError::new(
                        EXIT_USAGE,
                        "usage",
                        format!("--certificate `{c}` must be SUBJECT=YYYY-MM-DD"),
                    )
                })?;
                s.certificates.push(TrackedCertificate {
                    subject: subject.trim().to_owned(),
                    expires_on: parse_date("--certificate", date)?,
                });
            }
            let s = client.icp_put_settings(&app_id, &s).await?;
            ctx.emit(&s, || {
                outln!("Saved the ICP settings of {app_id}");
                print_settings(&s);
            })
        }
        IcpCmd::Compliance(cmd) => compliance(ctx, &client, cmd).await,
        IcpCmd::Emergency(EmergencyCmd::Show { app_id }) => {
            let e = client.icp_emergency(&app_id).await?;
            ctx.emit(&e, || {
                outln!("{}", serde_json::to_string_pretty(&e).unwrap_or_default())
            })
        }
        IcpCmd::Emergency(EmergencyCmd::Set { app_id, file }) => {
            let body: EmergencySetup =
                serde_json::from_value(read_json(&file)?).with_context(|| {
                    format!(
                        "{} is not an emergency set-up (see docs/ICP.md)",
                        file.display()
                    )
                })?;
            let e = client.icp_put_emergency(&app_id, &body).await?;
            ctx.emit(&e, || outln!("Saved the emergency set-up of {app_id}"))
        }
        IcpCmd::Incident(cmd) => incident(ctx, &client, cmd).await,
        IcpCmd::Export {
            app_id,
            from,
            to,
            format,
            output,
        } => match format.as_str() {
            "csv" => {
                let csv = client
                    .icp_export_csv(&app_id, from.as_deref(), to.as_deref())
                    .await?;
                write_or_print(output.as_deref(), csv.as_bytes())
            }
            "json" => {
                let v = client
                    .icp_export_json(&app_id, from.as_deref(), to.as_deref())
                    .await?;
                let text = serde_json::to_string_pretty(&v)?;
                write_or_print(output.as_deref(), format!("{text}\n").as_bytes())
            }
            other => Err(CliError::new(
                EXIT_USAGE,
                "usage",
                format!("--format `{other}` must be csv or json"),
            )
            .into()),
        },
        IcpCmd::Report {
            app_id,
            html,
            output,
        } => {
            if html {
                let page = client.icp_report_html(&app_id).await?;
                return write_or_print(output.as_deref(), page.as_bytes());
            }
            let r = client.icp_report(&app_id).await?;
            if let Some(p) = output {
                let text = serde_json::to_string_pretty(&r)?;
                return write_or_print(Some(&p), text.as_bytes());
            }
            ctx.emit(&r, || {
                outln!("{} ({}) as of {}", r.app_name, r.app_id, r.today);
                match &r.filing {
                    Some(f) => print_filing(f),
                    None => outln!("no filing recorded"),
                }
                if let Some(rd) = &r.readiness {
                    outln!(
                        "readiness: {} blocker(s), {} warning(s)",
                        rd.blockers.len(),
                        rd.warnings.len()
                    );
                }
                let overdue = r
                    .compliance
                    .items
                    .iter()
                    .filter(|i| i.status == ItemStatus::Overdue)
                    .count();
                outln!(
                    "compliance: {overdue} overdue item(s); documents: {}; incidents: {}; content changes (90 days): {}",
                    r.documents.len(),
                    r.incidents.len(),
                    r.content_changes.len()
                );
                outln!("printable report: landfall icp report {} --html -o report.html", r.app_id);
            })
        }
        IcpCmd::Backup { app_id, output } => {
            let dest = output.unwrap_or_else(|| PathBuf::from(format!("{app_id}-icp-backup.zip")));
            let size = client
                .icp_backup(&app_id, &dest)
                .await
                .with_context(|| format!("cannot back up the ICP records of {app_id}"))?;
            let value = json!({ "path": dest, "size": size });
            ctx.emit(&value, || {
                outln!("Wrote {} ({})", dest.display(), output::size(size))
            })
        }
    }
}

const DOCUMENT_KINDS: &str = "entity-certificate, organisation-code-certificate, legal-representative-id, official-seal, local-address-proof, representative-office-certificate, residence-permit, domain-certificate, server-hosting-details, network-security-protocol, data-privacy-statement, emergency-response-plan, network-architecture, authorisation-letter, power-of-attorney, local-representative-appointment, legal-representative-authorisation, entity-responsible-id, app-responsible-id, truthfulness-commitment, service-commitment, no-pre-approval-commitment, pre-approval-document, construction-plan";

async fn documents(ctx: &Ctx, client: &landfall_client::Client, cmd: DocumentsCmd) -> Result<()> {
    match cmd {
        DocumentsCmd::List { app_id } => {
            let v = client.icp_documents(&app_id).await?;
            ctx.emit(&v, || {
                let mut t = Table::new(&["KIND", "REQUIRED", "STATUS", "PROBLEMS", "DOCUMENT"]);
                for i in &v.checklist {
                    t.row(vec![
                        name(&i.requirement.kind),
                        if i.requirement.required {
                            "yes"
                        } else {
                            "optional"
                        }
                        .into(),
                        name(&i.status),
                        i.findings.len().to_string(),
                        format!("{} / {}", i.requirement.title.zh, i.requirement.title.en),
                    ]);
                }
                t.print("no checklist yet: record the filing first (`landfall icp filing record`)");
                outln!("");
                let mut t = Table::new(&["ID", "KIND", "FILE", "STATUS", "PDF", "EXPIRES", "SIZE"]);
                for d in &v.documents {
                    t.row(vec![
                        d.id.to_string(),
                        name(&d.kind),
                        d.file_name.clone(),
                        name(&d.status),
                        if d.is_pdf { "yes" } else { "no" }.into(),
                        output::opt(d.expires_on.map(|x| x.to_string()).as_deref()),
                        output::size(d.size),
                    ]);
                }
                t.print("no documents uploaded");
            })
        }
        DocumentsCmd::Add {
            app_id,
            kind,
            file,
            name: file_name,
            expires_on,
            foreign_language,
            translated,
            red_seal,
        } => {
            let params = UploadDocument {
                kind: parse_enum::<DocumentKind>("document kind", &kind, DOCUMENT_KINDS)?,
                file_name: file_name.unwrap_or_default(),
                foreign_language,
                has_chinese_translation: translated,
                red_seal_confirmed: red_seal,
                expires_on: expires_on
                    .as_deref()
                    .map(|d| parse_date("--expires-on", d))
                    .transpose()?,
            };
            let d = client
                .icp_upload_document(&app_id, &params, &file)
                .await
                .with_context(|| format!("cannot upload {}", file.display()))?;
            ctx.emit(&d, || {
                outln!(
                    "Stored document {} ({}): {} {} sha256 {}",
                    d.id,
                    name(&d.kind),
                    d.file_name,
                    output::size(d.size),
                    d.sha256
                )
            })
        }
        DocumentsCmd::Verify {
            app_id,
            id,
            red_seal,
            translated,
            expires_on,
            note,
        } => {
            let patch = DocumentPatch {
                status: Some(DocumentStatus::Verified),
                red_seal_confirmed: red_seal.then_some(true),
                has_chinese_translation: translated.then_some(true),
                expires_on: expires_on
                    .as_deref()
                    .map(|d| parse_date("--expires-on", d))
                    .transpose()?,
                note,
                ..Default::default()
            };
            let d = client.icp_patch_document(&app_id, id, &patch).await?;
            ctx.emit(&d, || outln!("Document {} verified", d.id))
        }
        DocumentsCmd::Get { app_id, id, output } => {
            let info = client.icp_document(&app_id, id).await?;
            let bytes = client.icp_document_content(&app_id, id).await?;
            let dest = output.unwrap_or_else(|| PathBuf::from(&info.file_name));
            std::fs::write(&dest, &bytes)
                .with_context(|| format!("cannot write {}", dest.display()))?;
            let value = json!({ "path": dest, "size": bytes.len(), "sha256": info.sha256 });
            ctx.emit(&value, || {
                outln!(
                    "Wrote {} ({})",
                    dest.display(),
                    output::size(bytes.len() as u64)
                )
            })
        }
        DocumentsCmd::Remove { app_id, id } => {
            client.icp_delete_document(&app_id, id).await?;
            ctx.emit(&json!({ "removed": id }), || {
                outln!("Removed document {id} from the checklist (kept for the record)")
            })
        }
    }
}

async fn calendar(ctx: &Ctx, client: &landfall_client::Client, cmd: CalendarCmd) -> Result<()> {
    match cmd {
        CalendarCmd::Show { year } => {
            let c = client.icp_calendar(year).await?;
            ctx.emit(&c, || {
                let (first, last) = (c.loaded_years.first(), c.loaded_years.last());
                if let (Some(a), Some(b)) = (first, last) {
                    outln!("loaded years: {a}–{b}");
                }
                for o in &c.overrides {
                    outln!(
                        "loaded by an administrator: {} ({}, {})",
                        o.year,
                        o.loaded_by,
                        output::time(o.loaded_at)
                    );
                }
                if let Some(y) = &c.year {
                    let mut t = Table::new(&["HOLIDAY", "DAYS OFF", "MAKE-UP WORKING DAYS"]);
                    for g in &y.holidays {
                        let list = |d: &[chrono::NaiveDate]| {
                            d.iter()
                                .map(|x| x.format("%m-%d").to_string())
                                .collect::<Vec<_>>()
                                .join(" ")
                        };
                        t.row(vec![
                            format!("{} {}", g.name, g.name_en.clone().unwrap_or_default()),
                            list(&g.off),
                            list(&g.work),
                        ]);
                    }
                    t.print("no holidays");
                }
            })
        }
        CalendarCmd::LoadYear { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let r = client
                .icp_load_year(&text)
                .await
                .with_context(|| format!("cannot load {}", file.display()))?;
            ctx.emit(&r, || {
                outln!(
                    "Loaded {}{}; years now {}–{}",
                    r.year,
                    if r.replaced { " (replaced)" } else { "" },
                    r.loaded_years.first().copied().unwrap_or_default(),
                    r.loaded_years.last().copied().unwrap_or_default()
                )
            })
        }
        CalendarCmd::Day { date } => {
            let d = client.icp_day(&date).await?;
            ctx.emit(&d, || {
                outln!(
                    "{}: {} ({})",
                    d.date,
                    d.kind,
                    if d.working {
                        "working day / 工作日"
                    } else {
                        "day off / 休息日"
                    }
                )
            })
        }
        CalendarCmd::Add { from, days } => {
            let w = client.icp_working_days(&from, days).await?;
            ctx.emit(&w, || {
                outln!("{} working days after {}: {}", w.days, w.from, w.date)
            })
        }
    }
}

const CHECKS: &str = "content-audit, security-check, server-performance, user-data-review, documentation-review, public-security-filing";

async fn compliance(ctx: &Ctx, client: &landfall_client::Client, cmd: ComplianceCmd) -> Result<()> {
    match cmd {
        ComplianceCmd::List { app_id, today } => {
            let v = client.icp_compliance(&app_id, today.as_deref()).await?;
            ctx.emit(&v, || {
                outln!(
                    "as of {}; launch {}{}",
                    v.today,
                    v.launch_date,
                    if v.launch_date_assumed {
                        " (assumed: set it with `landfall icp settings set --launch-date`)"
                    } else {
                        ""
                    }
                );
                let mut t = Table::new(&["STATUS", "DUE", "ITEM", "LAST DONE"]);
                for i in &v.items {
                    t.row(vec![
                        name(&i.status).to_uppercase(),
                        i.due_on.to_string(),
                        format!("{} / {}", i.title.en, i.title.zh),
                        output::opt(i.last_done.map(|d| d.to_string()).as_deref()),
                    ]);
                }
                t.print("nothing scheduled");
            })
        }
        ComplianceCmd::Complete {
            app_id,
            check,
            on,
            notes,
            evidence,
            measurements,
        } => {
            let kind: CheckKind = parse_enum("compliance check", &check, CHECKS)?;
            let check = kind_path(kind);
            let body = CompleteCheck {
                on: on.as_deref().map(|d| parse_date("--on", d)).transpose()?,
                notes,
                measurements: measurements.as_deref().map(read_json).transpose()?,
            };
            let mut c = client
                .icp_complete(&app_id, &check, &body)
                .await
                .with_context(|| format!("cannot record {check} for {app_id}"))?;
            for f in &evidence {
                c = client
                    .icp_add_evidence(&app_id, c.id, f)
                    .await
                    .with_context(|| format!("cannot attach {}", f.display()))?;
            }
            ctx.emit(&c, || {
                outln!(
                    "Recorded {} on {} (completion {}, {} evidence file(s))",
                    name(&c.check),
                    c.on,
                    c.id,
                    c.evidence.len()
                )
            })
        }
        ComplianceCmd::Prefill { app_id, check } => {
            let kind: CheckKind = parse_enum("compliance check", &check, CHECKS)?;
            let v = client.icp_prefill(&app_id, &kind_path(kind)).await?;
            ctx.emit(&v, || {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&v["measurements"]).unwrap_or_default()
                )
            })
        }
    }
}

fn kind_path(kind: CheckKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

async fn incident(ctx: &Ctx, client: &landfall_client::Client, cmd: IncidentCmd) -> Result<()> {
    match cmd {
        IncidentCmd::Create {
            app_id,
            title,
            severity,
            officer,
            description,
        } => {
            let body = NewIncident {
                title,
                severity: parse_enum("severity", &severity, "low, medium, high, critical")?,
                officer,
                description,
                occurred_at: None,
            };
            let i = client.icp_create_incident(&app_id, &body).await?;
            ctx.emit(&i, || print_incident(&i))
        }
        IncidentCmd::List { app_id } => {
            let list = client.icp_incidents(&app_id).await?;
            ctx.emit(&list, || {
                let mut t = Table::new(&["ID", "OPENED", "SEVERITY", "STATUS", "OFFICER", "TITLE"]);
                for i in &list {
                    t.row(vec![
                        i.id.to_string(),
                        china(i.opened_at),
                        name(&i.severity),
                        name(&i.status),
                        i.officer.clone().unwrap_or_default(),
                        i.title.clone(),
                    ]);
                }
                t.print("no incidents");
            })
        }
        IncidentCmd::Show { app_id, id } => {
            let i = client.icp_incident(&app_id, id).await?;
            ctx.emit(&i, || print_incident(&i))
        }
        IncidentCmd::Update {
            app_id,
            id,
            note,
            status,
            action,
            detail,
        } => {
            let body = IncidentUpdate {
                note,
                status: status
                    .as_deref()
                    .map(|s| parse_enum("status", s, "open, contained, resolved, closed"))
                    .transpose()?,
                action: action.map(|kind| IncidentActionInput { kind, detail }),
            };
            let i = client.icp_update_incident(&app_id, id, &body).await?;
            ctx.emit(&i, || print_incident(&i))
        }
        IncidentCmd::KillSwitch {
            app_id,
            id,
            to,
            note,
        } => {
            let r = client
                .icp_kill_switch(&app_id, id, &KillSwitch { target: to, note })
                .await
                .with_context(|| format!("kill switch of {app_id} failed"))?;
            ctx.emit(&r, || {
                outln!(
                    "Every channel of {app_id} now serves {} ({} channel(s)); recorded on incident {}",
                    r.target,
                    r.channels.len(),
                    r.incident.id
                );
                for m in &r.channels {
                    outln!("  {}: {} → {}", m.channel, m.from, m.to);
                }
            })
        }
    }
}

/// Human form of the per-app ICP settings (`icp settings show|set`).
fn print_settings(s: &IcpSettings) {
    outln!(
        "unfiled hosts     {}",
        if s.refuse_unfiled_hosts {
            "refused (uploads calling them fail)"
        } else {
            "warned about (uploads go through)"
        }
    );
    outln!(
        "ignored hosts     {}",
        if s.ignored_hosts.is_empty() {
            "-".to_owned()
        } else {
            s.ignored_hosts.join(", ")
        }
    );
    outln!(
        "launch date       {}",
        s.launch_date
            .map_or_else(|| "- (the approval date)".to_owned(), |d| d.to_string())
    );
    if s.certificates.is_empty() {
        outln!("certificates      -");
    }
    for (i, c) in s.certificates.iter().enumerate() {
        let label = if i == 0 { "certificates" } else { "" };
        outln!("{label:<18}{} expires {}", c.subject, c.expires_on);
    }
}
