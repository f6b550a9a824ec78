-- One row per (client, data center, org, user): the stored Zoho connection.
-- Tokens are AES-256-GCM ciphertexts ("<key id>:<base64>"), never plaintext.
CREATE TABLE connections (
    id                TEXT PRIMARY KEY,
    client_id         TEXT NOT NULL,
    dc                TEXT NOT NULL,
    org_zgid          TEXT NOT NULL,
    user_zuid         TEXT NOT NULL,
    email             TEXT NOT NULL,
    org_name          TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    status            TEXT NOT NULL,
    refresh_token     TEXT,
    access_token      TEXT,
    access_expires_at BIGINT,
    generation        BIGINT NOT NULL,
    last_refresh_at   BIGINT,
    lease_until       BIGINT NOT NULL DEFAULT 0,
    lease_holder      TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (client_id, dc, org_zgid, user_zuid)
);
