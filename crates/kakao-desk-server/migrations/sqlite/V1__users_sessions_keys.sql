-- Kakao Desk server, schema version 1 (SQLite). Times are Unix seconds.

-- One row per person. `kakao_id` is Kakao's 64-bit user id; a user who
-- signed up through another provider has none. The birthday is a date in
-- parts: a year only when Kakao gave one, a lunar date with its leap-month
-- flag, and no birthday at all when Kakao's was not a real date.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    kakao_id INTEGER UNIQUE,
    created_via TEXT NOT NULL,
    nickname TEXT,
    thumbnail_url TEXT,
    profile_image_url TEXT,
    is_default_image INTEGER NOT NULL DEFAULT 0 CHECK (is_default_image IN (0, 1)),
    email TEXT,
    email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
    birthday_year INTEGER CHECK (birthday_year BETWEEN 1 AND 9999),
    birthday_month INTEGER CHECK (birthday_month BETWEEN 1 AND 12),
    birthday_day INTEGER CHECK (birthday_day BETWEEN 1 AND 31),
    birthday_calendar TEXT CHECK (birthday_calendar IN ('solar', 'lunar')),
    birthday_leap_month INTEGER NOT NULL DEFAULT 0 CHECK (birthday_leap_month IN (0, 1)),
    needs_agreement TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((birthday_month IS NULL) = (birthday_day IS NULL)),
    CHECK ((birthday_month IS NULL) = (birthday_calendar IS NULL))
);

-- A verified email belongs to one account, whichever provider made it.
CREATE UNIQUE INDEX users_verified_email ON users (lower(email)) WHERE email_verified = 1;

-- One row per signed-in device (a refresh token family). Kakao's tokens for
-- that login, sealed with the server's key (AEAD, the session id as
-- associated data); `kakao_version` orders their refreshes.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kakao_tokens BLOB NOT NULL,
    kakao_version INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_reason TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Refresh tokens, only as SHA-256 hashes. A used one stays, so that
-- presenting it again is recognised as reuse.
CREATE TABLE refresh_tokens (
    hash BLOB PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- The access tokens' signing keys (Ed25519). The private key is sealed with
-- the server's key; a retired key still verifies until its last token has
-- expired.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    private_key BLOB NOT NULL,
    public_key BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);
