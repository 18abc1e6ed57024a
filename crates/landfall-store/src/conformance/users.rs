//! The users-and-sessions story every backend runs ([`users_story`]).

use crate::users::{NewSession, NewUser, UserPatch};
use crate::{Role, Scope, Store, StoreError};

fn scope(app: &str, role: Role) -> Scope {
    Scope {
        app: app.into(),
        role,
    }
}

fn session(id: &str, user: &str, now: i64) -> NewSession {
    NewSession {
        id_hash: id.repeat(32),
        username: user.into(),
        csrf_token: format!("csrf-{id}"),
        created_at: now,
        expires_at: now + 1000,
    }
}

/// Users, grants, sessions and their audit rows; panics on the first deviation.
pub async fn users_story(s: &dyn Store) {
    assert_eq!(s.count_users().await.unwrap(), 0);
    let alice = s
        .create_user(
            NewUser {
                username: "alice".into(),
                password_hash: "$argon2id$v=19$fake-a".into(),
                roles: vec![
                    scope("com.example.app", Role::Upload),
                    scope("*", Role::Read),
                ],
            },
            "token:admin",
        )
        .await
        .unwrap();
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.created_by, "token:admin");
    assert_eq!(alice.disabled_at, None);
    assert_eq!(alice.password_changed_at, alice.created_at);
    // Grants come back ordered by app.
    assert_eq!(
        alice.roles,
        vec![
            scope("*", Role::Read),
            scope("com.example.app", Role::Upload)
        ]
    );
    let again = s
        .create_user(
            NewUser {
                username: "alice".into(),
                password_hash: "x".into(),
                roles: vec![],
            },
            "token:admin",
        )
        .await;
    assert!(
        matches!(&again, Err(StoreError::Conflict(m)) if m.contains("alice")),
        "{again:?}"
    );
    // Two roles on one app are refused, and nothing of the user is left behind.
    let twice = s
        .create_user(
            NewUser {
                username: "bob".into(),
                password_hash: "x".into(),
                roles: vec![scope("*", Role::Read), scope("*", Role::Admin)],
            },
            "token:admin",
        )
        .await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    assert!(s.get_user("bob").await.unwrap().is_none());
    s.create_user(
        NewUser {
            username: "bob".into(),
            password_hash: "$argon2id$v=19$fake-b".into(),
            roles: vec![scope("*", Role::Admin)],
        },
        "user:alice",
    )
    .await
    .unwrap();
    assert_eq!(s.count_users().await.unwrap(), 2);
    let listed = s.list_users().await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>(),
        ["alice", "bob"]
    );
    assert_eq!(listed[0], alice);
    assert_eq!(listed[1].roles, vec![scope("*", Role::Admin)]);
    assert_eq!(s.get_user("alice").await.unwrap(), Some(alice.clone()));
    assert_eq!(s.get_user("nobody").await.unwrap(), None);

    // Sessions.
    let now = crate::now_ms();
    let a1 = s.create_session(session("a1", "alice", now)).await.unwrap();
    assert_eq!(a1.last_seen_at, now);
    assert_eq!(a1.expires_at, now + 1000);
    s.create_session(session("a2", "alice", now)).await.unwrap();
    s.create_session(session("a3", "alice", now)).await.unwrap();
    s.create_session(session("b1", "bob", now)).await.unwrap();
    assert!(matches!(
        s.create_session(session("zz", "nobody", now)).await,
        Err(StoreError::NotFound(_))
    ));
    let (found, user) = s.find_session(&"a1".repeat(32)).await.unwrap().unwrap();
    assert_eq!(found, a1);
    assert_eq!(user.username, "alice");
    assert!(s.find_session(&"00".repeat(32)).await.unwrap().is_none());
    s.touch_session(&a1.id_hash, now + 50).await.unwrap();
    // Touching never moves last_seen back.
    s.touch_session(&a1.id_hash, now + 10).await.unwrap();
    let (found, _) = s.find_session(&a1.id_hash).await.unwrap().unwrap();
    assert_eq!(found.last_seen_at, now + 50);
    assert!(s.delete_session(&a1.id_hash).await.unwrap());
    assert!(!s.delete_session(&a1.id_hash).await.unwrap());
    assert!(s.find_session(&a1.id_hash).await.unwrap().is_none());

    // A password change ends every other session of the user, keeping the one named.
    s.set_user_password(
        "alice",
        "$argon2id$v=19$fake-a2",
        Some(&"a2".repeat(32)),
        "user:alice",
    )
    .await
    .unwrap();
    assert!(s.find_session(&"a2".repeat(32)).await.unwrap().is_some());
    assert!(s.find_session(&"a3".repeat(32)).await.unwrap().is_none());
    assert!(s.find_session(&"b1".repeat(32)).await.unwrap().is_some());
    let changed = s.get_user("alice").await.unwrap().unwrap();
    assert_eq!(changed.password_hash, "$argon2id$v=19$fake-a2");
    assert!(changed.password_changed_at >= alice.password_changed_at);
    assert!(matches!(
        s.set_user_password("nobody", "x", None, "admin").await,
        Err(StoreError::NotFound(_))
    ));

    // New roles replace the old; disabling ends every session at once; enabling keeps none.
    let bob = s
        .update_user(
            "bob",
            UserPatch {
                roles: Some(vec![scope("com.example.app", Role::Read)]),
                disabled: None,
            },
            "user:alice",
        )
        .await
        .unwrap();
    assert_eq!(bob.roles, vec![scope("com.example.app", Role::Read)]);
    assert_eq!(bob.disabled_at, None);
    let bob = s
        .update_user(
            "bob",
            UserPatch {
                roles: None,
                disabled: Some(true),
            },
            "user:alice",
        )
        .await
        .unwrap();
    let disabled_at = bob.disabled_at.expect("disabled");
    assert!(s.find_session(&"b1".repeat(32)).await.unwrap().is_none());
    // Disabling again keeps the first time.
    let bob = s
        .update_user(
            "bob",
            UserPatch {
                roles: None,
                disabled: Some(true),
            },
            "user:alice",
        )
        .await
        .unwrap();
    assert_eq!(bob.disabled_at, Some(disabled_at));
    let bob = s
        .update_user(
            "bob",
            UserPatch {
                roles: None,
                disabled: Some(false),
            },
            "user:alice",
        )
        .await
        .unwrap();
    assert_eq!(bob.disabled_at, None);
    assert_eq!(bob.roles, vec![scope("com.example.app", Role::Read)]);
    assert!(matches!(
        s.update_user("nobody", UserPatch::default(), "admin").await,
        Err(StoreError::NotFound(_))
    ));

    // Signing out everywhere, and pruning expired or idle sessions.
    s.create_session(session("b2", "bob", now)).await.unwrap();
    s.create_session(session("b3", "bob", now)).await.unwrap();
    assert_eq!(s.delete_user_sessions("bob").await.unwrap(), 2);
    assert_eq!(s.delete_user_sessions("bob").await.unwrap(), 0);
    s.create_session(session("c1", "bob", now)).await.unwrap(); // expires at now + 1000
    s.create_session(NewSession {
        expires_at: now + 10_000,
        ..session("c2", "bob", now)
    })
    .await
    .unwrap();
    s.touch_session(&"c2".repeat(32), now + 600).await.unwrap();
    // At now + 1000: c1 expired; a2 (last seen at now) is idle before now + 500.
    assert_eq!(s.prune_sessions(now + 1000, now + 500).await.unwrap(), 2);
    assert!(s.find_session(&"c2".repeat(32)).await.unwrap().is_some());
    assert!(s.find_session(&"a2".repeat(32)).await.unwrap().is_none());

    // Every change is a server-wide audit row; no password hash in any of them.
    let audit: Vec<_> = s
        .list_audit("*", 0, i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action.starts_with("user_"))
        .collect();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user_create",
            "user_create",
            "user_password",
            "user_update",
            "user_update",
            "user_update",
            "user_update"
        ]
    );
    assert_eq!(audit[0].actor, "token:admin");
    assert_eq!(
        audit[0].detail,
        serde_json::json!({"username": "alice", "roles": [
            {"app": "com.example.app", "role": "releaser"}, {"app": "*", "role": "viewer"}]})
    );
    assert_eq!(audit[2].detail["sessions_ended"], 1);
    assert_eq!(audit[4].detail["sessions_ended"], 1);
    assert!(audit
        .iter()
        .all(|a| !a.detail.to_string().contains("argon2")));
}
