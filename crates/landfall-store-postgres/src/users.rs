//! PostgreSQL implementation of [`UserStore`] (tables of `migrations/0005_users.sql`).

use async_trait::async_trait;
use landfall_store::rows::backend;
use landfall_store::users::{
    parse_user_role, user_role_name, NewSession, NewUser, Session, User, UserPatch, UserStore,
};
use landfall_store::{now_ms, Scope, StoreError, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

use crate::{db, PgStore};

type Tx = Transaction<'static, Postgres>;

fn roles_json(roles: &[Scope]) -> serde_json::Value {
    roles
        .iter()
        .map(|r| serde_json::json!({"app": r.app, "role": user_role_name(r.role)}))
        .collect()
}

fn scope_of(r: &PgRow) -> StoreResult<Scope> {
    let role: String = r.get("role");
    Ok(Scope {
        app: r.get("app"),
        role: parse_user_role(&role)
            .ok_or_else(|| backend(std::io::Error::other(format!("unknown user role {role:?}"))))?,
    })
}

fn user_of(r: &PgRow, roles: Vec<Scope>) -> User {
    User {
        username: r.get("username"),
        password_hash: r.get("password_hash"),
        roles,
        created_at: r.get("created_at"),
        created_by: r.get("created_by"),
        password_changed_at: r.get("password_changed_at"),
        disabled_at: r.get("disabled_at"),
    }
}

fn session_of(r: &PgRow) -> Session {
    Session {
        id_hash: r.get("id_hash"),
        username: r.get("username"),
        csrf_token: r.get("csrf_token"),
        created_at: r.get("created_at"),
        last_seen_at: r.get("last_seen_at"),
        expires_at: r.get("expires_at"),
    }
}

fn no_user(username: &str) -> StoreError {
    StoreError::NotFound(format!("user {username}"))
}

impl PgStore {
    async fn roles_of<'e, E>(exec: E, username: &str) -> StoreResult<Vec<Scope>>
    where
        E: sqlx::Executor<'e, Database = Postgres>,
    {
        let rows = sqlx::query("SELECT app, role FROM user_roles WHERE username = $1 ORDER BY app")
            .bind(username)
            .fetch_all(exec)
            .await
            .map_err(db)?;
        rows.iter().map(scope_of).collect()
    }

    async fn put_roles(tx: &mut Tx, username: &str, roles: &[Scope]) -> StoreResult<()> {
        sqlx::query("DELETE FROM user_roles WHERE username = $1")
            .bind(username)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
        for r in roles {
            sqlx::query("INSERT INTO user_roles (username, app, role) VALUES ($1, $2, $3)")
                .bind(username)
                .bind(&r.app)
                .bind(user_role_name(r.role))
                .execute(&mut **tx)
                .await
                .map_err(|e| match db(e) {
                    StoreError::Conflict(_) => {
                        StoreError::Conflict(format!("more than one role for app {} given", r.app))
                    }
                    other => other,
                })?;
        }
        Ok(())
    }

    /// The user, its row locked for the rest of the transaction (concurrent changes queue).
    async fn user_in(tx: &mut Tx, username: &str) -> StoreResult<User> {
        let row = sqlx::query("SELECT * FROM users WHERE username = $1 FOR UPDATE")
            .bind(username)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db)?
            .ok_or_else(|| no_user(username))?;
        let roles = Self::roles_of(&mut **tx, username).await?;
        Ok(user_of(&row, roles))
    }
}

#[async_trait]
impl UserStore for PgStore {
    async fn create_user(&self, new: NewUser, actor: &str) -> StoreResult<User> {
        let mut tx = self.begin_write().await.map_err(db)?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO users (username, password_hash, created_at, created_by, password_changed_at) \
             VALUES ($1, $2, $3, $4, $3)",
        )
        .bind(&new.username)
        .bind(&new.password_hash)
        .bind(now)
        .bind(actor)
        .execute(&mut *tx)
        .await
        .map_err(|e| match db(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("user {} already exists", new.username))
            }
            other => other,
        })?;
        Self::put_roles(&mut tx, &new.username, &new.roles).await?;
        Self::audit(
            &mut tx,
            "*",
            actor,
            "user_create",
            serde_json::json!({"username": new.username, "roles": roles_json(&new.roles)}),
        )
        .await?;
        let user = Self::user_in(&mut tx, &new.username).await?;
        tx.commit().await.map_err(db)?;
        Ok(user)
    }

    async fn get_user(&self, username: &str) -> StoreResult<Option<User>> {
        let Some(row) = sqlx::query("SELECT * FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
        else {
            return Ok(None);
        };
        let roles = Self::roles_of(&self.pool, username).await?;
        Ok(Some(user_of(&row, roles)))
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY username")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        let grants =
            sqlx::query("SELECT username, app, role FROM user_roles ORDER BY username, app")
                .fetch_all(&self.pool)
                .await
                .map_err(db)?;
        let mut users = Vec::with_capacity(rows.len());
        for r in &rows {
            let name: String = r.get("username");
            let roles = grants
                .iter()
                .filter(|g| g.get::<&str, _>("username") == name)
                .map(scope_of)
                .collect::<StoreResult<Vec<_>>>()?;
            users.push(user_of(r, roles));
        }
        Ok(users)
    }

    async fn count_users(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(db)
    }

    async fn update_user(
        &self,
        username: &str,
        patch: UserPatch,
        actor: &str,
    ) -> StoreResult<User> {
        let mut tx = self.begin_write().await.map_err(db)?;
        let before = Self::user_in(&mut tx, username).await?;
        let mut detail = serde_json::json!({"username": username});
        if let Some(roles) = &patch.roles {
            Self::put_roles(&mut tx, username, roles).await?;
            detail["roles"] = roles_json(roles);
        }
        if let Some(disabled) = patch.disabled {
            let at = match (disabled, before.disabled_at) {
                (true, Some(at)) => Some(at),
                (true, None) => Some(now_ms()),
                (false, _) => None,
            };
            sqlx::query("UPDATE users SET disabled_at = $1 WHERE username = $2")
                .bind(at)
                .bind(username)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            if disabled {
                let ended = sqlx::query("DELETE FROM sessions WHERE username = $1")
                    .bind(username)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                detail["sessions_ended"] = ended.rows_affected().into();
            }
            detail["disabled"] = disabled.into();
        }
        Self::audit(&mut tx, "*", actor, "user_update", detail).await?;
        let user = Self::user_in(&mut tx, username).await?;
        tx.commit().await.map_err(db)?;
        Ok(user)
    }

    async fn set_user_password(
        &self,
        username: &str,
        password_hash: &str,
        keep: Option<&str>,
        actor: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await.map_err(db)?;
        let changed = sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE username = $3",
        )
        .bind(password_hash)
        .bind(now_ms())
        .bind(username)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if changed.rows_affected() == 0 {
            return Err(no_user(username));
        }
        let ended = sqlx::query(
            "DELETE FROM sessions WHERE username = $1 AND ($2::text IS NULL OR id_hash <> $2)",
        )
        .bind(username)
        .bind(keep)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        Self::audit(
            &mut tx,
            "*",
            actor,
            "user_password",
            serde_json::json!({"username": username, "sessions_ended": ended.rows_affected()}),
        )
        .await?;
        tx.commit().await.map_err(db)
    }

    async fn create_session(&self, new: NewSession) -> StoreResult<Session> {
        let row = sqlx::query(
            "INSERT INTO sessions (id_hash, username, csrf_token, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $4, $5) RETURNING *",
        )
        .bind(&new.id_hash)
        .bind(&new.username)
        .bind(&new.csrf_token)
        .bind(new.created_at)
        .bind(new.expires_at)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => no_user(&new.username),
            _ => db(e),
        })?;
        Ok(session_of(&row))
    }

    async fn find_session(&self, id_hash: &str) -> StoreResult<Option<(Session, User)>> {
        let Some(row) = sqlx::query("SELECT * FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
        else {
            return Ok(None);
        };
        let session = session_of(&row);
        Ok(self
            .get_user(&session.username)
            .await?
            .map(|user| (session, user)))
    }

    async fn touch_session(&self, id_hash: &str, at: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2 AND last_seen_at < $1",
        )
        .bind(at)
        .bind(id_hash)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(r.rows_affected() > 0)
    }

    async fn delete_user_sessions(&self, username: &str) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE username = $1")
            .bind(username)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(r.rows_affected())
    }

    async fn prune_sessions(&self, now: i64, idle_before: i64) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2")
            .bind(now)
            .bind(idle_before)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(r.rows_affected())
    }
}
