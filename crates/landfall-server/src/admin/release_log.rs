//! `/api/v1/log`: the tamper-evident release log — entries, verification, the signed export and
//! the public key auditors check exports with. Server-wide (`*:read`): the log covers every app.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use landfall_api_types::{LogEntryInfo, LogProblem, LogPublicKey, LogVerification};
use landfall_core::release_log::{ChainBreak, ChainVerifier, Checkpoint, LogEntry};
use landfall_crypto::release_log::ExportWriter;
use landfall_store::{Role, Store, StoreResult};
use serde::Deserialize;

use super::auth::Caller;
use crate::error::{HttpError, HttpResult};
use crate::state::Shared;

/// Entries read from the store at a time.
const PAGE: u32 = 1_000;

/// Query of the entry list.
#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    /// Entries after this `seq` (0: from the first).
    pub after: Option<i64>,
    /// At most this many [default 100, at most 1000].
    pub limit: Option<u32>,
}

/// Entries of the release log in chain order.
#[utoipa::path(get, path = "/api/v1/log", tag = "release log",
    params(("after" = Option<i64>, Query, description = "entries after this seq"),
           ("limit" = Option<u32>, Query, description = "at most this many (default 100, max 1000)")),
    responses((status = 200, body = Vec<LogEntryInfo>), (status = 403, body = landfall_api_types::ApiError)))]
pub async fn list(
    State(s): State<Shared>,
    caller: Caller,
    Query(q): Query<LogQuery>,
) -> HttpResult<Json<Vec<LogEntryInfo>>> {
    caller.require(None, Role::Read)?;
    let limit = q.limit.unwrap_or(100).clamp(1, PAGE);
    let entries = s
        .store
        .release_log(q.after.unwrap_or(0).max(0), i64::MAX, limit)
        .await?;
    Ok(Json(entries.into_iter().map(info).collect()))
}

fn info(e: LogEntry) -> LogEntryInfo {
    LogEntryInfo {
        detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::String(e.detail)),
        seq: e.seq,
        app_id: e.app_id,
        at: e.at,
        actor: e.actor,
        action: e.action,
        prev_hash: e.prev_hash,
        hash: e.hash,
    }
}

/// Query of a verification: an earlier export's head that must still be in the chain.
#[derive(Debug, Default, Deserialize)]
pub struct VerifyQuery {
    pub checkpoint_seq: Option<i64>,
    pub checkpoint_hash: Option<String>,
}

/// Walk the whole chain from entry 1 to the recorded head (read first, so entries appended
/// meanwhile are not part of this verification). Returns the entries verified and the outcome.
pub async fn verify_chain(
    store: &dyn Store,
    checkpoint: Option<Checkpoint>,
) -> StoreResult<(i64, Result<Checkpoint, ChainBreak>)> {
    let state = store.release_log_state().await?;
    let mut verifier = ChainVerifier::new().with_checkpoints(checkpoint.into_iter().collect());
    let mut after = 0;
    loop {
        let page = store.release_log(after, state.head.seq, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            if let Err(b) = verifier.push(e) {
                return Ok((verifier.verified(), Err(b)));
            }
        }
    }
    let verified = verifier.verified();
    let end = verifier.finish(Some(&state.head));
    if end.is_ok() && state.outside > 0 {
        return Ok((
            verified,
            Err(ChainBreak::Unchained {
                count: state.outside,
                first_id: state.first_outside_id.unwrap_or_default(),
            }),
        ));
    }
    Ok((verified, end))
}

fn problem_code(b: &ChainBreak) -> (&'static str, Option<i64>) {
    match b {
        ChainBreak::Modified { seq } => ("modified", Some(*seq)),
        ChainBreak::Missing { expected, .. } => ("missing", Some(*expected)),
        ChainBreak::NotLinked { seq } => ("not_linked", Some(*seq)),
        ChainBreak::Unchained { .. } => ("outside_chain", None),
        ChainBreak::Truncated { last, .. } => ("truncated", Some(last + 1)),
        ChainBreak::HeadMismatch { seq } => ("head_mismatch", Some(*seq)),
        ChainBreak::CheckpointMismatch { seq } => ("checkpoint_mismatch", Some(*seq)),
        ChainBreak::CheckpointMissing { seq } => ("checkpoint_missing", Some(*seq)),
    }
}

/// Verify the chain (from the first entry to the head; optionally against an earlier export's
/// head). A broken chain is a 200 with `intact: false` and the first bad entry.
#[utoipa::path(get, path = "/api/v1/log/verify", tag = "release log",
    params(("checkpoint_seq" = Option<i64>, Query, description = "an earlier export's head seq"),
           ("checkpoint_hash" = Option<String>, Query, description = "and its hash")),
    responses((status = 200, body = LogVerification), (status = 400, body = landfall_api_types::ApiError),
              (status = 403, body = landfall_api_types::ApiError)))]
pub async fn verify(
    State(s): State<Shared>,
    caller: Caller,
    Query(q): Query<VerifyQuery>,
) -> HttpResult<Json<LogVerification>> {
    caller.require(None, Role::Read)?;
    let checkpoint = match (q.checkpoint_seq, q.checkpoint_hash) {
        (None, None) => None,
        (Some(seq), Some(hash)) if seq >= 0 => Some(Checkpoint { seq, hash }),
        _ => {
            return Err(HttpError::bad_request(
                "invalid_checkpoint",
                "give both checkpoint_seq (0 or more) and checkpoint_hash (the head of an earlier export), or neither",
            ))
        }
    };
    let (entries, outcome) = verify_chain(s.store.as_ref(), checkpoint).await?;
    Ok(Json(match outcome {
        Ok(head) => LogVerification {
            intact: true,
            entries,
            head_seq: head.seq,
            head_hash: head.hash,
            problem: None,
        },
        Err(b) => {
            let state = s.store.release_log_state().await?;
            let (code, seq) = problem_code(&b);
            tracing::warn!(problem = code, seq, "release log verification failed: {b}");
            LogVerification {
                intact: false,
                entries,
                head_seq: state.head.seq,
                head_hash: state.head.hash,
                problem: Some(LogProblem {
                    code: code.to_owned(),
                    seq,
                    message: b.to_string(),
                }),
            }
        }
    }))
}

/// The public key exports are signed with (`ed25519:<base64>`); give it to auditors out of band.
#[utoipa::path(get, path = "/api/v1/log/public-key", tag = "release log",
    responses((status = 200, body = LogPublicKey), (status = 403, body = landfall_api_types::ApiError)))]
pub async fn public_key(State(s): State<Shared>, caller: Caller) -> HttpResult<Json<LogPublicKey>> {
    caller.require(None, Role::Read)?;
    Ok(Json(LogPublicKey {
        public_key: s.log_key.public_key(),
    }))
}

/// The whole log as signed JSON Lines (a header, one line per entry, a signature line), for an
/// auditor to verify offline (`landfall log verify --file F --public-key K`). A broken chain is
/// never signed: 409 `release_log_broken` names the first bad entry.
#[utoipa::path(get, path = "/api/v1/log/export", tag = "release log",
    responses((status = 200, content_type = "application/x-ndjson", body = String),
              (status = 403, body = landfall_api_types::ApiError),
              (status = 409, body = landfall_api_types::ApiError)))]
pub async fn export(State(s): State<Shared>, caller: Caller) -> HttpResult<Response> {
    caller.require(None, Role::Read)?;
    // Checked first so a broken chain is an error status, not a file cut short.
    let (_, outcome) = verify_chain(s.store.as_ref(), None).await?;
    let head = outcome.map_err(|b| {
        HttpError::conflict(
            "release_log_broken",
            format!(
                "the release log is broken and cannot be signed: {b}; see `landfall log verify`"
            ),
        )
    })?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(4);
    let store = s.store.clone();
    let key = s.log_key.clone();
    // The key is an Arc: the task may outlive the request.
    tokio::spawn(async move {
        let mut writer = ExportWriter::new(&key, landfall_store::now_ms());
        let mut chunk = writer.header() + "\n";
        let mut after = 0;
        let fail = |m: String| Err(std::io::Error::other(m));
        loop {
            let page = match store.release_log(after, head.seq, PAGE).await {
                Ok(p) => p,
                Err(e) => {
                    let _ = tx.send(fail(format!("reading the log failed: {e}"))).await;
                    return;
                }
            };
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in &page {
                match writer.entry(e) {
                    Ok(line) => {
                        chunk.push_str(&line);
                        chunk.push('\n');
                    }
                    Err(b) => {
                        let _ = tx
                            .send(fail(format!("the log changed during the export: {b}")))
                            .await;
                        return;
                    }
                }
            }
            if tx.send(Ok(std::mem::take(&mut chunk))).await.is_err() {
                return;
            }
        }
        match writer.finish(&head) {
            Ok(line) => {
                chunk.push_str(&line);
                chunk.push('\n');
                let _ = tx.send(Ok(chunk)).await;
            }
            Err(b) => {
                let _ = tx
                    .send(fail(format!("the log changed during the export: {b}")))
                    .await;
            }
        }
    });
    let body = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"landfall-release-log.jsonl\"",
            ),
        ],
        body,
    )
        .into_response())
}
