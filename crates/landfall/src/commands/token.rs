//! `landfall token create|list|revoke`.

use anyhow::{Context, Result};
use landfall_client::CreateToken;

use super::Ctx;
use crate::args::TokenCmd;
use crate::output::{self, Table};

/// `landfall token create --data-dir DIR`: open the store directly (the data-dir lock keeps a
/// running server out), insert the token, write a server-wide audit row, print the secret once.
async fn create_offline(
    ctx: &Ctx,
    dir: &std::path::Path,
    database: Option<&str>,
    name: &str,
    scopes: &[String],
) -> Result<()> {
    use landfall_server::store::DatabaseUrl;
    let url = match database {
        Some(raw) => DatabaseUrl::parse(raw)?,
        None => DatabaseUrl::default_for(dir),
    };
    if let DatabaseUrl::Sqlite(path) = &url {
        if !path.exists() {
            anyhow::bail!(
                "{} does not exist: is {} the server's --data-dir (and --database its database)?",
                path.display(),
                dir.display()
            );
        }
    }
    let _lock = landfall_server::datadir::lock(dir)?;
    let parsed = scopes
        .iter()
        .map(|raw| {
            landfall_store::Scope::parse(raw)
                .ok_or_else(|| anyhow::anyhow!("scope {raw:?} must be APP:ROLE"))
        })
        .collect::<Result<Vec<_>>>()?;
    let store = landfall_server::store::open(&url)
        .await
        .with_context(|| format!("cannot open the database {url}"))?
        .store;
    let secret = landfall_server::admin::auth::new_token();
    let actor = format!(
        "offline:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    );
    let t = store
        .create_token(
            name,
            &landfall_server::admin::auth::hash_token(&secret),
            &parsed,
            &actor,
        )
        .await?;
    let value =
        serde_json::json!({ "id": t.id, "name": t.name, "scopes": scopes, "token": secret });
    ctx.emit(&value, || {
        eprintln!(
            "Created token {} ({}) with scopes {} directly in {}",
            t.id,
            t.name,
            scopes.join(", "),
            dir.display()
        );
        eprintln!("This is the only time the secret is shown; store it now:");
        outln!("{secret}");
    })
}

pub async fn run(ctx: &Ctx, cmd: TokenCmd) -> Result<()> {
    if let TokenCmd::Create {
        name,
        scopes,
        data_dir: Some(dir),
        database,
    } = &cmd
    {
        return create_offline(ctx, dir, database.as_deref(), name, scopes).await;
    }
    let client = ctx.client()?;
    match cmd {
        TokenCmd::Create { name, scopes, .. } => {
            let created = client
                .create_token(&CreateToken {
                    name: name.clone(),
                    scopes,
                })
                .await
                .with_context(|| format!("cannot create token {name:?}"))?;
            ctx.emit(&created, || {
                let info = &created.info;
                eprintln!(
                    "Created token {} ({}) with scopes {}",
                    info.id,
                    info.name,
                    info.scopes.join(", ")
                );
                eprintln!("This is the only time the secret is shown; store it now:");
                outln!("{}", created.token);
            })
        }
        TokenCmd::List => {
            let tokens = client.list_tokens().await.context("cannot list tokens")?;
            ctx.emit(&tokens, || {
                let mut t = Table::new(&["ID", "NAME", "SCOPES", "CREATED", "REVOKED"]);
                for tok in &tokens {
                    t.row(vec![
                        tok.id.to_string(),
                        tok.name.clone(),
                        tok.scopes.join(","),
                        output::time(tok.created_at),
                        tok.revoked_at
                            .map(output::time)
                            .unwrap_or_else(|| "-".into()),
                    ]);
                }
                t.print("no tokens");
            })
        }
        TokenCmd::Revoke { id } => {
            client
                .revoke_token(id)
                .await
                .with_context(|| format!("cannot revoke token {id}"))?;
            let value = serde_json::json!({ "revoked": id });
            ctx.emit(&value, || outln!("Revoked token {id}"))
        }
    }
}
