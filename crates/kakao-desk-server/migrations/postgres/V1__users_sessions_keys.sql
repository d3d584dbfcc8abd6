-- Kakao Desk server, schema version 1 (PostgreSQL): the same tables as the
-- SQLite schema (migrations/sqlite/V1__users_sessions_keys.sql, which says
-- what each holds). Times are Unix seconds.

CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kakao_id BIGINT UNIQUE,
    created_via TEXT NOT NULL,
    nickname TEXT,
    thumbnail_url TEXT,
    profile_image_url TEXT,
    is_default_image BOOLEAN NOT NULL DEFAULT FALSE,
    email TEXT,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    birthday_year SMALLINT CHECK (birthday_year BETWEEN 1 AND 9999),
    birthday_month SMALLINT CHECK (birthday_month BETWEEN 1 AND 12),
    birthday_day SMALLINT CHECK (birthday_day BETWEEN 1 AND 31),
    birthday_calendar TEXT CHECK (birthday_calendar IN ('solar', 'lunar')),
    birthday_leap_month BOOLEAN NOT NULL DEFAULT FALSE,
    needs_agreement TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK ((birthday_month IS NULL) = (birthday_day IS NULL)),
    CHECK ((birthday_month IS NULL) = (birthday_calendar IS NULL))
);

CREATE UNIQUE INDEX users_verified_email ON users (lower(email)) WHERE email_verified;

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kakao_tokens BYTEA NOT NULL,
    kakao_version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    hash BYTEA PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    private_key BYTEA NOT NULL,
    public_key BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
