//! `landfall token create|list|revoke`.

use anyhow::{Context, Result};
use landfall_client::CreateToken;

use super::Ctx;
use crate::args::TokenCmd;
use crate::output::{self, Table};

pub async fn run(ctx: &Ctx, cmd: TokenCmd) -> Result<()> {
    let client = ctx.client()?;
    match cmd {
        TokenCmd::Create { name, scopes } => {
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
