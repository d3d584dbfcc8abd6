//! The storage interface and its values, shared by both implementations.

use std::future::Future;

use kakao_desk_core::birthday::{Birthday, Calendar};
use kakao_desk_core::profile::KakaoProfile;
use thiserror::Error;

/// A service user id (the database's own, not Kakao's).
pub type UserId = i64;

/// What a Kakao login says about a user: the fields the server keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KakaoUser {
    /// Kakao's user id (64-bit).
    pub kakao_id: i64,
    /// The nickname, if consented.
    pub nickname: Option<String>,
    /// The 110×110 thumbnail URL.
    pub thumbnail_url: Option<String>,
    /// The 640×640 profile image URL.
    pub profile_image_url: Option<String>,
    /// Whether the images are Kakao's default picture.
    pub is_default_image: bool,
    /// The email, if consented and valid.
    pub email: Option<String>,
    /// Whether Kakao says the email is verified.
    pub email_verified: bool,
    /// The birthday, when Kakao's was a real date.
    pub birthday: Option<Birthday>,
    /// Consent items the user has not agreed to (scope ids).
    pub needs_agreement: Vec<String>,
}

impl KakaoUser {
    /// The fields of a profile normalised by the core's rules
    /// ([`KakaoProfile::from_user_me`]).
    pub fn from_profile(profile: &KakaoProfile) -> Self {
        Self {
            kakao_id: profile.id.get(),
            nickname: profile.nickname.clone(),
            thumbnail_url: profile.thumbnail_url.as_ref().map(ToString::to_string),
            profile_image_url: profile.profile_image_url.as_ref().map(ToString::to_string),
            is_default_image: profile.is_default_image,
            email: profile.email.clone(),
            email_verified: profile.email_verified,
            birthday: profile.birthday,
            needs_agreement: profile
                .needs_agreement
                .iter()
                .map(|item| item.scope().to_owned())
                .collect(),
        }
    }
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The service's id.
    pub id: UserId,
    /// Kakao's id, for a user who signed in with Kakao.
    pub kakao_id: Option<i64>,
    /// The provider the account was made through (`kakao`, …).
    pub created_via: String,
    /// The nickname.
    pub nickname: Option<String>,
    /// The thumbnail URL.
    pub thumbnail_url: Option<String>,
    /// The profile image URL.
    pub profile_image_url: Option<String>,
    /// Whether the images are Kakao's default picture.
    pub is_default_image: bool,
    /// The email.
    pub email: Option<String>,
    /// Whether the email is verified.
    pub email_verified: bool,
    /// The birthday.
    pub birthday: Option<Birthday>,
    /// Consent items awaiting agreement (scope ids).
    pub needs_agreement: Vec<String>,
    /// When the user was created (Unix seconds).
    pub created_at: i64,
    /// When the user was last updated (Unix seconds).
    pub updated_at: i64,
}

/// The result of [`Store::upsert_kakao_user`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upserted {
    /// The user as stored now.
    pub user: User,
    /// Whether this login created it (sign-up) rather than updated it.
    pub created: bool,
}

/// A session to create with its first refresh token.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session id (random, public: it is the access token's `sid`).
    pub id: String,
    /// Whose session.
    pub user_id: UserId,
    /// Kakao's tokens, sealed.
    pub kakao_tokens: Vec<u8>,
    /// SHA-256 of the first refresh token.
    pub refresh_hash: [u8; 32],
    /// Now (Unix seconds).
    pub now: i64,
    /// When the refresh token expires (Unix seconds).
    pub refresh_expires_at: i64,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The session id.
    pub id: String,
    /// Whose session.
    pub user_id: UserId,
    /// Kakao's tokens, sealed.
    pub kakao_tokens: Vec<u8>,
    /// Bumped by every [`Store::replace_kakao_tokens`].
    pub kakao_version: i64,
    /// Whether the session has ended (logout, reuse, deletion).
    pub ended: bool,
}

/// How a refresh token rotation went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was valid and unused; it is now used and its successor
    /// stored.
    Rotated {
        /// The session (family).
        session_id: String,
        /// Whose session.
        user_id: UserId,
    },
    /// The token had been used before: the session is ended now.
    Reused,
    /// No such token.
    Unknown,
    /// The token expired unused.
    Expired,
    /// The token's session had already ended.
    Ended,
}

/// One access-token signing key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// The key id (`kid`).
    pub kid: String,
    /// The PKCS#8 private key, sealed.
    pub private_key: Vec<u8>,
    /// The raw 32-byte Ed25519 public key.
    pub public_key: Vec<u8>,
    /// When it was made (Unix seconds).
    pub created_at: i64,
    /// When a newer key replaced it for signing.
    pub retired_at: Option<i64>,
}

/// Held while one instance refreshes a session's Kakao tokens, so that no
/// other instance refreshes the same session at the same time (Kakao may
/// retire a refresh token when it issues the next). SQLite serves one
/// instance: nothing to hold. PostgreSQL: a session-level advisory lock on
/// a pooled connection; [`Self::release`] unlocks it and returns the
/// connection, and a guard dropped without it closes the connection, which
/// releases the lock in the server too.
#[derive(Default)]
pub struct RefreshGuard {
    pub(crate) held: Option<(deadpool_postgres::Object, String)>,
}

impl std::fmt::Debug for RefreshGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshGuard")
            .field("held", &self.held.is_some())
            .finish()
    }
}

/// The advisory lock class of Kakao token refreshes.
pub(crate) const REFRESH_LOCK: i32 = 0x6b64_7332; // "kds2"

impl RefreshGuard {
    /// Unlocks.
    pub async fn release(mut self) {
        if let Some((client, id)) = self.held.take() {
            let unlocked = client
                .execute(
                    "SELECT pg_advisory_unlock($1, hashtext($2::text))",
                    &[&REFRESH_LOCK, &id],
                )
                .await;
            if unlocked.is_err() {
                drop(deadpool_postgres::Object::take(client));
            }
        }
    }
}

impl Drop for RefreshGuard {
    fn drop(&mut self) {
        if let Some((client, _)) = self.held.take() {
            // Not returned to the pool: closing the connection ends the lock.
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

/// A storage failure.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The login's verified email belongs to another account.
    #[error("the email is registered to another account")]
    EmailTaken,
    /// The database URL is not one this server reads.
    #[error("unsupported database URL (use sqlite:PATH or postgres://…)")]
    Url,
    /// The migrations could not be applied, or the database holds a schema
    /// this build does not know.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// Any other database failure (no values, only the driver's message).
    #[error("database error: {0}")]
    Database(String),
}

/// The storage interface the server runs on. Every method is one atomic
/// operation.
pub trait Store: Send + Sync {
    /// Creates or updates the user with `user.kakao_id`, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::EmailTaken`] when the verified email is another
    /// account's (nothing is written).
    fn upsert_kakao_user(
        &self,
        user: &KakaoUser,
        now: i64,
    ) -> impl Future<Output = Result<Upserted, StoreError>> + Send;

    /// Creates a user that signed up through another provider (a publisher's
    /// own sign-up, an import): `via` names it.
    ///
    /// # Errors
    /// [`StoreError::EmailTaken`] for a verified email already registered.
    fn insert_user(
        &self,
        via: &str,
        email: &str,
        email_verified: bool,
        now: i64,
    ) -> impl Future<Output = Result<UserId, StoreError>> + Send;

    /// The user with `id`.
    ///
    /// # Errors
    /// A database failure.
    fn user(&self, id: UserId) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// The user with Kakao id `kakao_id`.
    ///
    /// # Errors
    /// A database failure.
    fn user_by_kakao_id(
        &self,
        kakao_id: i64,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// How many users there are.
    ///
    /// # Errors
    /// A database failure.
    fn count_users(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Stores a session and its first refresh token.
    ///
    /// # Errors
    /// A database failure.
    fn create_session(
        &self,
        session: NewSession,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The session `id`, ended or not.
    ///
    /// # Errors
    /// A database failure.
    fn session(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<SessionRow>, StoreError>> + Send;

    /// Replaces the session's sealed Kakao tokens if they are still at
    /// `expected_version`; false when another refresh came first.
    ///
    /// # Errors
    /// A database failure.
    fn replace_kakao_tokens(
        &self,
        id: &str,
        expected_version: i64,
        sealed: Vec<u8>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Waits until no other instance refreshes the Kakao tokens of session
    /// `id`, and holds that until the guard is released or dropped.
    ///
    /// # Errors
    /// A database failure.
    fn refresh_guard(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<RefreshGuard, StoreError>> + Send;

    /// Uses the refresh token with `old_hash` and stores `new_hash` as its
    /// successor, expiring at `expires_at`; a used token ends its session.
    ///
    /// # Errors
    /// A database failure.
    fn rotate_refresh(
        &self,
        old_hash: [u8; 32],
        new_hash: [u8; 32],
        now: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<Rotation, StoreError>> + Send;

    /// Ends the session (`reason`: `logout`, `reuse`, …); true if it was
    /// active.
    ///
    /// # Errors
    /// A database failure.
    fn end_session(
        &self,
        id: &str,
        reason: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes the user with their sessions and refresh tokens; true if
    /// there was one.
    ///
    /// # Errors
    /// A database failure.
    fn delete_user(&self, id: UserId) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Every signing key, oldest first.
    ///
    /// # Errors
    /// A database failure.
    fn signing_keys(&self) -> impl Future<Output = Result<Vec<StoredKey>, StoreError>> + Send;

    /// Adds a signing key and retires (at `key.created_at`) every key not
    /// yet retired, in one transaction.
    ///
    /// # Errors
    /// A database failure.
    fn add_signing_key(
        &self,
        key: StoredKey,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes keys retired before `before`; how many went.
    ///
    /// # Errors
    /// A database failure.
    fn drop_keys_retired_before(
        &self,
        before: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Checks that the database answers.
    ///
    /// # Errors
    /// A database failure.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The birthday columns: year, month, day, calendar, leap month.
pub(crate) type BirthdayParts = (Option<i64>, Option<i64>, Option<i64>, Option<String>, bool);

/// A birthday as its columns.
pub(crate) fn birthday_parts(birthday: Option<&Birthday>) -> BirthdayParts {
    match birthday {
        Some(b) => (
            b.year().map(i64::from),
            Some(i64::from(b.month())),
            Some(i64::from(b.day())),
            Some(calendar_name(b.calendar()).to_owned()),
            b.is_leap_month(),
        ),
        None => (None, None, None, None, false),
    }
}

/// The columns back as a birthday; `None` for a row that is not a real date
/// (which the CHECK constraints and [`Birthday::new`] keep out).
pub(crate) fn birthday_from_parts(parts: BirthdayParts) -> Option<Birthday> {
    let (year, month, day, calendar, leap) = parts;
    let calendar = match calendar.as_deref()? {
        "solar" => Calendar::Solar,
        "lunar" => Calendar::Lunar,
        _ => return None,
    };
    let year = match year {
        Some(y) => Some(u16::try_from(y).ok()?),
        None => None,
    };
    Birthday::new(
        year,
        u8::try_from(month?).ok()?,
        u8::try_from(day?).ok()?,
        calendar,
        leap,
    )
    .ok()
}

fn calendar_name(calendar: Calendar) -> &'static str {
    match calendar {
        Calendar::Solar => "solar",
        Calendar::Lunar => "lunar",
    }
}

/// `needs_agreement` as its column: scope ids joined by spaces.
pub(crate) fn join_scopes(scopes: &[String]) -> String {
    scopes.join(" ")
}

/// The column back as scope ids.
pub(crate) fn split_scopes(column: &str) -> Vec<String> {
    column.split_whitespace().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birthdays_survive_their_columns() {
        for birthday in [
            Birthday::new(Some(1990), 11, 30, Calendar::Solar, false),
            Birthday::new(None, 2, 29, Calendar::Solar, false),
            Birthday::new(Some(1985), 4, 15, Calendar::Lunar, true),
        ] {
            let birthday = birthday.expect("a real date");
            assert_eq!(
                birthday_from_parts(birthday_parts(Some(&birthday))),
                Some(birthday)
            );
        }
        assert_eq!(birthday_from_parts(birthday_parts(None)), None);
        assert_eq!(
            birthday_from_parts((None, Some(2), Some(30), Some("solar".into()), false)),
            None,
            "a row that is no date reads as no birthday"
        );
    }

    #[test]
    fn scopes_round_trip() {
        let scopes = vec!["birthday".to_owned(), "account_email".to_owned()];
        assert_eq!(split_scopes(&join_scopes(&scopes)), scopes);
        assert!(split_scopes("").is_empty());
    }
}
