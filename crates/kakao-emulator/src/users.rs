//! Fixture users, kept in the exact shape of a `/v2/user/me` response.
//!
//! Keeping the response shape (rather than a model of our own) means a fixture
//! file can be a captured Kakao response, and the emulator returns exactly what
//! the file says, omissions included: Kakao omits fields, it never sends `null`
//! (`docs/kakao-api.md` §4.3).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value};

/// Ids of the default fixture users ([`Users::default_fixtures`]), one per case
/// a client must handle.
pub mod fixture_ids {
    /// 19 digits, above 2^53: breaks any client that parses ids as `f64`.
    /// Full profile, verified email, no birthday items configured.
    pub const NINETEEN_DIGIT_ID: i64 = 1_376_016_924_426_111_111;
    /// Birthday `1130` with birth year `1990`, `SOLAR`; every item agreed.
    pub const SOLAR_BIRTHDAY_WITH_YEAR: i64 = 3_095_134_389;
    /// Birthday `0229` and no birth year (`birthyear_needs_agreement: false`,
    /// value absent: the account has none).
    pub const LEAP_DAY_WITHOUT_YEAR: i64 = 4_000_000_001;
    /// `LUNAR` birthday `0415` in a leap month (`is_leap_month: true`), year 1985.
    pub const LUNAR_LEAP_MONTH: i64 = 4_000_000_002;
    /// Birthday and birth year configured but not agreed
    /// (`birthday_needs_agreement: true`, value absent); agreeing later
    /// (additional consent) reveals `0704` `SOLAR`, year `1992`.
    pub const BIRTHDAY_NOT_CONSENTED: i64 = 4_000_000_003;
    /// No `profile` consent: both profile items need agreement, no `profile`.
    pub const NO_PROFILE_CONSENT: i64 = 4_000_000_004;
    /// Nickname `라이언 🦁✨` (Hangul + emoji); email present but not verified,
    /// so the id_token carries no `email`.
    pub const EMOJI_NICKNAME: i64 = 4_000_000_005;
    /// Birthday `1345` (month 13): malformed, a client must not fail the login.
    pub const MALFORMED_BIRTHDAY: i64 = 4_000_000_006;
    /// Kakao's default profile image (`is_default_image: true`).
    pub const DEFAULT_PROFILE_IMAGE: i64 = 4_000_000_007;
}

/// The placeholder fixture image URLs may use for the emulator's base URL.
pub const BASE_URL_PLACEHOLDER: &str = "{base_url}";

/// Fixture-only key of a user: `kakao_account` values the account holds but
/// has not shared with the app (their `*_needs_agreement` is `true`),
/// revealed when the user agrees to their item later (additional consent).
/// Never part of an answer.
pub const WITHHELD: &str = "_withheld";

const DEFAULT_FIXTURES: &str = include_str!("../fixtures/users.json");

/// A fixture file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The file could not be read.
    #[error("cannot read fixture file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not JSON, or not an array of objects.
    #[error("fixture users must be a JSON array of /v2/user/me objects: {0}")]
    Shape(String),
    /// A user without a 64-bit integer `id`.
    #[error("fixture user #{index} has no 64-bit integer \"id\"")]
    MissingId {
        /// Position in the array.
        index: usize,
    },
    /// Two users share an id.
    #[error("fixture user id {0} appears twice")]
    DuplicateId(i64),
    /// A `null` value: Kakao omits fields instead, so a fixture with `null`
    /// would teach clients a shape Kakao never sends.
    #[error("fixture user {id} has null at {field}; Kakao omits absent fields")]
    NullValue {
        /// The user.
        id: i64,
        /// The key holding null.
        field: String,
    },
}

/// The fixture users the emulator can log in, in `/v2/user/me` shape.
#[derive(Clone, Debug)]
pub struct Users {
    users: Vec<(i64, Value)>,
}

impl Default for Users {
    fn default() -> Self {
        Self::default_fixtures()
    }
}

impl Users {
    /// The shipped set; its ids are in [`fixture_ids`].
    pub fn default_fixtures() -> Self {
        // The shipped file is tested below, so this cannot fail at run time.
        Self::from_json(DEFAULT_FIXTURES).unwrap_or_else(|e| panic!("shipped fixtures: {e}"))
    }

    /// Parses a JSON array of `/v2/user/me` objects.
    ///
    /// # Errors
    /// [`FixtureError`] when the text is not such an array, an `id` is missing
    /// or repeated, or a value is `null`.
    pub fn from_json(text: &str) -> Result<Self, FixtureError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| FixtureError::Shape(e.to_string()))?;
        let Value::Array(items) = value else {
            return Err(FixtureError::Shape("top level is not an array".into()));
        };
        let mut users = Vec::with_capacity(items.len());
        let mut seen = BTreeSet::new();
        for (index, item) in items.into_iter().enumerate() {
            if !item.is_object() {
                return Err(FixtureError::Shape(format!(
                    "item #{index} is not an object"
                )));
            }
            let id = item
                .get("id")
                .and_then(Value::as_i64)
                .ok_or(FixtureError::MissingId { index })?;
            if !seen.insert(id) {
                return Err(FixtureError::DuplicateId(id));
            }
            if let Some(field) = find_null(&item, "") {
                return Err(FixtureError::NullValue { id, field });
            }
            users.push((id, item));
        }
        Ok(Self { users })
    }

    /// Reads and parses a fixture file (see [`Users::from_json`]).
    ///
    /// # Errors
    /// [`FixtureError`] as for `from_json`, or `Read` if the file cannot be read.
    pub fn from_file(path: &Path) -> Result<Self, FixtureError> {
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// Every user id, in file order.
    pub fn ids(&self) -> Vec<i64> {
        self.users.iter().map(|(id, _)| *id).collect()
    }

    /// One user's raw fixture (placeholders not yet replaced).
    pub fn get(&self, id: i64) -> Option<&Value> {
        self.users.iter().find(|(i, _)| *i == id).map(|(_, v)| v)
    }

    /// The nickname to show on the consent page's account picker.
    pub(crate) fn display_name(&self, id: i64) -> String {
        self.get(id)
            .and_then(|u| u.pointer("/kakao_account/profile/nickname"))
            .and_then(Value::as_str)
            .map_or_else(|| format!("회원번호 {id}"), |n| format!("{n} ({id})"))
    }
}

fn find_null(value: &Value, at: &str) -> Option<String> {
    match value {
        Value::Null => Some(at.to_owned()),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| find_null(v, &format!("{at}/{k}"))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_null(v, &format!("{at}/{i}"))),
        _ => None,
    }
}

/// `kakao_account` consent flags and the scope id each one stands for.
const SCOPE_FLAGS: &[(&str, &str)] = &[
    ("profile_needs_agreement", "profile"),
    ("profile_nickname_needs_agreement", "profile_nickname"),
    ("profile_image_needs_agreement", "profile_image"),
    ("name_needs_agreement", "name"),
    ("email_needs_agreement", "account_email"),
    ("age_range_needs_agreement", "age_range"),
    ("birthyear_needs_agreement", "birthyear"),
    ("birthday_needs_agreement", "birthday"),
    ("gender_needs_agreement", "gender"),
    ("phone_number_needs_agreement", "phone_number"),
    ("ci_needs_agreement", "account_ci"),
];

/// The items the emulated app sets as required in its console: a user
/// cannot withdraw them (`/v2/user/revoke/scopes` answers -3).
pub(crate) const REQUIRED_ITEMS: &[&str] = &["profile", "profile_nickname", "profile_image"];

/// The `kakao_account` fields (`/`-separated paths) each item reveals.
fn scope_fields(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile_nickname" => &["profile/nickname", "profile/is_default_nickname"],
        "profile_image" => &[
            "profile/thumbnail_image_url",
            "profile/profile_image_url",
            "profile/is_default_image",
        ],
        "name" => &["name"],
        "account_email" => &["email", "is_email_valid", "is_email_verified"],
        "age_range" => &["age_range"],
        "birthyear" => &["birthyear"],
        "birthday" => &["birthday", "birthday_type", "is_leap_month"],
        "gender" => &["gender"],
        "phone_number" => &["phone_number"],
        "account_ci" => &["ci", "ci_authenticated_at"],
        _ => &[],
    }
}

/// The consent flag of an item (`birthday` → `birthday_needs_agreement`).
fn scope_flag(scope: &str) -> Option<&'static str> {
    SCOPE_FLAGS
        .iter()
        .find(|(_, id)| *id == scope)
        .map(|(flag, _)| *flag)
}

/// A user's consent changes since the fixture: items agreed to later
/// (additional consent) and items withdrawn (`/v2/user/revoke/scopes`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ConsentChanges {
    pub agreed: BTreeSet<String>,
    pub withdrawn: BTreeSet<String>,
}

impl ConsentChanges {
    pub(crate) fn agree(&mut self, scope: &str) {
        self.withdrawn.remove(scope);
        self.agreed.insert(scope.to_owned());
    }

    pub(crate) fn withdraw(&mut self, scope: &str) {
        self.agreed.remove(scope);
        self.withdrawn.insert(scope.to_owned());
    }
}

/// The account as the app sees it now: the fixture without its withheld
/// values, with `changes` applied. An item is changed only where the app
/// has it configured for this user (its flag is present): agreeing sets the
/// flag `false` and reveals the withheld values, withdrawing sets it `true`
/// and removes the values.
pub(crate) fn with_consents(user: &Value, changes: &ConsentChanges) -> Value {
    let mut user = user.clone();
    let withheld = user
        .as_object_mut()
        .and_then(|u| u.remove(WITHHELD))
        .unwrap_or(Value::Null);
    let Some(account) = user.get_mut("kakao_account").and_then(Value::as_object_mut) else {
        return user;
    };
    for (scope, agreed) in changes
        .agreed
        .iter()
        .map(|s| (s, true))
        .chain(changes.withdrawn.iter().map(|s| (s, false)))
    {
        let Some(flag) = scope_flag(scope) else {
            continue;
        };
        if !account.contains_key(flag) {
            continue;
        }
        account.insert(flag.to_owned(), Value::Bool(!agreed));
        for path in scope_fields(scope) {
            let (parent, field) = match path.split_once('/') {
                Some((parent, field)) => (Some(parent), field),
                None => (None, *path),
            };
            let revealed = match parent {
                Some(parent) => withheld.get(parent).and_then(|p| p.get(field)),
                None => withheld.get(field),
            }
            .cloned();
            let target = match parent {
                Some(parent) => {
                    let entry = account
                        .entry(parent.to_owned())
                        .or_insert_with(|| Value::Object(Map::new()));
                    match entry.as_object_mut() {
                        Some(object) => object,
                        None => continue,
                    }
                }
                None => &mut *account,
            };
            if agreed {
                if let Some(value) = revealed {
                    target.insert(field.to_owned(), value);
                }
            } else {
                target.remove(field);
            }
        }
        if !agreed
            && account
                .get("profile")
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
        {
            account.remove("profile");
        }
    }
    user
}

/// Korean label of a scope, as Kakao's consent screen words it.
pub(crate) fn scope_label(scope: &str) -> &str {
    match scope {
        "openid" => "OpenID Connect 식별자",
        "profile" => "프로필 정보(닉네임/프로필 사진)",
        "profile_nickname" => "닉네임",
        "profile_image" => "프로필 사진",
        "name" => "이름",
        "account_email" => "카카오계정(이메일)",
        "age_range" => "연령대",
        "birthyear" => "출생 연도",
        "birthday" => "생일",
        "gender" => "성별",
        "phone_number" => "카카오계정(전화번호)",
        "account_ci" => "CI(연계정보)",
        other => other,
    }
}

/// The scopes a user has agreed to (flag present and `false`), in table order.
pub(crate) fn agreed_scopes(user: &Value) -> Vec<String> {
    flagged_scopes(user, false)
}

/// The scopes configured for the app for this user (flag present either way).
pub(crate) fn configured_scopes(user: &Value) -> Vec<String> {
    let mut all = flagged_scopes(user, false);
    all.extend(flagged_scopes(user, true));
    all.sort_by_key(|s| SCOPE_FLAGS.iter().position(|(_, id)| id == s));
    all
}

fn flagged_scopes(user: &Value, needs_agreement: bool) -> Vec<String> {
    let Some(account) = user.get("kakao_account") else {
        return Vec::new();
    };
    SCOPE_FLAGS
        .iter()
        .filter(|(flag, _)| account.get(*flag).and_then(Value::as_bool) == Some(needs_agreement))
        .map(|(_, scope)| (*scope).to_owned())
        .collect()
}

/// A user as `/v2/user/me` returns it: placeholders replaced, and with
/// `secure_resource=true` foreign `http://` image URLs upgraded to `https://`
/// (the emulator's own images are plain http on loopback; it has no TLS).
pub(crate) fn render(user: &Value, base_url: &str, secure_resource: bool) -> Value {
    match user {
        Value::String(s) => {
            let mut s = s.replace(BASE_URL_PLACEHOLDER, base_url);
            if secure_resource && s.starts_with("http://") && !s.starts_with(base_url) {
                s.replace_range(.."http".len(), "https");
            }
            Value::String(s)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), render(v, base_url, secure_resource)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render(v, base_url, secure_resource))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `kakao_account` fields that come together with each `property_keys` entry
/// (`docs/kakao-api.md` §4.1: asking for `.email` also returns its flags).
fn account_group(key: &str) -> Option<&'static [&'static str]> {
    Some(match key {
        "profile" => &[
            "profile",
            "profile_needs_agreement",
            "profile_nickname_needs_agreement",
            "profile_image_needs_agreement",
        ],
        "name" => &["name", "name_needs_agreement"],
        "email" => &[
            "email",
            "email_needs_agreement",
            "is_email_valid",
            "is_email_verified",
        ],
        "age_range" => &["age_range", "age_range_needs_agreement"],
        "birthday" => &[
            "birthday",
            "birthday_needs_agreement",
            "birthday_type",
            "is_leap_month",
            "birthyear",
            "birthyear_needs_agreement",
        ],
        "gender" => &["gender", "gender_needs_agreement"],
        // Not in the documented key list, but the fields exist; accepting them
        // is kinder than a -2 for a key a client could reasonably send.
        "birthyear" => &["birthyear", "birthyear_needs_agreement"],
        "phone_number" => &["phone_number", "phone_number_needs_agreement"],
        "ci" => &["ci", "ci_needs_agreement", "ci_authenticated_at"],
        _ => return None,
    })
}

/// Applies a `property_keys` selection (JSON array of strings) to a rendered
/// user. `None` when the selection is malformed (kapi answers -2).
pub(crate) fn select_properties(user: &Value, property_keys: &str) -> Option<Value> {
    let keys: Vec<String> = serde_json::from_str(property_keys).ok()?;
    let mut out = Map::new();
    // The identity fields are not properties; Kakao always returns them.
    for field in ["id", "has_signed_up", "connected_at", "synched_at"] {
        if let Some(v) = user.get(field) {
            out.insert(field.to_owned(), v.clone());
        }
    }
    let empty = Map::new();
    let account = user
        .get("kakao_account")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let properties = user
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut account_out = Map::new();
    let mut properties_out = Map::new();
    for key in &keys {
        if key == "kakao_account." {
            account_out.extend(account.clone());
        } else if key == "properties." {
            properties_out.extend(properties.clone());
        } else if let Some(field) = key.strip_prefix("kakao_account.") {
            for name in account_group(field)? {
                if let Some(v) = account.get(*name) {
                    account_out.insert((*name).to_owned(), v.clone());
                }
            }
        } else if let Some(field) = key.strip_prefix("properties.") {
            if let Some(v) = properties.get(field) {
                properties_out.insert(field.to_owned(), v.clone());
            }
        } else {
            return None;
        }
    }
    if !account_out.is_empty() {
        out.insert("kakao_account".into(), Value::Object(account_out));
    }
    if !properties_out.is_empty() {
        out.insert("properties".into(), Value::Object(properties_out));
    }
    Some(Value::Object(out))
}

fn account_str<'a>(user: &'a Value, pointer: &str) -> Option<&'a str> {
    user.pointer(&format!("/kakao_account{pointer}"))
        .and_then(Value::as_str)
}

fn account_bool(user: &Value, pointer: &str) -> bool {
    user.pointer(&format!("/kakao_account{pointer}"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The optional id_token claims (`docs/kakao-api.md` §7.3) for a rendered user.
pub(crate) fn id_token_profile_claims(user: &Value) -> Map<String, Value> {
    let mut claims = Map::new();
    if let Some(nickname) = account_str(user, "/profile/nickname") {
        claims.insert("nickname".into(), nickname.into());
    }
    if let Some(picture) = account_str(user, "/profile/thumbnail_image_url") {
        claims.insert("picture".into(), picture.into());
    }
    // Only a valid *and* verified email goes into the id_token.
    if account_bool(user, "/is_email_valid")
        && account_bool(user, "/is_email_verified")
        && let Some(email) = account_str(user, "/email")
    {
        claims.insert("email".into(), email.into());
    }
    claims
}

/// `/v1/oidc/userinfo` claims (`docs/kakao-api.md` §7.5) for a rendered user.
pub(crate) fn userinfo_claims(user: &Value, id: i64) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), id.to_string().into());
    if let Some(name) = account_str(user, "/name") {
        claims.insert("name".into(), name.into());
    }
    claims.extend(id_token_profile_claims(user));
    if let Some(email) = account_str(user, "/email") {
        claims.insert("email".into(), email.into());
        let verified =
            account_bool(user, "/is_email_valid") && account_bool(user, "/is_email_verified");
        claims.insert("email_verified".into(), verified.into());
    }
    if let Some(gender) = account_str(user, "/gender") {
        // The doc example shows upper case ("MALE") although the text says
        // female/male; we follow the example, clients must accept any case.
        claims.insert("gender".into(), gender.to_uppercase().into());
    }
    let year = account_str(user, "/birthyear");
    let day = account_str(user, "/birthday").filter(|d| d.len() == 4);
    let birthdate = match (year, day) {
        (Some(y), Some(d)) => Some(format!("{y}-{}-{}", &d[..2], &d[2..])),
        (None, Some(d)) => Some(format!("0000-{}-{}", &d[..2], &d[2..])),
        (Some(y), None) => Some(y.to_owned()),
        (None, None) => None,
    };
    if let Some(b) = birthdate {
        claims.insert("birthdate".into(), b.into());
    }
    if let Some(phone) = account_str(user, "/phone_number") {
        claims.insert("phone_number".into(), phone.into());
        claims.insert("phone_number_verified".into(), true.into());
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::fixture_ids::*;
    use super::*;

    #[test]
    fn default_fixtures_cover_every_named_case() {
        let users = Users::default_fixtures();
        for id in [
            NINETEEN_DIGIT_ID,
            SOLAR_BIRTHDAY_WITH_YEAR,
            LEAP_DAY_WITHOUT_YEAR,
            LUNAR_LEAP_MONTH,
            BIRTHDAY_NOT_CONSENTED,
            NO_PROFILE_CONSENT,
            EMOJI_NICKNAME,
            MALFORMED_BIRTHDAY,
            DEFAULT_PROFILE_IMAGE,
        ] {
            assert!(
                users.get(id).is_some(),
                "fixture_ids::* must name shipped users ({id})"
            );
        }
        assert!(
            NINETEEN_DIGIT_ID.to_string().len() == 19 && NINETEEN_DIGIT_ID > 1 << 53,
            "the large id must exceed 2^53 to catch f64 parsing"
        );
    }

    #[test]
    fn fixtures_with_null_or_without_id_are_refused() {
        assert!(
            matches!(
                Users::from_json(r#"[{"id":1,"kakao_account":{"email":null}}]"#),
                Err(FixtureError::NullValue { id: 1, .. })
            ),
            "Kakao never sends null, so a fixture must not either"
        );
        assert!(
            matches!(
                Users::from_json(r#"[{"id":"1"}]"#),
                Err(FixtureError::MissingId { index: 0 })
            ),
            "ids are integers in /v2/user/me"
        );
        assert!(
            matches!(
                Users::from_json(r#"[{"id":1},{"id":1}]"#),
                Err(FixtureError::DuplicateId(1))
            ),
            "ids are unique per app"
        );
    }

    #[test]
    fn scopes_follow_the_needs_agreement_flags() {
        let users = Users::default_fixtures();
        let user = users.get(BIRTHDAY_NOT_CONSENTED).expect("fixture");
        assert_eq!(
            agreed_scopes(user),
            ["profile_nickname", "profile_image"],
            "flags that are true are configured but not agreed"
        );
        assert_eq!(
            configured_scopes(user),
            ["profile_nickname", "profile_image", "birthyear", "birthday"],
            "configured = every flag present"
        );
    }

    #[test]
    fn render_replaces_base_url_and_upgrades_foreign_images() {
        let user =
            serde_json::json!({"a":"{base_url}/images/x.png","b":"http://k.kakaocdn.net/i.jpg"});
        let out = render(&user, "http://127.0.0.1:9", true);
        assert_eq!(
            out,
            serde_json::json!({"a":"http://127.0.0.1:9/images/x.png","b":"https://k.kakaocdn.net/i.jpg"}),
            "secure_resource=true gives https for Kakao's CDN, the emulator itself has no TLS"
        );
    }

    #[test]
    fn property_keys_select_groups() {
        let users = Users::default_fixtures();
        let user = users.get(SOLAR_BIRTHDAY_WITH_YEAR).expect("fixture");
        let out = select_properties(user, r#"["kakao_account.email"]"#).expect("valid keys");
        assert_eq!(
            out,
            serde_json::json!({"id": SOLAR_BIRTHDAY_WITH_YEAR, "connected_at": "2023-10-12T21:27:02Z",
                "kakao_account": {"email_needs_agreement": false, "is_email_valid": true,
                    "is_email_verified": true, "email": "solar.park@example.com"}}),
            "asking for .email returns the email group and the identity fields only"
        );
        assert!(
            select_properties(user, "not json").is_none(),
            "malformed keys are a -2 error"
        );
    }

    #[test]
    fn userinfo_birthdate_follows_the_oidc_convention() {
        let users = Users::default_fixtures();
        let claims = |id| userinfo_claims(users.get(id).expect("fixture"), id);
        assert_eq!(
            claims(LEAP_DAY_WITHOUT_YEAR).get("birthdate"),
            Some(&Value::from("0000-02-29")),
            "birthday without year is 0000-MM-DD"
        );
        assert_eq!(
            claims(SOLAR_BIRTHDAY_WITH_YEAR).get("birthdate"),
            Some(&Value::from("1990-11-30")),
            "birthday with year is YYYY-MM-DD"
        );
        assert_eq!(
            claims(EMOJI_NICKNAME).get("email_verified"),
            Some(&Value::from(false)),
            "an unverified email is reported as such"
        );
    }
}
