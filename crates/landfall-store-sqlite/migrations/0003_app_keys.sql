-- Public keys registered per app (Capgo v2 encryption). Once an app has a key, unsigned uploads are refused.
CREATE TABLE app_keys (
    app_id      TEXT NOT NULL REFERENCES apps(app_id),
    key_id      TEXT NOT NULL,                -- first 20 chars of the PKCS#1 PEM body (what devices send)
    public_pem  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (app_id, key_id)
);
