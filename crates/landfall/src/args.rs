//! The command line surface (clap derive): global options and every subcommand.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{ArgGroup, Args, Parser, Subcommand};

/// Default server URL of the CLI commands.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// Landfall: a self-hosted live-update server for @capgo/capacitor-updater, and its CLI.
#[derive(Debug, Parser)]
#[command(name = "landfall", version)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Base URL of the Landfall server.
    #[arg(long, global = true, env = "LANDFALL_URL", default_value = DEFAULT_URL)]
    pub url: String,
    /// Admin API token (sent as a bearer token; never printed).
    #[arg(long, global = true, env = "LANDFALL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Machine-readable JSON on stdout (errors too, as {"error","message"}).
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the update server (the Capgo plugin endpoints, downloads and the admin API).
    Serve(landfall_server::ServeArgs),
    /// Manage apps.
    #[command(subcommand)]
    App(AppCmd),
    /// Upload, list and delete bundles.
    #[command(subcommand)]
    Bundle(BundleCmd),
    /// Manage channels: what each channel serves, flags, rollouts, rollbacks.
    #[command(subcommand)]
    Channel(ChannelCmd),
    /// Inspect devices and force them onto a channel.
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Manage admin API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Manage people who sign in to the web console (roles viewer, releaser, admin).
    #[command(subcommand)]
    User(UserCmd),
    /// Bundle-signing keys, compatible with `@capgo/cli key`.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Show the content-change audit log of an app.
    Audit(AuditArgs),
    /// The tamper-evident release log: verify the hash chain, export it signed, check an export
    /// offline.
    #[command(subcommand)]
    Log(LogCmd),
    /// Release metrics: active devices, versions, each release's adoption, install success and
    /// duration, failures and health signals (`--json`, `--csv`; Chinese with LANDFALL_LANG=zh).
    Stats(StatsArgs),
    /// Check that the server answers (GET /updates).
    Status,
    /// Run the database migrations (the server also runs them on start) and print the schema
    /// version; `migrate db` copies a database to another engine.
    Migrate(MigrateArgs),
    /// ICP filing (ICP备案) compliance desk: filing, numbers, documents, calendar, compliance,
    /// incidents and the kill switch, records and reports.
    #[command(subcommand)]
    Icp(crate::icp::IcpCmd),
}

/// `landfall migrate`: `--database` wins; else `<data-dir>/landfall.db`. With a subcommand
/// (`landfall migrate db …`), move data instead.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub command: Option<MigrateCmd>,
    /// Metadata database: sqlite://<path> or postgres://user:password@host:5432/db.
    #[arg(
        long,
        env = "LANDFALL_DATABASE",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database: Option<String>,
    /// Data directory whose landfall.db to migrate (locked meanwhile) [default: ./landfall-data].
    #[arg(long, env = "LANDFALL_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// `landfall migrate <what>`: move data between stores.
#[derive(Debug, Subcommand)]
pub enum MigrateCmd {
    /// Copy a metadata database into an empty one, e.g. SQLite to PostgreSQL or back: every
    /// table, rows exactly as they are, then verified (row counts and content hashes). Stop the
    /// server first (the source is read in one snapshot, so a running server's later writes are
    /// not copied).
    Db(MigrateDbArgs),
    /// Copy bundle blobs and ICP documents to another place, e.g. a data directory to an
    /// S3-compatible bucket: every blob hashed on the way and re-read from the target to verify.
    /// Content-addressed, so a copy taken while the server runs is still correct; copy again
    /// with --resume after stopping it to pick up the last uploads.
    Blobs(MigrateBlobsArgs),
}

/// `landfall migrate blobs`.
#[derive(Debug, Args)]
pub struct MigrateBlobsArgs {
    /// Where the blobs are, as `landfall serve --blobs` takes it: file:///<dir> (e.g.
    /// file:///srv/landfall-data/blobs) or s3://<bucket>/<prefix>?endpoint=…&region=….
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// Where they go, as `landfall serve --blobs` will be given it.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// ICP documents to copy from [default: as the server places them: beside a blob directory
    /// (<dir>/../icp-documents) or under <prefix>/icp-documents].
    #[arg(long, value_name = "URL")]
    pub from_documents: Option<String>,
    /// ICP documents to copy to [default: as --from-documents, for --to].
    #[arg(long, value_name = "URL")]
    pub to_documents: Option<String>,
    /// Continue an interrupted copy (blobs already in the target are kept and verified).
    #[arg(long)]
    pub resume: bool,
}

/// `landfall migrate db`.
#[derive(Debug, Args)]
pub struct MigrateDbArgs {
    /// Database to copy from (only read; migrated first if older): sqlite://<path> or
    /// postgres://user:password@host:5432/db.
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// Database to copy into (created or migrated to this binary's schema; must be empty).
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Continue an interrupted copy into the same target (every row it holds must equal the
    /// source's).
    #[arg(long)]
    pub resume: bool,
}

// ---- app ------------------------------------------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum AppCmd {
    /// Register an app (its Capacitor appId).
    Create {
        /// Capacitor appId, e.g. com.example.app.
        app_id: String,
        /// Display name [default: the app id].
        #[arg(long)]
        name: Option<String>,
    },
    /// List the apps the token can read.
    List,
    /// Show one app.
    Show { app_id: String },
    /// Change an app's switches.
    Set {
        app_id: String,
        /// Send bundle `link` and `comment` to devices (off by default, as in Capgo).
        #[arg(long, value_name = "true|false")]
        expose_metadata: Option<bool>,
        /// Store the `custom_id` devices send (on by default; off = never stored).
        #[arg(long, value_name = "true|false")]
        allow_device_custom_id: Option<bool>,
        /// Geo split: devices in mainland China download from <URL>/<sha256> (e.g. the app's
        /// ICP-filed CDN); `none` = the server's setting.
        #[arg(long, value_name = "URL|none")]
        download_base_mainland: Option<String>,
        /// Geo split: devices outside mainland China download from <URL>/<sha256>; `none` = the
        /// server's setting.
        #[arg(long, value_name = "URL|none")]
        download_base_global: Option<String>,
    },
    /// The public keys an app's bundles are signed with.
    #[command(subcommand)]
    Key(AppKeyCmd),
}

#[derive(Debug, Subcommand)]
pub enum AppKeyCmd {
    /// Register a public key (.capgo_key_v2.pub); from then on uploads must be signed with it.
    Add {
        app_id: String,
        /// The public key file [default: ./.capgo_key_v2.pub].
        #[arg(default_value = ".capgo_key_v2.pub")]
        public_key: PathBuf,
    },
    /// List an app's registered public keys.
    List { app_id: String },
    /// Remove a registered public key.
    Remove { app_id: String, key_id: String },
}

// ---- bundle ---------------------------------------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum BundleCmd {
    /// Upload a web build (a directory with index.html at its root, or a zip).
    Upload(UploadArgs),
    /// List the bundles of an app.
    List { app_id: String },
    /// Show one bundle.
    Show { app_id: String, version: String },
    /// Delete a bundle (its version can never be reused).
    Delete { app_id: String, version: String },
    /// Encrypt and sign a bundle zip offline, like `capgo bundle encrypt`: writes
    /// `<ZIP>_encrypted.zip` and prints its `ivSessionKey` and signed `checksum`.
    Encrypt(EncryptArgs),
    /// Decrypt a bundle encrypted by `landfall`/`capgo bundle encrypt`, like `capgo bundle
    /// decrypt`: writes `<ENCRYPTED_ZIP>_decrypted.zip` and checks `--checksum` when given.
    Decrypt(DecryptArgs),
}

#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// The plain bundle zip (e.g. from `capgo bundle zip` or `landfall bundle upload --keep-zip`).
    pub zip: PathBuf,
    /// sha256 hex of the zip (what `capgo bundle zip --json` prints); checked when given.
    #[arg(value_name = "SHA256")]
    pub sha256: Option<String>,
    /// The private key (PKCS#1 PEM) that signs the session key and checksum.
    #[arg(long, value_name = "PRIVATE_KEY", default_value = ".capgo_key_v2")]
    pub key: PathBuf,
}

#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// The encrypted zip.
    pub zip: PathBuf,
    /// The `ivSessionKey` printed when the zip was encrypted (`session_key` in /updates).
    #[arg(value_name = "IV_SESSION_KEY")]
    pub session_key: String,
    /// The public key (PKCS#1 PEM) [default: ./.capgo_key_v2.pub, else the `publicKey` in
    /// ./capacitor.config.json].
    #[arg(long, value_name = "PUBLIC_KEY")]
    pub key: Option<PathBuf>,
    /// The signed checksum printed when the zip was encrypted (or a plain sha256): the decrypted
    /// zip must match it, else nothing is written and the exit code is 1.
    #[arg(long, value_name = "CHECKSUM")]
    pub checksum: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("external").args(["external_url"]).requires("checksum")))]
pub struct UploadArgs {
    /// Capacitor appId.
    pub app_id: String,
    /// The web build directory (webDir, e.g. dist) or a bundle zip.
    #[arg(
        required_unless_present = "external_url",
        conflicts_with = "external_url"
    )]
    pub path: Option<PathBuf>,
    /// Semantic version of the bundle, unique per app forever.
    #[arg(long, short = 'v')]
    pub version: String,
    /// Point this channel at the new bundle (created if missing).
    #[arg(long, short = 'c')]
    pub channel: Option<String>,
    /// Minimum native version, for channels with --disable-auto-update version_number.
    #[arg(long)]
    pub min_update_version: Option<String>,
    /// Link shown to the app with the update (release notes…).
    #[arg(long)]
    pub link: Option<String>,
    /// Comment shown to the app with the update.
    #[arg(long)]
    pub comment: Option<String>,
    /// Encrypt and sign locally with this private key (.capgo_key_v2) before uploading; the
    /// app must have the matching public key registered (`landfall app key add`).
    #[arg(long, value_name = "PRIVATE_KEY", conflicts_with_all = ["session_key", "external_url"])]
    pub key: Option<PathBuf>,
    /// Also publish a delta (per-file manifest) so devices download only changed files.
    #[arg(long, conflicts_with = "external_url")]
    pub delta: bool,
    /// Register a bundle hosted elsewhere at this HTTPS URL instead of uploading.
    #[arg(long, value_name = "URL")]
    pub external_url: Option<String>,
    /// sha256 hex of the external zip, or the signed checksum of a bundle encrypted with
    /// `capgo bundle encrypt` (with --session-key).
    #[arg(long, value_name = "SHA")]
    pub checksum: Option<String>,
    /// `ivSessionKey` printed by `capgo bundle encrypt`: the given zip is then its encrypted output.
    #[arg(long, value_name = "K", requires = "checksum")]
    pub session_key: Option<String>,
    /// Which registered key signed the bundle [default: found by the server].
    #[arg(long, value_name = "ID", conflicts_with = "external_url")]
    pub key_id: Option<String>,
    /// Size of the external zip in bytes, if known.
    #[arg(long, requires = "external_url")]
    pub size: Option<u64>,
    /// Keep the zip made from a directory at this path (it is otherwise a deleted temp file).
    #[arg(long, value_name = "PATH", conflicts_with = "external_url")]
    pub keep_zip: Option<PathBuf>,
}

// ---- channel --------------------------------------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum ChannelCmd {
    /// Create a channel (serving builtin unless --bundle is given).
    Create {
        app_id: String,
        channel: String,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        flags: FlagArgs,
    },
    /// List the channels of an app.
    List { app_id: String },
    /// Show one channel with all its flags.
    Show { app_id: String, channel: String },
    /// Change what a channel serves, its flags, or its rollout.
    Set {
        app_id: String,
        channel: String,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        flags: FlagArgs,
        #[command(flatten)]
        rollout: RolloutArgs,
    },
    /// Point a channel back at the bundle it served before (or --to builtin|VERSION).
    Rollback {
        app_id: String,
        channel: String,
        /// `builtin` or a version [default: the bundle served before].
        #[arg(long, value_name = "builtin|VERSION")]
        to: Option<String>,
    },
    /// Show what a channel served over time (newest first).
    History { app_id: String, channel: String },
}

/// What a channel serves.
#[derive(Debug, Clone, Default, Args)]
#[group(multiple = false)]
pub struct Target {
    /// Serve this bundle version.
    #[arg(long, value_name = "VERSION")]
    pub bundle: Option<String>,
    /// Serve the bundle built into the app (devices revert to it).
    #[arg(long)]
    pub builtin: bool,
}

impl Target {
    /// `Some(version | "builtin")` when one was chosen.
    pub fn chosen(&self) -> Option<String> {
        if self.builtin {
            Some("builtin".to_owned())
        } else {
            self.bundle.clone()
        }
    }
}

/// Every Capgo channel flag; each `--flag` alone means true, `--flag=false` turns it off.
#[derive(Debug, Clone, Default, Args)]
pub struct FlagArgs {
    /// Default channel for devices that did not choose one.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub public: Option<bool>,
    /// Devices may switch themselves to this channel (setChannel).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub allow_device_self_set: Option<bool>,
    /// Serve iOS devices.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub ios: Option<bool>,
    /// Serve Android devices.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub android: Option<bool>,
    /// Serve Electron apps.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub electron: Option<bool>,
    /// Serve emulators/simulators.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub allow_emulator: Option<bool>,
    /// Serve physical devices.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub allow_device: Option<bool>,
    /// Serve development (debuggable / TestFlight) builds.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub allow_dev: Option<bool>,
    /// Serve production (store) builds.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub allow_prod: Option<bool>,
    /// Block updates across this boundary.
    #[arg(long, value_name = "POLICY", value_parser = ["none", "major", "minor", "patch", "version_number"])]
    pub disable_auto_update: Option<String>,
    /// Never serve a bundle older than the native app version.
    #[arg(long, value_name = "BOOL", value_parser = BoolishValueParser::new())]
    pub disable_auto_update_under_native: Option<bool>,
}

impl FlagArgs {
    /// The API patch (absent flags stay unchanged / at the server's default).
    pub fn patch(&self) -> landfall_client::ChannelFlagsPatch {
        landfall_client::ChannelFlagsPatch {
            public: self.public,
            allow_device_self_set: self.allow_device_self_set,
            ios: self.ios,
            android: self.android,
            electron: self.electron,
            allow_emulator: self.allow_emulator,
            allow_device: self.allow_device,
            allow_dev: self.allow_dev,
            allow_prod: self.allow_prod,
            disable_auto_update: self.disable_auto_update.clone(),
            disable_auto_update_under_native: self.disable_auto_update_under_native,
        }
    }
}

/// Progressive rollout of a second bundle on a channel.
#[derive(Debug, Clone, Default, Args)]
pub struct RolloutArgs {
    /// Roll this bundle (or `builtin`) out to a share of the channel's devices.
    #[arg(long, value_name = "VERSION", requires = "rollout_percent", conflicts_with_all = ["rollout_pause", "rollout_resume", "end_rollout"])]
    pub rollout_bundle: Option<String>,
    /// Share of devices (0-100) getting the rollout bundle; alone, changes the running rollout.
    #[arg(long, value_name = "P", value_parser = parse_percent, conflicts_with_all = ["rollout_pause", "rollout_resume", "end_rollout"])]
    pub rollout_percent: Option<f64>,
    /// Pause the running rollout: devices already on its bundle keep it, no new devices join.
    #[arg(long, conflicts_with_all = ["rollout_resume", "end_rollout"])]
    pub rollout_pause: bool,
    /// Resume a paused rollout.
    #[arg(long, conflicts_with = "end_rollout")]
    pub rollout_resume: bool,
    /// End the rollout (the channel serves only its main bundle).
    #[arg(long)]
    pub end_rollout: bool,
}

fn parse_percent(s: &str) -> Result<f64, String> {
    let p: f64 = s
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if !(0.0..=100.0).contains(&p) {
        return Err(format!("{p} is not between 0 and 100"));
    }
    Ok(p)
}

// ---- device ---------------------------------------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum DeviceCmd {
    /// List the devices that checked in.
    List {
        app_id: String,
        /// Substring of the device id or custom id.
        #[arg(long)]
        search: Option<String>,
        /// Only devices on this channel.
        #[arg(long)]
        channel: Option<String>,
        /// Only devices running this bundle version.
        #[arg(long)]
        version: Option<String>,
        /// ios, android or electron.
        #[arg(long)]
        platform: Option<String>,
        /// At most this many devices.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Force a device onto a channel (--channel), or remove that (--clear).
    #[command(group(ArgGroup::new("what").args(["channel", "clear"]).required(true)))]
    Override {
        app_id: String,
        device_id: String,
        /// Channel to force the device onto.
        #[arg(long)]
        channel: Option<String>,
        /// Remove the override.
        #[arg(long)]
        clear: bool,
    },
    /// Why a device gets what it gets: its channel and why, the rollout bucket against the share,
    /// the target, and the rule that answered (Chinese with LANDFALL_LANG=zh).
    Explain { app_id: String, device_id: String },
}

// ---- token ----------------------------------------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create a token; its secret is printed once.
    Create {
        /// What the token is for, e.g. ci-upload.
        #[arg(long)]
        name: String,
        /// APP:ROLE with ROLE read|upload|admin and APP an app id or * (repeatable).
        #[arg(long = "scope", value_name = "APP:ROLE", required = true, value_parser = parse_scope)]
        scopes: Vec<String>,
        /// Mint the token offline, straight into this data directory (rescue when no admin
        /// token is left); refused while a server holds the directory.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// With --data-dir: the server's metadata database when it is not
        /// <data-dir>/landfall.db (sqlite://<path> or postgres://…).
        #[arg(
            long,
            env = "LANDFALL_DATABASE",
            hide_env_values = true,
            value_name = "URL"
        )]
        database: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a user; the password is read from stdin (--password-stdin) or asked for.
    Create {
        /// 1-64 of A-Z a-z 0-9 . _ - @.
        username: String,
        /// APP:ROLE with ROLE viewer|releaser|admin and APP an app id or * (repeatable).
        #[arg(long = "role", value_name = "APP:ROLE", required = true, value_parser = parse_user_role)]
        roles: Vec<String>,
        /// Read the password from the first line of stdin instead of asking for it.
        #[arg(long)]
        password_stdin: bool,
        /// Create the user offline, straight into this data directory (the first user, before
        /// any token); refused while a server holds the directory.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// With --data-dir: the server's metadata database when it is not
        /// <data-dir>/landfall.db (sqlite://<path> or postgres://…).
        #[arg(
            long,
            env = "LANDFALL_DATABASE",
            hide_env_values = true,
            value_name = "URL"
        )]
        database: Option<String>,
    },
    /// List users and their roles (never their passwords).
    List,
    /// Disable a user: every session of it ends at once.
    Disable { username: String },
    /// Set a user's password (every session of it ends).
    Passwd {
        username: String,
        /// Read the password from the first line of stdin instead of asking for it.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn parse_user_role(s: &str) -> Result<String, String> {
    let (app, role) = s.rsplit_once(':').ok_or_else(|| {
        format!("{s:?} is not APP:ROLE (e.g. '*:admin' or com.example.app:releaser)")
    })?;
    if app.is_empty() {
        return Err(format!("{s:?} has no app (use * for every app)"));
    }
    if !matches!(role, "viewer" | "releaser" | "admin") {
        return Err(format!("role {role:?} is not viewer, releaser or admin"));
    }
    Ok(s.to_owned())
}

fn parse_scope(s: &str) -> Result<String, String> {
    let (app, role) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("{s:?} is not APP:ROLE (e.g. com.example.app:upload or *:read)"))?;
    if app.is_empty() {
        return Err(format!("{s:?} has no app (use * for every app)"));
    }
    if !matches!(role, "read" | "upload" | "admin") {
        return Err(format!("role {role:?} is not read, upload or admin"));
    }
    Ok(s.to_owned())
}

// ---- key ------------------------------------------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// Create .capgo_key_v2 and .capgo_key_v2.pub in the current directory (like `capgo key create`).
    Create {
        /// Overwrite existing key files.
        #[arg(long)]
        force: bool,
        /// Directory to write the key files to.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

// ---- stats ----------------------------------------------------------------------------------

#[derive(Debug, Args)]
pub struct StatsArgs {
    pub app_id: String,
    /// Only this bundle's release (with --csv: its adoption curve).
    #[arg(long)]
    pub bundle: Option<String>,
    /// Window: 30d, 12h, 90m, or an epoch-ms time.
    #[arg(long, default_value = "30d")]
    pub since: String,
    /// Only devices and events of this channel.
    #[arg(long)]
    pub channel: Option<String>,
    /// How many of the latest releases [default: 5].
    #[arg(long)]
    pub releases: Option<usize>,
    /// CSV on stdout instead of tables.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
}

// ---- release log ----------------------------------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum LogCmd {
    /// Verify the release log: on the server (every entry from the first to the head), or
    /// offline an exported file with `--file` and `--public-key`. Exits 7 when it is broken,
    /// naming the first bad entry.
    Verify {
        /// An earlier export: its signed head must still be in the server's chain (catches a
        /// log rewritten since).
        #[arg(long, value_name = "FILE", conflicts_with = "file")]
        against: Option<PathBuf>,
        /// Verify this exported file offline (no server), with `--public-key`.
        #[arg(long, value_name = "FILE", requires = "public_key")]
        file: Option<PathBuf>,
        /// The server's public key (`ed25519:…`, from `landfall log public-key`), or a file
        /// holding it.
        #[arg(long, value_name = "KEY")]
        public_key: Option<String>,
    },
    /// Write the whole log as signed JSON Lines for an auditor.
    Export {
        /// Where to write it (`-` for stdout).
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Print the public key exports are signed with (give it to auditors out of band).
    PublicKey,
    /// List entries in chain order.
    List {
        /// Entries after this number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// At most this many (up to 1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

// ---- audit ----------------------------------------------------------------------------------

#[derive(Debug, Args)]
pub struct AuditArgs {
    pub app_id: String,
    /// Only entries at or after this time (epoch milliseconds).
    #[arg(long)]
    pub from: Option<i64>,
    /// Only entries before this time (epoch milliseconds).
    #[arg(long)]
    pub to: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn optional_bool_flags() {
        let cli = Cli::try_parse_from([
            "landfall",
            "channel",
            "set",
            "com.x",
            "beta",
            "--public",
            "--ios=false",
            "--allow-dev=yes",
            "--disable-auto-update",
            "major",
            "--disable-auto-update-under-native",
            "false",
        ])
        .unwrap();
        let Command::Channel(ChannelCmd::Set { flags, target, .. }) = cli.command else {
            panic!()
        };
        let p = flags.patch();
        assert_eq!(p.public, Some(true));
        assert_eq!(p.ios, Some(false));
        assert_eq!(p.allow_dev, Some(true));
        assert_eq!(p.android, None);
        assert_eq!(p.disable_auto_update.as_deref(), Some("major"));
        assert_eq!(p.disable_auto_update_under_native, Some(false));
        assert_eq!(target.chosen(), None);
    }

    #[test]
    fn bundle_and_builtin_conflict() {
        let r = Cli::try_parse_from([
            "landfall",
            "channel",
            "set",
            "a.b",
            "c",
            "--bundle",
            "1.0.0",
            "--builtin",
        ]);
        assert!(r.is_err());
    }

    #[test]
    fn scopes_are_checked() {
        assert!(parse_scope("*:admin").is_ok());
        assert!(parse_scope("com.x:upload").is_ok());
        assert!(parse_scope("com.x").is_err());
        assert!(parse_scope("com.x:owner").is_err());
    }

    #[test]
    fn upload_needs_a_path_or_external_url() {
        assert!(
            Cli::try_parse_from(["landfall", "bundle", "upload", "a.b", "--version", "1"]).is_err()
        );
        assert!(
            Cli::try_parse_from([
                "landfall",
                "bundle",
                "upload",
                "a.b",
                "--version",
                "1",
                "--external-url",
                "https://x/y.zip"
            ])
            .is_err(),
            "--checksum is required with --external-url"
        );
        assert!(Cli::try_parse_from([
            "landfall",
            "bundle",
            "upload",
            "a.b",
            "--version",
            "1",
            "--external-url",
            "https://x/y.zip",
            "--checksum",
            "ab"
        ])
        .is_ok());
    }
}
