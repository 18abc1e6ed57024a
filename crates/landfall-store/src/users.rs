//! People who sign in to the console: users, their role grants, and their sessions.
//!
//! [`UserStore`] is a supertrait of [`crate::Store`]: the one store object of every backend serves
//! it, and handlers reach it through the same `Arc<dyn Store>`. Passwords are stored as argon2id
//! PHC strings (hashed by the server, never here); a session is stored only as the sha256 of its
//! secret. Every change to a user (creation, roles, disabling, password) writes a server-wide
//! audit row (`app_id = "*"`) in the same transaction, and disabling a user or changing a
//! password ends sessions in that transaction too: no request can act with them afterwards.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Role, Scope, StoreResult};

/// The role names users are granted (`viewer` = read, `releaser` = upload, `admin` = admin).
pub fn user_role_name(role: Role) -> &'static str {
    match role {
        Role::Read => "viewer",
        Role::Upload => "releaser",
        Role::Admin => "admin",
    }
}

/// Parse `viewer|releaser|admin`.
pub fn parse_user_role(name: &str) -> Option<Role> {
    match name {
        "viewer" => Some(Role::Read),
        "releaser" => Some(Role::Upload),
        "admin" => Some(Role::Admin),
        _ => None,
    }
}

/// A user as stored (the password hash included: never send it anywhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Grants, ordered by app.
    pub roles: Vec<Scope>,
    pub created_at: i64,
    pub created_by: String,
    pub password_changed_at: i64,
    pub disabled_at: Option<i64>,
}

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub roles: Vec<Scope>,
}

/// A change to a user; `None` leaves that part as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    /// Replace every grant.
    pub roles: Option<Vec<Scope>>,
    /// `true` disables (ending every session), `false` enables again.
    pub disabled: Option<bool>,
}

/// A session to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// sha256 (hex) of the session secret.
    pub id_hash: String,
    pub username: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id_hash: String,
    pub username: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// Absolute expiry (epoch ms).
    pub expires_at: i64,
}

/// Users and sessions (see the module docs).
#[async_trait]
pub trait UserStore: Send + Sync {
    /// `Conflict` if the username is taken. Audited as `user_create`.
    async fn create_user(&self, new: NewUser, actor: &str) -> StoreResult<User>;
    async fn get_user(&self, username: &str) -> StoreResult<Option<User>>;
    /// Ordered by username.
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    async fn count_users(&self) -> StoreResult<i64>;
    /// Change roles and/or the disabled flag (`NotFound` for an unknown user). Disabling ends
    /// every session of the user in the same transaction. Audited as `user_update`.
    async fn update_user(&self, username: &str, patch: UserPatch, actor: &str)
        -> StoreResult<User>;
    /// Store a new password hash and end every session of the user except `keep` (a session's
    /// `id_hash`), in one transaction. Audited as `user_password`.
    async fn set_user_password(
        &self,
        username: &str,
        password_hash: &str,
        keep: Option<&str>,
        actor: &str,
    ) -> StoreResult<()>;

    /// `NotFound` if the user does not exist.
    async fn create_session(&self, new: NewSession) -> StoreResult<Session>;
    /// The session and its user.
    async fn find_session(&self, id_hash: &str) -> StoreResult<Option<(Session, User)>>;
    /// Record use of a session (its idle expiry counts from `at`).
    async fn touch_session(&self, id_hash: &str, at: i64) -> StoreResult<()>;
    /// End one session; returns whether it existed.
    async fn delete_session(&self, id_hash: &str) -> StoreResult<bool>;
    /// End every session of a user; returns how many.
    async fn delete_user_sessions(&self, username: &str) -> StoreResult<u64>;
    /// Forget sessions past their absolute expiry or idle since before `idle_before`.
    async fn prune_sessions(&self, now: i64, idle_before: i64) -> StoreResult<u64>;
}
