//! [`Store`] on an embedded SQLite file (rusqlite).
//!
//! One connection behind a mutex, used on tokio's blocking threads: SQLite
//! writes one transaction at a time whatever the connection count, and every
//! operation here is a short transaction. WAL journal with `synchronous =
//! FULL`, so an answered login or rotation survives a power cut; foreign
//! keys on. One server process per file: several instances need
//! PostgreSQL.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};

use super::types::{
    KakaoUser, NewSession, RefreshGuard, Rotation, SessionRow, Store, StoreError, StoredKey,
    Upserted, User, UserId, birthday_from_parts, birthday_parts, join_scopes, split_scopes,
};

mod embedded {
    refinery::embed_migrations!("migrations/sqlite");
}

/// The SQLite store. Clones share the connection.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    path: Arc<Path>,
}

const USER_COLUMNS: &str = "id, kakao_id, created_via, nickname, thumbnail_url, profile_image_url, \
     is_default_image, email, email_verified, birthday_year, birthday_month, birthday_day, \
     birthday_calendar, birthday_leap_month, needs_agreement, created_at, updated_at";

impl SqliteStore {
    /// Opens (or creates) the database file at `path` and migrates it.
    ///
    /// # Errors
    /// The file cannot be opened, or [`StoreError::Migration`].
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut conn = Connection::open(&path).map_err(db)?;
            conn.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            )
            .map_err(db)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .map_err(db)?;
            embedded::migrations::runner()
                .run(&mut conn)
                .map_err(|e| StoreError::Migration(e.to_string()))?;
            Ok(Self {
                conn: Arc::new(Mutex::new(conn)),
                path: path.into(),
            })
        })
        .await
        .map_err(|e| StoreError::Database(e.to_string()))?
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves no half transaction
            // behind (rusqlite rolls back on drop), so the connection is
            // still good.
            let mut conn = conn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Database(e.to_string()))?
    }
}

fn db(error: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(failure, Some(message)) = &error
        && failure.code == ErrorCode::ConstraintViolation
        && message.contains("email")
    {
        return StoreError::EmailTaken;
    }
    StoreError::Database(error.to_string())
}

fn read_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        kakao_id: row.get(1)?,
        created_via: row.get(2)?,
        nickname: row.get(3)?,
        thumbnail_url: row.get(4)?,
        profile_image_url: row.get(5)?,
        is_default_image: row.get(6)?,
        email: row.get(7)?,
        email_verified: row.get(8)?,
        birthday: birthday_from_parts((
            row.get(9)?,
            row.get(10)?,
            row.get(11)?,
            row.get(12)?,
            row.get(13)?,
        )),
        needs_agreement: split_scopes(&row.get::<_, String>(14)?),
        created_at: row.get(15)?,
        updated_at: row.get(16)?,
    })
}

fn user_where(conn: &Connection, clause: &str, value: i64) -> Result<Option<User>, StoreError> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE {clause} = ?1"),
        [value],
        read_user,
    )
    .optional()
    .map_err(db)
}

fn email_taken(conn: &Connection, email: &str, kakao_id: Option<i64>) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM users WHERE email_verified = 1 AND lower(email) = lower(?1) \
         AND (kakao_id IS NULL OR kakao_id IS NOT ?2))",
        params![email, kakao_id],
        |row| row.get(0),
    )
    .map_err(db)
}

impl Store for SqliteStore {
    async fn upsert_kakao_user(&self, user: &KakaoUser, now: i64) -> Result<Upserted, StoreError> {
        let user = user.clone();
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            if user.email_verified
                && let Some(email) = &user.email
                && email_taken(&tx, email, Some(user.kakao_id))?
            {
                return Err(StoreError::EmailTaken);
            }
            let (year, month, day, calendar, leap) = birthday_parts(user.birthday.as_ref());
            let existing = user_where(&tx, "kakao_id", user.kakao_id)?;
            let values = params![
                user.kakao_id,
                user.nickname,
                user.thumbnail_url,
                user.profile_image_url,
                user.is_default_image,
                user.email,
                user.email_verified,
                year,
                month,
                day,
                calendar,
                leap,
                join_scopes(&user.needs_agreement),
                now,
            ];
            let id: UserId = if let Some(existing) = &existing {
                tx.execute(
                    "UPDATE users SET nickname = ?2, thumbnail_url = ?3, profile_image_url = ?4, \
                     is_default_image = ?5, email = ?6, email_verified = ?7, birthday_year = ?8, \
                     birthday_month = ?9, birthday_day = ?10, birthday_calendar = ?11, \
                     birthday_leap_month = ?12, needs_agreement = ?13, updated_at = ?14 \
                     WHERE kakao_id = ?1",
                    values,
                )
                .map_err(db)?;
                existing.id
            } else {
                tx.query_row(
                    "INSERT INTO users (kakao_id, created_via, nickname, thumbnail_url, \
                     profile_image_url, is_default_image, email, email_verified, birthday_year, \
                     birthday_month, birthday_day, birthday_calendar, birthday_leap_month, \
                     needs_agreement, created_at, updated_at) \
                     VALUES (?1, 'kakao', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14) \
                     RETURNING id",
                    values,
                    |row| row.get(0),
                )
                .map_err(db)?
            };
            let stored = user_where(&tx, "id", id)?
                .ok_or_else(|| StoreError::Database("the upserted user is gone".into()))?;
            tx.commit().map_err(db)?;
            Ok(Upserted {
                user: stored,
                created: existing.is_none(),
            })
        })
        .await
    }

    async fn insert_user(
        &self,
        via: &str,
        email: &str,
        email_verified: bool,
        now: i64,
    ) -> Result<UserId, StoreError> {
        let (via, email) = (via.to_owned(), email.to_owned());
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            if email_verified && email_taken(&tx, &email, None)? {
                return Err(StoreError::EmailTaken);
            }
            let id = tx
                .query_row(
                    "INSERT INTO users (created_via, email, email_verified, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?4) RETURNING id",
                    params![via, email, email_verified, now],
                    |row| row.get(0),
                )
                .map_err(db)?;
            tx.commit().map_err(db)?;
            Ok(id)
        })
        .await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.with(move |conn| user_where(conn, "id", id)).await
    }

    async fn user_by_kakao_id(&self, kakao_id: i64) -> Result<Option<User>, StoreError> {
        self.with(move |conn| user_where(conn, "kakao_id", kakao_id))
            .await
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        self.with(|conn| {
            let count: i64 = conn
                .query_row("SELECT count(*) FROM users", [], |row| row.get(0))
                .map_err(db)?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
        .await
    }

    async fn create_session(&self, session: NewSession) -> Result<(), StoreError> {
        self.with(move |conn| {
            let tx = conn.transaction().map_err(db)?;
            tx.execute(
                "INSERT INTO sessions (id, user_id, kakao_tokens, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![session.id, session.user_id, session.kakao_tokens, session.now],
            )
            .map_err(db)?;
            tx.execute(
                "INSERT INTO refresh_tokens (hash, session_id, issued_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    session.refresh_hash.as_slice(),
                    session.id,
                    session.now,
                    session.refresh_expires_at
                ],
            )
            .map_err(db)?;
            tx.commit().map_err(db)
        })
        .await
    }

    async fn session(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        let id = id.to_owned();
        self.with(move |conn| {
            conn.query_row(
                "SELECT id, user_id, kakao_tokens, kakao_version, revoked_at IS NOT NULL \
                 FROM sessions WHERE id = ?1",
                [id],
                |row| {
                    Ok(SessionRow {
                        id: row.get(0)?,
                        user_id: row.get(1)?,
                        kakao_tokens: row.get(2)?,
                        kakao_version: row.get(3)?,
                        ended: row.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn replace_kakao_tokens(
        &self,
        id: &str,
        expected_version: i64,
        sealed: Vec<u8>,
    ) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.with(move |conn| {
            let changed = conn
                .execute(
                    "UPDATE sessions SET kakao_tokens = ?3, kakao_version = kakao_version + 1 \
                     WHERE id = ?1 AND kakao_version = ?2",
                    params![id, expected_version, sealed],
                )
                .map_err(db)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn refresh_guard(&self, _id: &str) -> Result<RefreshGuard, StoreError> {
        // One instance per file: the in-process lock is the whole guard.
        Ok(RefreshGuard::default())
    }

    async fn rotate_refresh(
        &self,
        old_hash: [u8; 32],
        new_hash: [u8; 32],
        now: i64,
        expires_at: i64,
    ) -> Result<Rotation, StoreError> {
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            let found: Option<(String, i64, Option<i64>, i64, bool)> = tx
                .query_row(
                    "SELECT r.session_id, r.expires_at, r.used_at, s.user_id, s.revoked_at IS NOT NULL \
                     FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.hash = ?1",
                    [old_hash.as_slice()],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
                )
                .optional()
                .map_err(db)?;
            let Some((session_id, token_expires, used_at, user_id, ended)) = found else {
                return Ok(Rotation::Unknown);
            };
            let rotation = if ended {
                Rotation::Ended
            } else if used_at.is_some() {
                tx.execute(
                    "UPDATE sessions SET revoked_at = ?2, revoked_reason = 'reuse' \
                     WHERE id = ?1 AND revoked_at IS NULL",
                    params![session_id, now],
                )
                .map_err(db)?;
                Rotation::Reused
            } else if token_expires <= now {
                Rotation::Expired
            } else {
                tx.execute(
                    "UPDATE refresh_tokens SET used_at = ?2 WHERE hash = ?1 AND used_at IS NULL",
                    params![old_hash.as_slice(), now],
                )
                .map_err(db)?;
                tx.execute(
                    "INSERT INTO refresh_tokens (hash, session_id, issued_at, expires_at) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![new_hash.as_slice(), session_id, now, expires_at],
                )
                .map_err(db)?;
                Rotation::Rotated {
                    session_id,
                    user_id,
                }
            };
            tx.commit().map_err(db)?;
            Ok(rotation)
        })
        .await
    }

    async fn end_session(&self, id: &str, reason: &str, now: i64) -> Result<bool, StoreError> {
        let (id, reason) = (id.to_owned(), reason.to_owned());
        self.with(move |conn| {
            let changed = conn
                .execute(
                    "UPDATE sessions SET revoked_at = ?2, revoked_reason = ?3 \
                     WHERE id = ?1 AND revoked_at IS NULL",
                    params![id, now, reason],
                )
                .map_err(db)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn delete_user(&self, id: UserId) -> Result<bool, StoreError> {
        self.with(move |conn| {
            // Sessions and refresh tokens go with it (ON DELETE CASCADE).
            let changed = conn
                .execute("DELETE FROM users WHERE id = ?1", [id])
                .map_err(db)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.with(|conn| {
            let mut statement = conn
                .prepare(
                    "SELECT kid, private_key, public_key, created_at, retired_at FROM signing_keys \
                     ORDER BY created_at, kid",
                )
                .map_err(db)?;
            let keys = statement
                .query_map([], |row| {
                    Ok(StoredKey {
                        kid: row.get(0)?,
                        private_key: row.get(1)?,
                        public_key: row.get(2)?,
                        created_at: row.get(3)?,
                        retired_at: row.get(4)?,
                    })
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            Ok(keys)
        })
        .await
    }

    async fn add_signing_key(&self, key: StoredKey) -> Result<(), StoreError> {
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            tx.execute(
                "UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL",
                [key.created_at],
            )
            .map_err(db)?;
            tx.execute(
                "INSERT INTO signing_keys (kid, private_key, public_key, created_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![key.kid, key.private_key, key.public_key, key.created_at],
            )
            .map_err(db)?;
            tx.commit().map_err(db)
        })
        .await
    }

    async fn drop_keys_retired_before(&self, before: i64) -> Result<u64, StoreError> {
        self.with(move |conn| {
            let gone = conn
                .execute(
                    "DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?1",
                    [before],
                )
                .map_err(db)?;
            Ok(gone as u64)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(db))
            .await
    }
}
