//! `/api/v1/users`: people who sign in to the console (server admins only). Passwords are hashed
//! with argon2id; every change is a server-wide audit row written with it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use landfall_api_types::{CreateUser, RoleGrant, SetPassword, UpdateUser, UserInfo};
use landfall_store::users::{parse_user_role, user_role_name, NewUser, User, UserPatch};
use landfall_store::{Role, Scope, StoreError};

use super::auth::Caller;
use super::{password, JsonBody};
use crate::error::{HttpError, HttpResult};
use crate::state::Shared;

/// Longest username.
pub const MAX_USERNAME_CHARS: usize = 64;

/// 1–64 of `A-Z a-z 0-9 . _ - @`, starting with a letter or digit.
pub fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_USERNAME_CHARS
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

fn check_username(name: &str) -> Result<(), HttpError> {
    if valid_username(name) {
        return Ok(());
    }
    Err(HttpError::bad_request(
        "invalid_username",
        format!(
            "username {:?} must be 1-{MAX_USERNAME_CHARS} of A-Z a-z 0-9 . _ - @, starting with a letter or digit",
            landfall_core::clip(name)
        ),
    ))
}

/// A user as the API shows it (never the password hash).
pub fn user_info(u: &User) -> UserInfo {
    UserInfo {
        username: u.username.clone(),
        roles: u
            .roles
            .iter()
            .map(|r| RoleGrant {
                app: r.app.clone(),
                role: user_role_name(r.role).to_owned(),
            })
            .collect(),
        created_at: u.created_at,
        disabled_at: u.disabled_at,
    }
}

/// Check grants: APP is an app id or `*`, ROLE `viewer|releaser|admin`, one role per app.
pub fn parse_grants(grants: &[RoleGrant]) -> Result<Vec<Scope>, HttpError> {
    let mut scopes: Vec<Scope> = Vec::with_capacity(grants.len());
    for g in grants {
        let role = parse_user_role(&g.role).ok_or_else(|| {
            HttpError::bad_request(
                "invalid_role",
                format!(
                    "role {:?} must be viewer, releaser or admin",
                    landfall_core::clip(&g.role)
                ),
            )
        })?;
        if g.app != "*" && !landfall_core::names::is_valid_app_id(&g.app) {
            return Err(HttpError::bad_request(
                "invalid_role",
                format!(
                    "app {:?} must be an app id (com.example.app) or *",
                    landfall_core::clip(&g.app)
                ),
            ));
        }
        if scopes.iter().any(|s| s.app == g.app) {
            return Err(HttpError::bad_request(
                "invalid_role",
                format!(
                    "app {} is given more than one role; give each app one",
                    g.app
                ),
            ));
        }
        scopes.push(Scope {
            app: g.app.clone(),
            role,
        });
    }
    Ok(scopes)
}

fn user_not_found(name: &str) -> impl FnOnce(StoreError) -> HttpError + '_ {
    move |e| match e {
        StoreError::NotFound(_) => HttpError::not_found(
            "user_not_found",
            format!(
                "no user {:?}; see `landfall user list`",
                landfall_core::clip(name)
            ),
        ),
        other => other.into(),
    }
}

/// List users.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = Vec<UserInfo>), (status = 403, body = landfall_api_types::ApiError)))]
pub async fn list(State(s): State<Shared>, caller: Caller) -> HttpResult<Json<Vec<UserInfo>>> {
    caller.require(None, Role::Admin)?;
    Ok(Json(
        s.store.list_users().await?.iter().map(user_info).collect(),
    ))
}

/// Create a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserInfo),
        (status = 400, body = landfall_api_types::ApiError, description = "`invalid_username`, `invalid_role`, `weak_password`"),
        (status = 409, body = landfall_api_types::ApiError, description = "`user_exists`")))]
pub async fn create(
    State(s): State<Shared>,
    caller: Caller,
    body: JsonBody<CreateUser>,
) -> HttpResult<(StatusCode, Json<UserInfo>)> {
    caller.require(None, Role::Admin)?;
    let req = body.parse()?;
    check_username(&req.username)?;
    let roles = parse_grants(&req.roles)?;
    password::check_new(&req.password)?;
    if s.store.get_user(&req.username).await?.is_some() {
        return Err(exists(&req.username));
    }
    let password_hash = password::hash(req.password).await?;
    let user = s
        .store
        .create_user(
            NewUser {
                username: req.username.clone(),
                password_hash,
                roles,
            },
            &caller.actor(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => exists(&req.username),
            other => other.into(),
        })?;
    tracing::info!(user = %user.username, "user created");
    Ok((StatusCode::CREATED, Json(user_info(&user))))
}

fn exists(name: &str) -> HttpError {
    HttpError::conflict(
        "user_exists",
        format!("user {name:?} already exists; change it with PATCH /api/v1/users/{name}"),
    )
}

/// Change a user's roles, or disable (ending every session at once) or enable it.
#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "users", request_body = UpdateUser,
    responses((status = 200, body = UserInfo),
        (status = 400, body = landfall_api_types::ApiError), (status = 404, body = landfall_api_types::ApiError)))]
pub async fn update(
    State(s): State<Shared>,
    caller: Caller,
    Path(username): Path<String>,
    body: JsonBody<UpdateUser>,
) -> HttpResult<Json<UserInfo>> {
    caller.require(None, Role::Admin)?;
    let req = body.parse()?;
    let roles = req.roles.as_deref().map(parse_grants).transpose()?;
    let user = s
        .store
        .update_user(
            &username,
            UserPatch {
                roles,
                disabled: req.disabled,
            },
            &caller.actor(),
        )
        .await
        .map_err(user_not_found(&username))?;
    tracing::info!(user = %user.username, disabled = user.disabled_at.is_some(), "user changed");
    Ok(Json(user_info(&user)))
}

/// Set a user's password (every session of the user ends).
#[utoipa::path(post, path = "/api/v1/users/{username}/password", tag = "users", request_body = SetPassword,
    responses((status = 204), (status = 400, body = landfall_api_types::ApiError, description = "`weak_password`"),
        (status = 404, body = landfall_api_types::ApiError)))]
pub async fn set_password(
    State(s): State<Shared>,
    caller: Caller,
    Path(username): Path<String>,
    body: JsonBody<SetPassword>,
) -> HttpResult<StatusCode> {
    caller.require(None, Role::Admin)?;
    let req = body.parse()?;
    password::check_new(&req.password)?;
    let hash = password::hash(req.password).await?;
    s.store
        .set_user_password(&username, &hash, None, &caller.actor())
        .await
        .map_err(user_not_found(&username))?;
    tracing::info!(user = %username, "password set");
    Ok(StatusCode::NO_CONTENT)
}
