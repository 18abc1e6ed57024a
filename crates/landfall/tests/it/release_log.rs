//! The tamper-evident release log against the real binary, on SQLite and (second pass)
//! PostgreSQL: `landfall log verify` names an edited, an inserted and a deleted entry; a signed
//! export verifies offline and fails once edited; an export taken earlier catches a log rewritten
//! consistently afterwards.

use landfall_core::release_log::LogEntry;

use crate::support::{web_dist, Run, Server};

const APP: &str = "com.example.ledger";

#[track_caller]
fn assert_tampered(r: &Run, needle: &str) {
    assert_eq!(r.code, 7, "{r:#?}");
    assert!(r.stderr.contains(needle), "expected {needle:?} in {r:#?}");
}

/// Entries as stored, read through the API (detail re-encoded; enough to re-seal them).
fn entries(server: &Server) -> Vec<serde_json::Value> {
    let r = server
        .cli(&["--json", "log", "list", "--limit", "1000"])
        .ok();
    r.json().as_array().unwrap().clone()
}

#[tokio::test]
async fn verify_names_the_first_edited_inserted_or_deleted_entry() {
    let server = Server::start().await;
    let work = tempfile::tempdir().unwrap();
    server.cli(&["app", "create", APP]).ok();
    for v in ["1.0.1", "1.0.2"] {
        let dist = web_dist(work.path(), v, v);
        server
            .cli(&[
                "bundle",
                "upload",
                APP,
                &dist,
                "--version",
                v,
                "--channel",
                "production",
            ])
            .ok();
    }
    server
        .cli(&["channel", "set", APP, "production", "--bundle", "1.0.1"])
        .ok();
    let created = server
        .cli(&[
            "--json", "token", "create", "--name", "ci", "--scope", "*:read",
        ])
        .ok()
        .json();
    let id = created["id"].as_i64().unwrap().to_string();
    server.cli(&["token", "revoke", &id]).ok();

    let listed = entries(&server);
    // The first admin token (made at start), the app, two uploads with their channel moves, the
    // move, the token and its revocation.
    let actions: Vec<&str> = listed
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.first(), Some(&"token_create"), "{actions:?}");
    assert_eq!(
        &actions[actions.len() - 2..],
        ["token_create", "token_revoke"]
    );
    let n = listed.len();
    assert!(n >= 7, "{actions:?}");
    let ok = server.cli(&["log", "verify"]).ok();
    assert!(
        ok.stdout
            .contains(&format!("release log intact: {n} entries, head #{n}")),
        "{ok:#?}"
    );

    // An auditor's export, checked offline with the public key alone.
    let key = server
        .cli(&["log", "public-key"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    assert!(key.starts_with("ed25519:"), "{key}");
    let export = work.path().join("log.jsonl");
    let export_s = export.to_str().unwrap();
    server.cli(&["log", "export", "-o", export_s]).ok();
    let offline = crate::support::landfall()
        .args(["log", "verify", "--file", export_s, "--public-key", &key])
        .output()
        .unwrap();
    assert!(offline.status.success(), "{offline:?}");
    // An edited export does not verify.
    let text = std::fs::read_to_string(&export).unwrap();
    let edited = work.path().join("edited.jsonl");
    std::fs::write(&edited, text.replacen("1.0.2", "6.6.6", 1)).unwrap();
    let r = crate::support::run(crate::support::landfall().args([
        "log",
        "verify",
        "--file",
        edited.to_str().unwrap(),
        "--public-key",
        &key,
    ]));
    assert_tampered(&r, "was modified");

    // Edited in the database: entry 3's detail.
    let original: String = listed[2]["detail"].to_string();
    server
        .execute_sql("UPDATE audit_log SET detail = '{\"bundle\":\"6.6.6\"}' WHERE seq = 3")
        .await;
    assert_tampered(&server.cli(&["log", "verify"]), "entry 3 was modified");
    server
        .execute_sql(&format!(
            "UPDATE audit_log SET detail = '{}' WHERE seq = 3",
            original.replace('\'', "''")
        ))
        .await;
    server.cli(&["log", "verify"]).ok();

    // Inserted around the server: a row with no place in the chain, then one claiming a place.
    server
        .execute_sql(
            "INSERT INTO audit_log (app_id, at, actor, action, detail) \
             VALUES ('com.example.ledger', 1, 'token:ci', 'channel_update', '{}')",
        )
        .await;
    assert_tampered(&server.cli(&["log", "verify"]), "outside the chain");
    server
        .execute_sql("DELETE FROM audit_log WHERE seq IS NULL")
        .await;
    server.cli(&["log", "verify"]).ok();
    let forged = LogEntry::seal(
        listed[n - 1]["hash"].as_str().unwrap(),
        n as i64 + 1,
        APP,
        1,
        "token:ci",
        "channel_update",
        "{}",
    );
    server
        .execute_sql(&format!(
            "INSERT INTO audit_log (app_id, at, actor, action, detail, seq, prev_hash, hash) \
             VALUES ('{APP}', 1, 'token:ci', 'channel_update', '{{}}', {}, '{}', '{}')",
            forged.seq, forged.prev_hash, forged.hash
        ))
        .await;
    assert_tampered(&server.cli(&["log", "verify"]), "outside the chain");
    server
        .execute_sql(&format!("DELETE FROM audit_log WHERE seq = {}", n + 1))
        .await;
    server.cli(&["log", "verify"]).ok();

    // Deleted: entry 4, then (after putting the table back) the newest entry.
    let saved = server
        .cli(&["--json", "log", "list", "--limit", "1000"])
        .ok()
        .json();
    assert_eq!(saved.as_array().unwrap().len(), n);
    server
        .execute_sql("CREATE TABLE audit_keep AS SELECT * FROM audit_log")
        .await;
    server
        .execute_sql("DELETE FROM audit_log WHERE seq = 4")
        .await;
    assert_tampered(&server.cli(&["log", "verify"]), "entry 4 is missing");
    server
        .execute_sql(&format!("DELETE FROM audit_log WHERE seq >= {n}"))
        .await;
    server
        .execute_sql("INSERT INTO audit_log SELECT * FROM audit_keep WHERE seq = 4")
        .await;
    assert_tampered(
        &server.cli(&["log", "verify"]),
        &format!("entries after {} were deleted", n - 1),
    );
    server
        .execute_sql(&format!(
            "INSERT INTO audit_log SELECT * FROM audit_keep WHERE seq >= {n}"
        ))
        .await;
    server.cli(&["log", "verify"]).ok();

    // Rewritten consistently from entry 2 on (hashes and head recomputed, as someone with the
    // database and the format could): the server's own check passes, the earlier export does not.
    let mut prev = saved[0]["hash"].as_str().unwrap().to_owned();
    for e in &saved.as_array().unwrap()[1..] {
        let seq = e["seq"].as_i64().unwrap();
        let detail = if seq == 2 {
            "{\"rewritten\":true}".to_owned()
        } else {
            e["detail"].to_string()
        };
        let sealed = LogEntry::seal(
            &prev,
            seq,
            e["app_id"].as_str().unwrap(),
            e["at"].as_i64().unwrap(),
            e["actor"].as_str().unwrap(),
            e["action"].as_str().unwrap(),
            &detail,
        );
        server
            .execute_sql(&format!(
                "UPDATE audit_log SET detail = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {seq}",
                detail.replace('\'', "''"),
                sealed.prev_hash,
                sealed.hash
            ))
            .await;
        prev = sealed.hash;
    }
    server
        .execute_sql(&format!(
            "UPDATE audit_chain SET head = '{prev}' WHERE id = 1"
        ))
        .await;
    server.cli(&["log", "verify"]).ok();
    assert_tampered(
        &server.cli(&["log", "verify", "--against", export_s]),
        "differs from the signed export taken earlier",
    );
}
