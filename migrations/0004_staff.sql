-- City staff: accounts, sessions, API keys, the workflow as data, the audit log and the mail outbox.
CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    login         text NOT NULL UNIQUE,          -- an email address, lower-cased
    name          text NOT NULL,
    password_hash text NOT NULL,                 -- argon2id, PHC string
    roles         text[] NOT NULL CHECK (roles <@ ARRAY['admin', 'unit_staff', 'consultant', 'analyst']::text[]),
    units         text[] NOT NULL DEFAULT '{}',  -- units a unit_staff member works for
    lang          text NOT NULL DEFAULT 'pl',
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Only the SHA-256 of a session token is stored: a database dump does not log anyone in.
CREATE TABLE sessions (
    token_hash  text PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed logins, for rate limiting per account and per address.
CREATE TABLE login_failures (
    id     bigserial PRIMARY KEY,
    login  text NOT NULL,
    ip     text NOT NULL,
    at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_login ON login_failures (login, at);
CREATE INDEX login_failures_ip ON login_failures (ip, at);

-- Keys for apps (Open311) and analysts' tools; only the SHA-256 of a key is stored.
CREATE TABLE api_keys (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    key_hash    text NOT NULL UNIQUE,
    role        text NOT NULL CHECK (role IN ('open311', 'analyst')),
    disabled    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
