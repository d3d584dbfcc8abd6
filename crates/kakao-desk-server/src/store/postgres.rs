//! [`Store`] on PostgreSQL (tokio-postgres, a deadpool pool).
//!
//! For several server instances behind a load balancer: every rule the
//! interface promises holds across instances, because it is the database
//! that enforces it (an advisory lock per Kakao id for the upsert, one
//! conditional `UPDATE … RETURNING` to claim a refresh token, a version
//! check for Kakao token refreshes). The connection is plain TCP or a Unix
//! socket (`host=/run/postgresql`); put the database on loopback or a
//! private network (README, "Backend mode").

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

use super::types::{
    KakaoUser, NewSession, REFRESH_LOCK, RefreshGuard, Rotation, SessionRow, Store, StoreError,
    StoredKey, Upserted, User, UserId, birthday_from_parts, birthday_parts, join_scopes,
    split_scopes,
};

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// The PostgreSQL store. Clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

const USER_COLUMNS: &str = "id, kakao_id, created_via, nickname, thumbnail_url, profile_image_url, \
     is_default_image, email, email_verified, birthday_year, birthday_month, birthday_day, \
     birthday_calendar, birthday_leap_month, needs_agreement, created_at, updated_at";

/// The advisory lock key of migrations.
const MIGRATION_LOCK: i32 = 0x6b64_7330; // "kds0"

/// The advisory lock class of upserts (the first key of the two-key form).
const UPSERT_LOCK: i32 = 0x6b64_7331; // "kds1"

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`),
    /// applies the migrations on one connection, then opens a pool of
    /// `pool_size` connections.
    ///
    /// # Errors
    /// The server cannot be reached or refuses, or [`StoreError::Migration`].
    pub async fn open(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url.parse().map_err(|_| StoreError::Url)?;
        let (mut client, connection) = config.connect(NoTls).await.map_err(db)?;
        let driver = tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::warn!(%error, "migration connection ended");
            }
        });
        // refinery takes no lock of its own: instances starting together
        // take turns (the lock ends with this connection).
        client
            .execute("SELECT pg_advisory_lock($1)", &[&i64::from(MIGRATION_LOCK)])
            .await
            .map_err(db)?;
        let migrated = embedded::migrations::runner()
            .run_async(&mut client)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()));
        drop(client);
        let _ = driver.await;
        migrated?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .build()
            .map_err(|e| StoreError::Database(e.to_string()))?;
        Ok(Self { pool })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Database(e.to_string()))
    }
}

fn db(error: tokio_postgres::Error) -> StoreError {
    if error.code() == Some(&SqlState::UNIQUE_VIOLATION)
        && error
            .as_db_error()
            .and_then(|e| e.constraint())
            .is_some_and(|c| c.contains("email"))
    {
        return StoreError::EmailTaken;
    }
    // The driver's Display is only "db error"; the server's message and
    // code say what happened (they name no parameter values).
    match error.as_db_error() {
        Some(db) => StoreError::Database(format!("{} ({})", db.message(), db.code().code())),
        None => StoreError::Database(format!("{error}: {:?}", std::error::Error::source(&error))),
    }
}

fn read_user(row: &Row) -> User {
    User {
        id: row.get(0),
        kakao_id: row.get(1),
        created_via: row.get(2),
        nickname: row.get(3),
        thumbnail_url: row.get(4),
        profile_image_url: row.get(5),
        is_default_image: row.get(6),
        email: row.get(7),
        email_verified: row.get(8),
        birthday: birthday_from_parts((
            row.get::<_, Option<i16>>(9).map(i64::from),
            row.get::<_, Option<i16>>(10).map(i64::from),
            row.get::<_, Option<i16>>(11).map(i64::from),
            row.get(12),
            row.get(13),
        )),
        needs_agreement: split_scopes(row.get(14)),
        created_at: row.get(15),
        updated_at: row.get(16),
    }
}

async fn user_where(
    client: &impl GenericClient,
    clause: &str,
    value: i64,
) -> Result<Option<User>, StoreError> {
    let row = client
        .query_opt(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE {clause} = $1"),
            &[&value],
        )
        .await
        .map_err(db)?;
    Ok(row.as_ref().map(read_user))
}

async fn email_taken(
    client: &impl GenericClient,
    email: &str,
    kakao_id: Option<i64>,
) -> Result<bool, StoreError> {
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM users WHERE email_verified AND lower(email) = lower($1) \
             AND (kakao_id IS NULL OR kakao_id IS DISTINCT FROM $2))",
            &[&email, &kakao_id],
        )
        .await
        .map_err(db)?;
    Ok(row.get(0))
}

fn small(value: Option<i64>) -> Option<i16> {
    // Birthday parts are 1..=9999 by construction.
    value.and_then(|v| i16::try_from(v).ok())
}

impl Store for PostgresStore {
    async fn upsert_kakao_user(&self, user: &KakaoUser, now: i64) -> Result<Upserted, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        // Serialises logins of one Kakao id across every instance until
        // commit; other ids proceed in parallel.
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2::text))",
            &[&UPSERT_LOCK, &user.kakao_id.to_string()],
        )
        .await
        .map_err(db)?;
        if user.email_verified
            && let Some(email) = &user.email
            && email_taken(&tx, email, Some(user.kakao_id)).await?
        {
            return Err(StoreError::EmailTaken);
        }
        let (year, month, day, calendar, leap) = birthday_parts(user.birthday.as_ref());
        let (year, month, day) = (small(year), small(month), small(day));
        let scopes = join_scopes(&user.needs_agreement);
        let existing = user_where(&tx, "kakao_id", user.kakao_id).await?;
        let values: [&(dyn tokio_postgres::types::ToSql + Sync); 14] = [
            &user.kakao_id,
            &user.nickname,
            &user.thumbnail_url,
            &user.profile_image_url,
            &user.is_default_image,
            &user.email,
            &user.email_verified,
            &year,
            &month,
            &day,
            &calendar,
            &leap,
            &scopes,
            &now,
        ];
        let row = if existing.is_some() {
            tx.query_one(
                &format!(
                    "UPDATE users SET nickname = $2, thumbnail_url = $3, profile_image_url = $4, \
                     is_default_image = $5, email = $6, email_verified = $7, birthday_year = $8, \
                     birthday_month = $9, birthday_day = $10, birthday_calendar = $11, \
                     birthday_leap_month = $12, needs_agreement = $13, updated_at = $14 \
                     WHERE kakao_id = $1 RETURNING {USER_COLUMNS}"
                ),
                &values,
            )
            .await
        } else {
            tx.query_one(
                &format!(
                    "INSERT INTO users (kakao_id, created_via, nickname, thumbnail_url, \
                     profile_image_url, is_default_image, email, email_verified, birthday_year, \
                     birthday_month, birthday_day, birthday_calendar, birthday_leap_month, \
                     needs_agreement, created_at, updated_at) \
                     VALUES ($1, 'kakao', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) \
                     RETURNING {USER_COLUMNS}"
                ),
                &values,
            )
            .await
        }
        .map_err(db)?;
        let stored = read_user(&row);
        tx.commit().await.map_err(db)?;
        Ok(Upserted {
            user: stored,
            created: existing.is_none(),
        })
    }

    async fn insert_user(
        &self,
        via: &str,
        email: &str,
        email_verified: bool,
        now: i64,
    ) -> Result<UserId, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        if email_verified && email_taken(&tx, email, None).await? {
            return Err(StoreError::EmailTaken);
        }
        let row = tx
            .query_one(
                "INSERT INTO users (created_via, email, email_verified, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) RETURNING id",
                &[&via, &email, &email_verified, &now],
            )
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(row.get(0))
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let client = self.client().await?;
        user_where(&client, "id", id).await
    }

    async fn user_by_kakao_id(&self, kakao_id: i64) -> Result<Option<User>, StoreError> {
        let client = self.client().await?;
        user_where(&client, "kakao_id", kakao_id).await
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        let row = self
            .client()
            .await?
            .query_one("SELECT count(*) FROM users", &[])
            .await
            .map_err(db)?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    async fn create_session(&self, session: NewSession) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        tx.execute(
            "INSERT INTO sessions (id, user_id, kakao_tokens, created_at) VALUES ($1, $2, $3, $4)",
            &[
                &session.id,
                &session.user_id,
                &session.kakao_tokens,
                &session.now,
            ],
        )
        .await
        .map_err(db)?;
        tx.execute(
            "INSERT INTO refresh_tokens (hash, session_id, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
            &[
                &session.refresh_hash.as_slice(),
                &session.id,
                &session.now,
                &session.refresh_expires_at,
            ],
        )
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn session(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT id, user_id, kakao_tokens, kakao_version, revoked_at IS NOT NULL \
                 FROM sessions WHERE id = $1",
                &[&id],
            )
            .await
            .map_err(db)?;
        Ok(row.map(|row| SessionRow {
            id: row.get(0),
            user_id: row.get(1),
            kakao_tokens: row.get(2),
            kakao_version: row.get(3),
            ended: row.get(4),
        }))
    }

    async fn replace_kakao_tokens(
        &self,
        id: &str,
        expected_version: i64,
        sealed: Vec<u8>,
    ) -> Result<bool, StoreError> {
        let changed = self
            .client()
            .await?
            .execute(
                "UPDATE sessions SET kakao_tokens = $3, kakao_version = kakao_version + 1 \
                 WHERE id = $1 AND kakao_version = $2",
                &[&id, &expected_version, &sealed],
            )
            .await
            .map_err(db)?;
        Ok(changed == 1)
    }

    async fn refresh_guard(&self, id: &str) -> Result<RefreshGuard, StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "SELECT pg_advisory_lock($1, hashtext($2::text))",
                &[&REFRESH_LOCK, &id],
            )
            .await
            .map_err(db)?;
        Ok(RefreshGuard {
            held: Some((client, id.to_owned())),
        })
    }

    async fn rotate_refresh(
        &self,
        old_hash: [u8; 32],
        new_hash: [u8; 32],
        now: i64,
        expires_at: i64,
    ) -> Result<Rotation, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let old = old_hash.as_slice();
        // The claim: of two concurrent rotations one updates the row, the
        // other waits for it and then finds it used.
        let claimed = tx
            .query_opt(
                "UPDATE refresh_tokens r SET used_at = $2 FROM sessions s \
                 WHERE r.hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 \
                 AND s.id = r.session_id AND s.revoked_at IS NULL \
                 RETURNING r.session_id, s.user_id",
                &[&old, &now],
            )
            .await
            .map_err(db)?;
        let rotation = if let Some(row) = claimed {
            let session_id: String = row.get(0);
            tx.execute(
                "INSERT INTO refresh_tokens (hash, session_id, issued_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
                &[&new_hash.as_slice(), &session_id, &now, &expires_at],
            )
            .await
            .map_err(db)?;
            Rotation::Rotated {
                session_id,
                user_id: row.get(1),
            }
        } else {
            let found = tx
                .query_opt(
                    "SELECT r.session_id, r.used_at IS NOT NULL, s.revoked_at IS NOT NULL \
                     FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.hash = $1",
                    &[&old],
                )
                .await
                .map_err(db)?;
            match found {
                None => Rotation::Unknown,
                Some(row) if row.get::<_, bool>(2) => Rotation::Ended,
                Some(row) if row.get::<_, bool>(1) => {
                    let session_id: String = row.get(0);
                    tx.execute(
                        "UPDATE sessions SET revoked_at = $2, revoked_reason = 'reuse' \
                         WHERE id = $1 AND revoked_at IS NULL",
                        &[&session_id, &now],
                    )
                    .await
                    .map_err(db)?;
                    Rotation::Reused
                }
                Some(_) => Rotation::Expired,
            }
        };
        tx.commit().await.map_err(db)?;
        Ok(rotation)
    }

    async fn end_session(&self, id: &str, reason: &str, now: i64) -> Result<bool, StoreError> {
        let changed = self
            .client()
            .await?
            .execute(
                "UPDATE sessions SET revoked_at = $2, revoked_reason = $3 \
                 WHERE id = $1 AND revoked_at IS NULL",
                &[&id, &now, &reason],
            )
            .await
            .map_err(db)?;
        Ok(changed == 1)
    }

    async fn delete_user(&self, id: UserId) -> Result<bool, StoreError> {
        let changed = self
            .client()
            .await?
            .execute("DELETE FROM users WHERE id = $1", &[&id])
            .await
            .map_err(db)?;
        Ok(changed == 1)
    }

    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT kid, private_key, public_key, created_at, retired_at FROM signing_keys \
                 ORDER BY created_at, kid",
                &[],
            )
            .await
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|row| StoredKey {
                kid: row.get(0),
                private_key: row.get(1),
                public_key: row.get(2),
                created_at: row.get(3),
                retired_at: row.get(4),
            })
            .collect())
    }

    async fn add_signing_key(&self, key: StoredKey) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        tx.execute(
            "UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL",
            &[&key.created_at],
        )
        .await
        .map_err(db)?;
        tx.execute(
            "INSERT INTO signing_keys (kid, private_key, public_key, created_at) \
             VALUES ($1, $2, $3, $4)",
            &[&key.kid, &key.private_key, &key.public_key, &key.created_at],
        )
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn drop_keys_retired_before(&self, before: i64) -> Result<u64, StoreError> {
        self.client()
            .await?
            .execute(
                "DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < $1",
                &[&before],
            )
            .await
            .map_err(db)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.client()
            .await?
            .execute("SELECT 1", &[])
            .await
            .map_err(db)
            .map(|_| ())
    }
}
