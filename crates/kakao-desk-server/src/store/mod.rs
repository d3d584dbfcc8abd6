//! Storage: one interface ([`Store`]), two implementations.
//!
//! [`SqliteStore`] is the default: an embedded database file, no other
//! service, one server instance. [`PostgresStore`] is for several instances
//! behind a load balancer. Both run the same versioned migrations
//! (`migrations/sqlite`, `migrations/postgres`, applied by refinery at open)
//! and the same test suite (`tests/server`). [`Database`] picks one from a
//! URL.
//!
//! What the interface promises, on both:
//! - [`Store::upsert_kakao_user`] is one transaction, serialised per Kakao id
//!   (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a transaction-scoped advisory
//!   lock on the id), so two concurrent first logins of one id make one user;
//!   the unique constraints stay as the backstop.
//! - A verified email belongs to one account: a Kakao login that brings the
//!   verified email of another account is [`StoreError::EmailTaken`], and
//!   nothing is written.
//! - [`Store::rotate_refresh`] claims a refresh token with one conditional
//!   update, so of two concurrent rotations of one token exactly one wins;
//!   the other sees a used token, which ends the whole session (reuse
//!   detection).

mod postgres;
mod sqlite;
mod types;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use types::{
    KakaoUser, NewSession, RefreshGuard, Rotation, SessionRow, Store, StoreError, StoredKey,
    Upserted, User, UserId,
};

/// The database a URL names: `sqlite:PATH` (or a bare path) or
/// `postgres://…` / `postgresql://…`.
#[derive(Debug, Clone)]
pub enum Database {
    /// The embedded SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL server.
    Postgres(PostgresStore),
}

impl Database {
    /// Opens the database at `url` and applies its migrations. `pool_size`
    /// is PostgreSQL's connection count.
    ///
    /// # Errors
    /// [`StoreError::Url`], [`StoreError::Migration`], or the driver's
    /// failure to connect.
    pub async fn open(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(PostgresStore::open(url, pool_size).await?));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"));
        let path = match path {
            Some(path) => path,
            None if !url.contains("://") => url,
            None => return Err(StoreError::Url),
        };
        if path.is_empty() {
            return Err(StoreError::Url);
        }
        Ok(Self::Sqlite(
            SqliteStore::open(std::path::Path::new(path)).await?,
        ))
    }

    /// `sqlite` or `postgres`, for logs and the health answer.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Forwards each [`Store`] method of [`Database`] to the store inside.
macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $out:ty;)*) => {
        impl Store for Database {
            $(
                async fn $name(&self, $($arg: $ty),*) -> Result<$out, StoreError> {
                    match self {
                        Self::Sqlite(store) => store.$name($($arg),*).await,
                        Self::Postgres(store) => store.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

forward! {
    upsert_kakao_user(user: &KakaoUser, now: i64) -> Upserted;
    insert_user(via: &str, email: &str, email_verified: bool, now: i64) -> UserId;
    user(id: UserId) -> Option<User>;
    user_by_kakao_id(kakao_id: i64) -> Option<User>;
    count_users() -> u64;
    create_session(session: NewSession) -> ();
    session(id: &str) -> Option<SessionRow>;
    replace_kakao_tokens(id: &str, expected_version: i64, sealed: Vec<u8>) -> bool;
    refresh_guard(id: &str) -> RefreshGuard;
    rotate_refresh(old_hash: [u8; 32], new_hash: [u8; 32], now: i64, expires_at: i64) -> Rotation;
    end_session(id: &str, reason: &str, now: i64) -> bool;
    delete_user(id: UserId) -> bool;
    signing_keys() -> Vec<StoredKey>;
    add_signing_key(key: StoredKey) -> ();
    drop_keys_retired_before(before: i64) -> u64;
    ping() -> ();
}
