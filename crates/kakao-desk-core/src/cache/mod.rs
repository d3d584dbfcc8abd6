//! The profile cache: one SQLite file (`profile.db`) with one row per Kakao
//! account, so the app can show "continue as `<nickname>`" and the user's
//! picture with no network.
//!
//! - **One path for sign-up and sign-in.** [`ProfileCache::upsert_login`]
//!   inserts the first time and refreshes the row at every later login,
//!   keeping `first_login_at`.
//! - **Time is an argument.** Nothing here reads the clock.
//! - **Never tokens.** The schema has no column a token could go into; the
//!   session lives in the vault.
//! - **Schema versions** are applied at open by `rusqlite_migration`, which
//!   keeps the version in SQLite's `user_version` header field. PRAGMAs (WAL,
//!   foreign keys, secure delete) are connection settings, set at every open
//!   outside the migrations.
//! - **Thumbnails** (`cache/thumbnail.rs`) are stored as bytes with their content
//!   type, capped at [`MAX_THUMBNAIL_BYTES`]; a bigger or non-image body is
//!   refused by [`Thumbnail::new`] and only the URL is kept.
//! - **A damaged file** is reported as a [`CacheError`] with code `storage`,
//!   never a panic.
//!
//! # Security
//! The file holds personal data (email, birthday). On Unix it is created with
//! mode 0600 (SQLite gives its `-wal`/`-shm` files the same mode), and
//! `secure_delete` overwrites deleted rows so an unlinked account's data does
//! not linger in free pages.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Row};
use rusqlite_migration::{M, Migrations};
use thiserror::Error;
use url::Url;

mod thumbnail;

pub use thumbnail::{MAX_THUMBNAIL_BYTES, Thumbnail, ThumbnailError};

use crate::ErrorCode;
use crate::birthday::{Birthday, Calendar};
use crate::profile::{ConsentItem, KakaoId, KakaoProfile, PublicProfile};

/// The schema, one entry per version. Append only: never edit a shipped
/// migration.
const MIGRATION_LIST: &[M<'static>] = &[
    M::up(
        r"
CREATE TABLE profile (
    kakao_id               INTEGER PRIMARY KEY NOT NULL,
    nickname               TEXT,
    is_default_nickname    INTEGER NOT NULL DEFAULT 0 CHECK (is_default_nickname IN (0, 1)),
    thumbnail_url          TEXT,
    thumbnail              BLOB,
    thumbnail_content_type TEXT,
    profile_image_url      TEXT,
    is_default_image       INTEGER NOT NULL DEFAULT 0 CHECK (is_default_image IN (0, 1)),
    email                  TEXT,
    email_verified         INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
    -- ISO 8601 date, year 0000 when unknown (the OIDC birthdate convention).
    birthday               TEXT,
    birthday_calendar      TEXT CHECK (birthday_calendar IN ('SOLAR', 'LUNAR')),
    birthday_leap_month    INTEGER NOT NULL DEFAULT 0 CHECK (birthday_leap_month IN (0, 1)),
    -- Milliseconds since the Unix epoch, UTC.
    first_login_at         INTEGER NOT NULL,
    last_login_at          INTEGER NOT NULL,
    CHECK ((thumbnail IS NULL) = (thumbnail_content_type IS NULL)),
    CHECK ((birthday IS NULL) = (birthday_calendar IS NULL))
) STRICT;
CREATE INDEX profile_by_last_login ON profile (last_login_at DESC);
",
    ),
    // v2: the consent items the user has not agreed to (Kakao scope ids,
    // space-separated), so "add birthday" is offered after a restart too; and
    // when `/v2/user/me` was last read (a login or a profile refresh), so a
    // start-up refreshes a stale profile at most once.
    M::up(
        r"
ALTER TABLE profile ADD COLUMN needs_agreement TEXT NOT NULL DEFAULT '';
ALTER TABLE profile ADD COLUMN fetched_at INTEGER NOT NULL DEFAULT 0;
UPDATE profile SET fetched_at = last_login_at;
",
    ),
];

const MIGRATIONS: Migrations<'static> = Migrations::from_slice(MIGRATION_LIST);

/// Why the profile cache failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The file is not a SQLite database or is damaged.
    #[error("the profile cache file is damaged or not a database")]
    Corrupt(#[source] rusqlite::Error),
    /// The schema could not be brought to this version (for example, the file
    /// was written by a newer version of the app).
    #[error("the profile cache schema could not be migrated")]
    Migration(#[source] rusqlite_migration::Error),
    /// Another SQLite failure (disk full, permissions, locked, …).
    #[error("the profile cache failed")]
    Sqlite(#[source] rusqlite::Error),
    /// Creating the file failed.
    #[error("the profile cache file could not be created")]
    Io(#[source] std::io::Error),
    /// A stored row does not hold what this version wrote.
    #[error("a profile cache row is invalid: {0}")]
    InvalidRow(&'static str),
}

impl CacheError {
    /// The stable error code: always `storage`.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Storage
    }
}

impl From<rusqlite::Error> for CacheError {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
                Self::Corrupt(error)
            }
            _ => Self::Sqlite(error),
        }
    }
}

impl From<rusqlite_migration::Error> for CacheError {
    fn from(error: rusqlite_migration::Error) -> Self {
        match error {
            rusqlite_migration::Error::RusqliteError { err, .. } => err.into(),
            other => Self::Migration(other),
        }
    }
}

/// A cached account: the profile as of its last login, plus what the cache
/// adds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CachedProfile {
    /// The profile, with the consent items still needed as of its last read.
    pub profile: KakaoProfile,
    /// The thumbnail bytes, when they were fetched and accepted.
    pub thumbnail: Option<Thumbnail>,
    /// The first login on this device (the "sign-up").
    pub first_login_at: SystemTime,
    /// The latest login on this device.
    pub last_login_at: SystemTime,
    /// When `/v2/user/me` was last read for it (a login or a refresh).
    pub fetched_at: SystemTime,
}

impl CachedProfile {
    /// The view for the UI, with the cached thumbnail as a `data:` URL so the
    /// picture shows with no network ("continue as `<nickname>`").
    pub fn to_public(&self) -> PublicProfile {
        let mut public = self.profile.to_public();
        public.thumbnail_data_url = self.thumbnail.as_ref().map(Thumbnail::to_data_url);
        public
    }
}

/// The profile cache. Not `Sync` (one SQLite connection): the shell keeps it
/// behind a mutex.
#[derive(Debug)]
pub struct ProfileCache {
    conn: Connection,
}

impl ProfileCache {
    /// Opens (creating if needed) the cache file and brings its schema to the
    /// latest version.
    ///
    /// # Errors
    /// [`CacheError::Corrupt`] for a damaged or foreign file,
    /// [`CacheError::Migration`] for a schema this version cannot handle, or
    /// another [`CacheError`]; all map to `storage`.
    pub fn open(path: &Path) -> Result<Self, CacheError> {
        create_private_file(path).map_err(CacheError::Io)?;
        let conn = Connection::open(path)?;
        // WAL: readers never block the writer and a crash never leaves a
        // half-applied transaction. Setting it returns the mode in force.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "the profile cache could not switch to WAL");
        }
        // NORMAL is durable enough in WAL mode: a power cut can lose the last
        // login's refresh, never corrupt the file.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::prepare(conn)
    }

    /// A cache that lives in memory only (tests, or a device where the data
    /// directory is unusable).
    ///
    /// # Errors
    /// A [`CacheError`] if SQLite fails.
    pub fn open_in_memory() -> Result<Self, CacheError> {
        Self::prepare(Connection::open_in_memory()?)
    }

    fn prepare(mut conn: Connection) -> Result<Self, CacheError> {
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "secure_delete", true)?;
        // Another process (a second app instance racing the single-instance
        // hand-off) may hold the write lock briefly; wait instead of failing.
        conn.busy_timeout(Duration::from_secs(5))?;
        MIGRATIONS.to_latest(&mut conn)?;
        Ok(Self { conn })
    }

    /// Records a login: inserts the account the first time (sign-up), and
    /// refreshes every field at later logins (sign-in), keeping
    /// `first_login_at`. Returns the row as stored.
    ///
    /// The thumbnail: a new one replaces the old; with none (the fetch failed
    /// or was refused) the old bytes are kept only if the thumbnail URL did
    /// not change, since otherwise they show an outdated picture.
    ///
    /// # Errors
    /// A [`CacheError`] if SQLite fails.
    pub fn upsert_login(
        &self,
        profile: &KakaoProfile,
        thumbnail: Option<&Thumbnail>,
        now: SystemTime,
    ) -> Result<CachedProfile, CacheError> {
        self.conn.execute(
            r"
INSERT INTO profile (
    kakao_id, nickname, is_default_nickname, thumbnail_url, thumbnail,
    thumbnail_content_type, profile_image_url, is_default_image, email,
    email_verified, birthday, birthday_calendar, birthday_leap_month,
    first_login_at, last_login_at, needs_agreement, fetched_at
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15, ?14)
ON CONFLICT (kakao_id) DO UPDATE SET
    nickname = excluded.nickname,
    is_default_nickname = excluded.is_default_nickname,
    thumbnail = CASE
        WHEN excluded.thumbnail IS NOT NULL THEN excluded.thumbnail
        WHEN excluded.thumbnail_url IS profile.thumbnail_url THEN profile.thumbnail
        ELSE NULL END,
    thumbnail_content_type = CASE
        WHEN excluded.thumbnail IS NOT NULL THEN excluded.thumbnail_content_type
        WHEN excluded.thumbnail_url IS profile.thumbnail_url THEN profile.thumbnail_content_type
        ELSE NULL END,
    thumbnail_url = excluded.thumbnail_url,
    profile_image_url = excluded.profile_image_url,
    is_default_image = excluded.is_default_image,
    email = excluded.email,
    email_verified = excluded.email_verified,
    birthday = excluded.birthday,
    birthday_calendar = excluded.birthday_calendar,
    birthday_leap_month = excluded.birthday_leap_month,
    last_login_at = excluded.last_login_at,
    needs_agreement = excluded.needs_agreement,
    fetched_at = excluded.fetched_at
",
            RowValues::of(profile, thumbnail, now).params().as_slice(),
        )?;
        self.get(profile.id)?
            .ok_or(CacheError::InvalidRow("the row just written is missing"))
    }

    /// Records a fresh read of an account's profile outside a login (the
    /// refresh at start-up or by the user): every field as for a login, but
    /// `last_login_at` stays. The thumbnail rule is
    /// [`ProfileCache::upsert_login`]'s. `None` when the account has no row
    /// (it was removed meanwhile): nothing is written.
    ///
    /// # Errors
    /// A [`CacheError`] if SQLite fails.
    pub fn update_profile(
        &self,
        profile: &KakaoProfile,
        thumbnail: Option<&Thumbnail>,
        now: SystemTime,
    ) -> Result<Option<CachedProfile>, CacheError> {
        let updated = self.conn.execute(
            r"
UPDATE profile SET
    nickname = ?2,
    is_default_nickname = ?3,
    thumbnail = CASE
        WHEN ?5 IS NOT NULL THEN ?5
        WHEN ?4 IS thumbnail_url THEN thumbnail
        ELSE NULL END,
    thumbnail_content_type = CASE
        WHEN ?5 IS NOT NULL THEN ?6
        WHEN ?4 IS thumbnail_url THEN thumbnail_content_type
        ELSE NULL END,
    thumbnail_url = ?4,
    profile_image_url = ?7,
    is_default_image = ?8,
    email = ?9,
    email_verified = ?10,
    birthday = ?11,
    birthday_calendar = ?12,
    birthday_leap_month = ?13,
    needs_agreement = ?15,
    fetched_at = ?14
WHERE kakao_id = ?1
",
            RowValues::of(profile, thumbnail, now).params().as_slice(),
        )?;
        if updated == 0 {
            return Ok(None);
        }
        self.get(profile.id)
    }

    /// The cached account with this id.
    ///
    /// # Errors
    /// A [`CacheError`] if SQLite fails or the row is invalid.
    pub fn get(&self, id: KakaoId) -> Result<Option<CachedProfile>, CacheError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM profile WHERE kakao_id = ?1"),
                [id.get()],
                read_row,
            )
            .optional()?
            .transpose()
    }

    /// The account that logged in last: the "continue as `<nickname>`" offer.
    ///
    /// # Errors
    /// A [`CacheError`] if SQLite fails or the row is invalid.
    pub fn most_recent(&self) -> Result<Option<CachedProfile>, CacheError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM profile ORDER BY last_login_at DESC, kakao_id LIMIT 1"
                ),
                [],
                read_row,
            )
            .optional()?
            .transpose()
    }

    /// Up to `limit` cached accounts, the latest login first (the account
    /// switcher).
    ///
    /// # Errors
    /// A [`CacheError`] if SQLite fails or a row is invalid.
    pub fn recent(&self, limit: usize) -> Result<Vec<CachedProfile>, CacheError> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM profile ORDER BY last_login_at DESC, kakao_id LIMIT ?1"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement.query_map([limit], read_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Deletes the account's row (after an unlink) and checkpoints the WAL so
    /// the data leaves the log file too. Returns whether a row existed.
    ///
    /// # Errors
    /// A [`CacheError`] if SQLite fails.
    pub fn delete(&self, id: KakaoId) -> Result<bool, CacheError> {
        let deleted = self
            .conn
            .execute("DELETE FROM profile WHERE kakao_id = ?1", [id.get()])?;
        // In memory there is no WAL; the pragma then reports and does nothing.
        let _: (i64, i64, i64) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?;
        Ok(deleted > 0)
    }
}

const COLUMNS: &str = "kakao_id, nickname, is_default_nickname, thumbnail_url, thumbnail, \
     thumbnail_content_type, profile_image_url, is_default_image, email, email_verified, \
     birthday, birthday_calendar, birthday_leap_month, first_login_at, last_login_at, \
     needs_agreement, fetched_at";

/// A profile as the write statements bind it: `?1` … `?15` of
/// [`ProfileCache::upsert_login`] and [`ProfileCache::update_profile`].
struct RowValues<'a> {
    profile: &'a KakaoProfile,
    id: i64,
    thumbnail_url: Option<&'a str>,
    thumbnail_bytes: Option<&'a [u8]>,
    thumbnail_type: Option<&'a str>,
    profile_image_url: Option<&'a str>,
    birthday: Option<String>,
    calendar: Option<&'static str>,
    leap_month: bool,
    now: i64,
    needs_agreement: String,
}

impl<'a> RowValues<'a> {
    fn of(profile: &'a KakaoProfile, thumbnail: Option<&'a Thumbnail>, now: SystemTime) -> Self {
        let birthday = profile.birthday.as_ref();
        Self {
            profile,
            id: profile.id.get(),
            thumbnail_url: profile.thumbnail_url.as_ref().map(Url::as_str),
            thumbnail_bytes: thumbnail.map(Thumbnail::bytes),
            thumbnail_type: thumbnail.map(Thumbnail::content_type),
            profile_image_url: profile.profile_image_url.as_ref().map(Url::as_str),
            birthday: birthday.map(Birthday::to_iso),
            calendar: birthday.map(|b| b.calendar().as_kakao_str()),
            leap_month: birthday.is_some_and(Birthday::is_leap_month),
            now: unix_millis(now),
            needs_agreement: scope_list(profile),
        }
    }

    fn params(&self) -> [&dyn rusqlite::ToSql; 15] {
        let p = self.profile;
        [
            &self.id,
            &p.nickname,
            &p.is_default_nickname,
            &self.thumbnail_url,
            &self.thumbnail_bytes,
            &self.thumbnail_type,
            &self.profile_image_url,
            &p.is_default_image,
            &p.email,
            &p.email_verified,
            &self.birthday,
            &self.calendar,
            &self.leap_month,
            &self.now,
            &self.needs_agreement,
        ]
    }
}

/// The consent items still needed, as stored: Kakao scope ids, space-separated.
fn scope_list(profile: &KakaoProfile) -> String {
    profile
        .needs_agreement
        .iter()
        .map(|item| item.scope())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads one row. SQLite errors go out through the outer `Result`; rows that
/// this version could not have written through the inner one.
fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<CachedProfile, CacheError>> {
    let id: i64 = row.get(0)?;
    let thumbnail_url: Option<String> = row.get(3)?;
    let thumbnail_bytes: Option<Vec<u8>> = row.get(4)?;
    let thumbnail_type: Option<String> = row.get(5)?;
    let profile_image_url: Option<String> = row.get(6)?;
    let birthday: Option<String> = row.get(10)?;
    let calendar: Option<String> = row.get(11)?;
    let leap_month: bool = row.get(12)?;
    let first: i64 = row.get(13)?;
    let last: i64 = row.get(14)?;
    let needs_agreement: String = row.get(15)?;
    let fetched: i64 = row.get(16)?;

    let mut profile = KakaoProfile::new(KakaoId::new(id));
    profile.nickname = row.get(1)?;
    profile.is_default_nickname = row.get(2)?;
    profile.is_default_image = row.get(7)?;
    profile.email = row.get(8)?;
    profile.email_verified = row.get(9)?;
    // An item this build does not know (a later version may ask for more)
    // is left out, not allowed to hide the profile.
    profile.needs_agreement = needs_agreement
        .split_whitespace()
        .filter_map(ConsentItem::from_scope)
        .collect();
    let parsed = (|| {
        profile.thumbnail_url = thumbnail_url
            .map(|u| Url::parse(&u))
            .transpose()
            .map_err(|_| CacheError::InvalidRow("thumbnail_url"))?;
        profile.profile_image_url = profile_image_url
            .map(|u| Url::parse(&u))
            .transpose()
            .map_err(|_| CacheError::InvalidRow("profile_image_url"))?;
        profile.birthday = match (birthday, calendar) {
            (Some(iso), Some(calendar)) => {
                let calendar = Calendar::from_kakao_str(&calendar)
                    .map_err(|_| CacheError::InvalidRow("birthday_calendar"))?;
                Some(
                    Birthday::from_iso(&iso, calendar, leap_month)
                        .map_err(|_| CacheError::InvalidRow("birthday"))?,
                )
            }
            _ => None,
        };
        // A stored picture this build would not accept (a later version may
        // allow more) is dropped, not allowed to hide the whole profile.
        let thumbnail = match (thumbnail_type, thumbnail_bytes) {
            (Some(content_type), Some(bytes)) => Thumbnail::new(&content_type, bytes)
                .inspect_err(|error| tracing::warn!(%error, "ignored a cached thumbnail"))
                .ok(),
            _ => None,
        };
        Ok(CachedProfile {
            profile,
            thumbnail,
            first_login_at: from_unix_millis(first),
            last_login_at: from_unix_millis(last),
            fetched_at: from_unix_millis(fetched),
        })
    })();
    Ok(parsed)
}

fn unix_millis(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

fn from_unix_millis(millis: i64) -> SystemTime {
    let magnitude = Duration::from_millis(millis.unsigned_abs());
    if millis >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

/// Creates the database file readable by the user only, if it is missing,
/// and its directory (mode 0700) if that is missing too. SQLite would create
/// the file with the umask's mode (often 0644).
fn create_private_file(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ConsentItem;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\nrest-of-image";
    const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0rest-of-image";

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn profile(id: i64, nickname: &str) -> KakaoProfile {
        let mut p = KakaoProfile::new(KakaoId::new(id));
        p.nickname = Some(nickname.to_owned());
        p.thumbnail_url = Some(Url::parse("https://k.kakaocdn.net/dn/a/img_110x110.jpg").unwrap());
        p
    }

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS
            .validate()
            .expect("every migration must apply cleanly to an empty database");
    }

    #[test]
    fn first_login_inserts_and_later_logins_refresh_the_row() {
        let cache = ProfileCache::open_in_memory().unwrap();
        let first = cache
            .upsert_login(&profile(42, "첫째"), None, at(1_000))
            .unwrap();
        assert_eq!(
            first.first_login_at,
            at(1_000),
            "sign-up time is the first login"
        );
        assert_eq!(first.last_login_at, at(1_000));

        let mut changed = profile(42, "둘째");
        changed.email = Some("a@example.com".into());
        let second = cache.upsert_login(&changed, None, at(2_000)).unwrap();
        assert_eq!(
            second.profile.nickname.as_deref(),
            Some("둘째"),
            "every login refreshes the row"
        );
        assert_eq!(second.profile.email.as_deref(), Some("a@example.com"));
        assert_eq!(
            second.first_login_at,
            at(1_000),
            "the first login time is kept"
        );
        assert_eq!(second.last_login_at, at(2_000), "the last login time moves");

        let mut withdrawn = changed.clone();
        withdrawn.email = None;
        let third = cache.upsert_login(&withdrawn, None, at(3_000)).unwrap();
        assert_eq!(
            third.profile.email, None,
            "a withdrawn consent removes the stored value"
        );
    }

    #[test]
    fn the_profile_round_trips_field_by_field() {
        let cache = ProfileCache::open_in_memory().unwrap();
        let mut p = profile(1_376_016_924_429_759_243, "홍길동");
        p.is_default_nickname = true;
        p.profile_image_url =
            Some(Url::parse("https://k.kakaocdn.net/dn/a/img_640x640.jpg").unwrap());
        p.is_default_image = true;
        p.email = Some("sample@sample.com".into());
        p.email_verified = true;
        p.birthday = Some(Birthday::new(None, 2, 29, Calendar::Lunar, true).unwrap());
        p.needs_agreement.insert(ConsentItem::Birthyear);
        p.needs_agreement.insert(ConsentItem::AccountEmail);
        let stored = cache.upsert_login(&p, None, at(5)).unwrap();
        assert_eq!(
            stored.profile, p,
            "everything is cached, the consent items still needed too"
        );
        assert_eq!(stored.fetched_at, at(5), "a login reads the profile");
        assert_eq!(
            stored.profile.birthday.unwrap().to_iso(),
            "0000-02-29",
            "an unknown-year leap-day birthday survives storage"
        );
    }

    #[test]
    fn thumbnails_are_kept_while_the_url_stays() {
        let cache = ProfileCache::open_in_memory().unwrap();
        let p = profile(7, "n");
        let png = Thumbnail::new("image/png", PNG.to_vec()).unwrap();
        let stored = cache.upsert_login(&p, Some(&png), at(1)).unwrap();
        assert_eq!(
            stored.thumbnail.as_ref(),
            Some(&png),
            "fetched bytes are stored"
        );

        let stored = cache.upsert_login(&p, None, at(2)).unwrap();
        assert_eq!(
            stored.thumbnail.as_ref(),
            Some(&png),
            "a failed fetch keeps the old bytes when the URL is the same"
        );

        let jpeg = Thumbnail::new("image/jpeg; charset=binary", JPEG.to_vec()).unwrap();
        let stored = cache.upsert_login(&p, Some(&jpeg), at(3)).unwrap();
        assert_eq!(
            stored.thumbnail.as_ref().map(Thumbnail::content_type),
            Some("image/jpeg")
        );

        let mut moved = p.clone();
        moved.thumbnail_url =
            Some(Url::parse("https://k.kakaocdn.net/dn/b/img_110x110.jpg").unwrap());
        let stored = cache.upsert_login(&moved, None, at(4)).unwrap();
        assert_eq!(
            stored.thumbnail, None,
            "old bytes would show an outdated picture for a new URL"
        );
        assert_eq!(
            stored.profile.thumbnail_url, moved.thumbnail_url,
            "the URL is still kept"
        );
    }

    #[test]
    fn recent_lists_the_latest_logins_first_up_to_the_limit() {
        let cache = ProfileCache::open_in_memory().unwrap();
        for (id, when) in [(1, 100), (2, 300), (3, 200)] {
            cache
                .upsert_login(&KakaoProfile::new(KakaoId::new(id)), None, at(when))
                .unwrap();
        }
        let ids =
            |list: Vec<CachedProfile>| list.iter().map(|c| c.profile.id.get()).collect::<Vec<_>>();
        assert_eq!(ids(cache.recent(10).unwrap()), [2, 3, 1]);
        assert_eq!(ids(cache.recent(2).unwrap()), [2, 3], "bounded");
        assert!(cache.recent(0).unwrap().is_empty());
    }

    #[test]
    fn most_recent_is_the_last_login_and_delete_removes() {
        let cache = ProfileCache::open_in_memory().unwrap();
        assert!(
            cache.most_recent().unwrap().is_none(),
            "an empty cache offers no one"
        );
        cache
            .upsert_login(&profile(1, "one"), None, at(10))
            .unwrap();
        cache
            .upsert_login(&profile(2, "two"), None, at(20))
            .unwrap();
        assert_eq!(
            cache.most_recent().unwrap().unwrap().profile.id,
            KakaoId::new(2)
        );
        cache
            .upsert_login(&profile(1, "one"), None, at(30))
            .unwrap();
        assert_eq!(
            cache.most_recent().unwrap().unwrap().profile.id,
            KakaoId::new(1),
            "logging in again makes an account the most recent"
        );
        assert!(cache.delete(KakaoId::new(1)).unwrap(), "the row existed");
        assert!(
            !cache.delete(KakaoId::new(1)).unwrap(),
            "deleting twice finds nothing"
        );
        assert!(
            cache.get(KakaoId::new(1)).unwrap().is_none(),
            "unlinked accounts are gone"
        );
        assert_eq!(
            cache.most_recent().unwrap().unwrap().profile.id,
            KakaoId::new(2)
        );
    }

    #[test]
    fn a_file_cache_uses_wal_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not-yet-created/profile.db");
        {
            let cache =
                ProfileCache::open(&path).expect("the data directory is created on first run");
            cache
                .upsert_login(&profile(3, "persist"), None, at(1))
                .unwrap();
            let mode: String = cache
                .conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            assert_eq!(
                mode, "wal",
                "WAL is set outside the migrations, at every open"
            );
            let fk: bool = cache
                .conn
                .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
                .unwrap();
            assert!(
                fk,
                "foreign keys are a per-connection setting and must be on"
            );
        }
        let cache = ProfileCache::open(&path).unwrap();
        assert_eq!(
            cache
                .get(KakaoId::new(3))
                .unwrap()
                .unwrap()
                .profile
                .nickname
                .as_deref(),
            Some("persist"),
            "reopening runs no migration twice and keeps the data"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the file holds personal data: owner only");
        }
    }

    #[test]
    fn an_unacceptable_stored_thumbnail_hides_only_itself() {
        let cache = ProfileCache::open_in_memory().unwrap();
        cache.upsert_login(&profile(11, "n"), None, at(1)).unwrap();
        cache
            .conn
            .execute(
                "UPDATE profile SET thumbnail = ?1, thumbnail_content_type = 'image/svg+xml'",
                [b"<svg/>".as_slice()],
            )
            .unwrap();
        let cached = cache
            .get(KakaoId::new(11))
            .unwrap()
            .expect("the profile still loads");
        assert_eq!(
            cached.thumbnail, None,
            "a picture this build refuses is not shown"
        );
        assert_eq!(
            cached.profile.nickname.as_deref(),
            Some("n"),
            "the rest of the row is intact"
        );
    }

    #[test]
    fn a_damaged_file_is_a_storage_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.db");
        std::fs::write(
            &path,
            b"this is not a sqlite database, just some text ........",
        )
        .unwrap();
        let error = ProfileCache::open(&path).expect_err("garbage must not open");
        assert!(
            matches!(error, CacheError::Corrupt(_)),
            "reported as damage: {error:?}"
        );
        assert_eq!(
            error.code(),
            ErrorCode::Storage,
            "the UI shows the storage message"
        );
    }

    #[test]
    fn a_refresh_updates_the_profile_but_not_the_last_login() {
        let cache = ProfileCache::open_in_memory().unwrap();
        let mut p = profile(42, "첫째");
        p.needs_agreement.insert(ConsentItem::Birthday);
        let png = Thumbnail::new("image/png", PNG.to_vec()).unwrap();
        cache.upsert_login(&p, Some(&png), at(1_000)).unwrap();

        p.needs_agreement.clear();
        p.birthday = Some(Birthday::new(Some(1992), 7, 4, Calendar::Solar, false).unwrap());
        let refreshed = cache
            .update_profile(&p, None, at(5_000))
            .unwrap()
            .expect("the row exists");
        assert_eq!(refreshed.profile, p, "the new read replaces the old");
        assert_eq!(refreshed.fetched_at, at(5_000));
        assert_eq!(
            refreshed.last_login_at,
            at(1_000),
            "a refresh is not a login"
        );
        assert_eq!(refreshed.first_login_at, at(1_000));
        assert_eq!(refreshed.thumbnail, Some(png), "the same picture is kept");

        assert!(
            cache
                .update_profile(&profile(43, "없음"), None, at(6_000))
                .unwrap()
                .is_none(),
            "a refresh never creates an account"
        );
        assert!(cache.get(KakaoId::new(43)).unwrap().is_none());
    }

    #[test]
    fn a_version_1_file_is_migrated_with_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.db");
        {
            // The file as version 1 of the app wrote it.
            let mut conn = Connection::open(&path).unwrap();
            Migrations::from_slice(&MIGRATION_LIST[..1])
                .to_latest(&mut conn)
                .unwrap();
            conn.execute(
                "INSERT INTO profile (kakao_id, nickname, first_login_at, last_login_at) \
                 VALUES (7, '옛날', 1000, 2000)",
                [],
            )
            .unwrap();
        }
        let cache = ProfileCache::open(&path).unwrap();
        let row = cache
            .get(KakaoId::new(7))
            .unwrap()
            .expect("the row survives");
        assert_eq!(row.profile.nickname.as_deref(), Some("옛날"));
        assert_eq!(row.last_login_at, UNIX_EPOCH + Duration::from_millis(2000));
        assert_eq!(
            row.fetched_at, row.last_login_at,
            "an old row was last read at its last login"
        );
        assert!(row.profile.needs_agreement.is_empty());
    }

    #[test]
    fn a_file_from_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        let error =
            ProfileCache::open(&path).expect_err("a schema from the future must not be used");
        assert_eq!(error.code(), ErrorCode::Storage);
    }
}
