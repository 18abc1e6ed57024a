-- Landfall schema v8 (people who sign in). Never edit a released migration.

-- A person who signs in to the console. `password_hash` is an argon2id PHC string.
CREATE TABLE users (
    username             TEXT PRIMARY KEY NOT NULL,
    password_hash        TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    created_by           TEXT NOT NULL,
    password_changed_at  INTEGER NOT NULL,
    disabled_at          INTEGER
);

-- A user's grants: one role per app (or `*`).
CREATE TABLE user_roles (
    username  TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    app       TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('viewer', 'releaser', 'admin')),
    PRIMARY KEY (username, app)
);

-- A signed-in browser. Only the sha256 of the session secret is stored.
CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (username);
