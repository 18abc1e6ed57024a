//! `landfall key create`: `.capgo_key_v2` / `.capgo_key_v2.pub` exactly like `@capgo/cli key create`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use super::Ctx;
use crate::args::KeyCmd;
use crate::failure::{CliError, EXIT_CONFLICT};

/// File name of the private key, as the Capgo CLI names it.
pub const PRIVATE_KEY_FILE: &str = ".capgo_key_v2";
/// File name of the public key, as the Capgo CLI names it.
pub const PUBLIC_KEY_FILE: &str = ".capgo_key_v2.pub";

pub fn run(ctx: &Ctx, cmd: KeyCmd) -> Result<()> {
    match cmd {
        KeyCmd::Create { force, dir } => create(ctx, &dir, force),
    }
}

fn create(ctx: &Ctx, dir: &Path, force: bool) -> Result<()> {
    let private_path = dir.join(PRIVATE_KEY_FILE);
    let public_path = dir.join(PUBLIC_KEY_FILE);
    if !force {
        for path in [&private_path, &public_path] {
            if path.exists() {
                return Err(CliError::new(
                    EXIT_CONFLICT,
                    "key_exists",
                    format!(
                        "{} already exists; bundles signed with it would no longer verify on \
                         devices that have its public key. Pass --force to replace it",
                        path.display()
                    ),
                )
                .into());
            }
        }
    }
    let pair = landfall_crypto::generate_keypair().context("cannot generate an RSA key pair")?;
    write_file(&private_path, pair.private_pem.as_bytes(), 0o600, force)?;
    write_file(&public_path, pair.public_pem.as_bytes(), 0o644, force)?;
    let key_id = landfall_crypto::key_id(&pair.public_pem);
    let snippet = landfall_crypto::capacitor_config_snippet(&pair.public_pem);

    if ctx.json() {
        let config: serde_json::Value =
            serde_json::from_str(&snippet).context("capacitor config snippet is not JSON")?;
        let value = serde_json::json!({
            "key_id": key_id,
            "private_key_path": private_path,
            "public_key_path": public_path,
            "public_key": pair.public_pem,
            "capacitor_config": config,
        });
        return crate::output::json(&value);
    }
    outln!(
        "Private key saved in {} (keep it secret: never commit it)",
        private_path.display()
    );
    outln!("Public key saved in {}", public_path.display());
    outln!("Key id: {key_id}");
    outln!("Add the public key to capacitor.config.json (then `npx cap sync`):");
    out!("{snippet}");
    Ok(())
}

/// Writes `data` with `mode` (unix); with `force` an existing file is replaced (and re-moded),
/// without it an existing file is an error.
fn write_file(path: &Path, data: &[u8], mode: u32, force: bool) -> Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    let mut file = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set the permissions of {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    file.write_all(data)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}
