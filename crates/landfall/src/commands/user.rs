//! `landfall user create|list|disable|passwd`: people who sign in to the web console.
//!
//! Passwords never appear in argv: they come from the first line of stdin (`--password-stdin`)
//! or from a prompt on the terminal without echo.

use std::io::BufRead;

use anyhow::{Context, Result};
use landfall_client::{CreateUser, RoleGrant, UpdateUser, UserInfo};

use super::Ctx;
use crate::args::UserCmd;
use crate::output::{self, Lang, Table};

/// `APP:ROLE` (already checked by clap) as the API's grant.
fn grant(raw: &str) -> RoleGrant {
    let (app, role) = raw.rsplit_once(':').unwrap_or(("", raw));
    RoleGrant {
        app: app.to_owned(),
        role: role.to_owned(),
    }
}

fn roles_text(roles: &[RoleGrant]) -> String {
    roles
        .iter()
        .map(|r| format!("{}:{}", r.app, r.role))
        .collect::<Vec<_>>()
        .join(",")
}

/// The new password: the first line of stdin, or asked twice on the terminal.
fn read_password(username: &str, from_stdin: bool, lang: Lang) -> Result<String> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        let prompt = match lang {
            Lang::En => format!("Password for {username}: "),
            Lang::Zh => format!("{username} 的密码："),
        };
        let first = rpassword::prompt_password(prompt)
            .context("cannot ask for the password (no terminal?); pass it with --password-stdin")?;
        let again = rpassword::prompt_password(lang.pick("Repeat it: ", "再输入一次："))
            .context("cannot ask for the password again")?;
        if first != again {
            anyhow::bail!(
                "{}",
                lang.pick(
                    "the two passwords differ; nothing was changed",
                    "两次输入的密码不一致，未做任何更改"
                )
            );
        }
        first
    };
    landfall_server::admin::password::check_new(&password).map_err(|rule| match lang {
        Lang::En => anyhow::anyhow!("{rule}"),
        Lang::Zh => anyhow::anyhow!(
            "密码至少需要 {} 个字符，最多 {} 字节",
            landfall_server::admin::password::MIN_PASSWORD_CHARS,
            landfall_server::admin::password::MAX_PASSWORD_BYTES
        ),
    })?;
    Ok(password)
}

/// `landfall user create --data-dir DIR`: open the store directly (the data-dir lock keeps a
/// running server out) and insert the user; the audit row is written with it.
async fn create_offline(
    ctx: &Ctx,
    dir: &std::path::Path,
    database: Option<&str>,
    username: &str,
    roles: &[RoleGrant],
    password: String,
    lang: Lang,
) -> Result<()> {
    use landfall_server::store::DatabaseUrl;
    let url = match database {
        Some(raw) => DatabaseUrl::parse(raw)?,
        None => DatabaseUrl::default_for(dir),
    };
    if let DatabaseUrl::Sqlite(path) = &url {
        if !path.exists() {
            anyhow::bail!(
                "{} does not exist: is {} the server's --data-dir (and --database its database)? \
                 Start `landfall serve --data-dir {}` once first",
                path.display(),
                dir.display(),
                dir.display()
            );
        }
    }
    if !landfall_server::admin::users::valid_username(username) {
        anyhow::bail!("username {username:?} must be 1-64 of A-Z a-z 0-9 . _ - @, starting with a letter or digit");
    }
    let scopes = landfall_server::admin::users::parse_grants(roles)
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let _lock = landfall_server::datadir::lock(dir)?;
    let store = landfall_server::store::open(&url)
        .await
        .with_context(|| format!("cannot open the database {url}"))?
        .store;
    let password_hash = landfall_server::admin::password::hash(password)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let actor = format!(
        "offline:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    );
    let user = store
        .create_user(
            landfall_store::users::NewUser {
                username: username.to_owned(),
                password_hash,
                roles: scopes,
            },
            &actor,
        )
        .await
        .with_context(|| format!("cannot create user {username:?}"))?;
    let info = landfall_server::admin::users::user_info(&user);
    ctx.emit(&info, || created(&info, lang, Some(dir)))
}

fn created(u: &UserInfo, lang: Lang, dir: Option<&std::path::Path>) {
    let roles = roles_text(&u.roles);
    match (lang, dir) {
        (Lang::En, None) => outln!("Created user {} with roles {roles}", u.username),
        (Lang::En, Some(d)) => outln!(
            "Created user {} with roles {roles} directly in {}",
            u.username,
            d.display()
        ),
        (Lang::Zh, None) => outln!("已创建用户 {}，角色 {roles}", u.username),
        (Lang::Zh, Some(d)) => outln!(
            "已直接在 {} 中创建用户 {}，角色 {roles}",
            d.display(),
            u.username
        ),
    }
}

pub async fn run(ctx: &Ctx, cmd: UserCmd) -> Result<()> {
    let lang = Lang::from_env();
    match cmd {
        UserCmd::Create {
            username,
            roles,
            password_stdin,
            data_dir,
            database,
        } => {
            let roles: Vec<RoleGrant> = roles.iter().map(|r| grant(r)).collect();
            let password = read_password(&username, password_stdin, lang)?;
            if let Some(dir) = &data_dir {
                return create_offline(
                    ctx,
                    dir,
                    database.as_deref(),
                    &username,
                    &roles,
                    password,
                    lang,
                )
                .await;
            }
            let user = ctx
                .client()?
                .create_user(&CreateUser {
                    username: username.clone(),
                    password,
                    roles,
                })
                .await
                .with_context(|| format!("cannot create user {username:?}"))?;
            ctx.emit(&user, || created(&user, lang, None))
        }
        UserCmd::List => {
            let users = ctx
                .client()?
                .list_users()
                .await
                .context("cannot list users")?;
            ctx.emit(&users, || {
                let header = match lang {
                    Lang::En => ["USERNAME", "ROLES", "CREATED", "DISABLED"],
                    Lang::Zh => ["用户名", "角色", "创建时间", "停用时间"],
                };
                let mut t = Table::new(&header);
                for u in &users {
                    t.row(vec![
                        u.username.clone(),
                        roles_text(&u.roles),
                        output::time(u.created_at),
                        u.disabled_at
                            .map(output::time)
                            .unwrap_or_else(|| "-".into()),
                    ]);
                }
                t.print(lang.pick("no users", "没有用户"));
            })
        }
        UserCmd::Disable { username } => {
            let user = ctx
                .client()?
                .update_user(
                    &username,
                    &UpdateUser {
                        roles: None,
                        disabled: Some(true),
                    },
                )
                .await
                .with_context(|| format!("cannot disable user {username:?}"))?;
            ctx.emit(&user, || match lang {
                Lang::En => outln!("Disabled user {username}; every session of it ended"),
                Lang::Zh => outln!("已停用用户 {username}，其所有会话已结束"),
            })
        }
        UserCmd::Passwd {
            username,
            password_stdin,
        } => {
            let password = read_password(&username, password_stdin, lang)?;
            ctx.client()?
                .set_user_password(&username, &password)
                .await
                .with_context(|| format!("cannot set the password of {username:?}"))?;
            let value = serde_json::json!({ "username": username, "password_changed": true });
            ctx.emit(&value, || match lang {
                Lang::En => outln!("Changed the password of {username}; every session of it ended"),
                Lang::Zh => outln!("已修改用户 {username} 的密码，其所有会话已结束"),
            })
        }
    }
}
