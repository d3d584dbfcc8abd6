//! The `/v2/user/me` answer as Kakao sends it (`docs/kakao-api.md` §4): Kakao's own field names, every field but `id` optional, each parsed
//! leniently so that one surprising field never fails a login.
//! [`crate::profile`] turns it into the profile the app keeps.

use serde::{Deserialize, Deserializer};

/// The `/v2/user/me` response, exactly as Kakao sends it (`docs/kakao-api.md` §4.2). Only `id` is required.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct UserMeResponse {
    /// The user's id in this app.
    pub id: i64,
    /// When the user linked to the app (RFC 3339).
    #[serde(default, deserialize_with = "lenient")]
    pub connected_at: Option<String>,
    /// Only when auto-link is off.
    #[serde(default, deserialize_with = "lenient")]
    pub has_signed_up: Option<bool>,
    /// Kakao Sync sign-up time (Kakao's spelling).
    #[serde(default, deserialize_with = "lenient")]
    pub synched_at: Option<String>,
    /// Legacy properties (deprecated by Kakao, still sent).
    #[serde(default, deserialize_with = "lenient")]
    pub properties: Option<LegacyProperties>,
    /// The consent-governed account data.
    #[serde(default, deserialize_with = "lenient")]
    pub kakao_account: Option<KakaoAccount>,
}

/// The deprecated `properties` object. Not used for the profile (its fields
/// are not tied to the consent flags), kept for diagnosis.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct LegacyProperties {
    /// Deprecated nickname.
    #[serde(default, deserialize_with = "lenient")]
    pub nickname: Option<String>,
    /// Deprecated image URL.
    #[serde(default, deserialize_with = "lenient")]
    pub profile_image: Option<String>,
    /// Deprecated thumbnail URL.
    #[serde(default, deserialize_with = "lenient")]
    pub thumbnail_image: Option<String>,
}

/// `kakao_account`: every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
#[allow(missing_docs)] // Kakao's own field names: `docs/kakao-api.md` §4.2.
pub struct KakaoAccount {
    #[serde(default, deserialize_with = "lenient")]
    pub profile_needs_agreement: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub profile_nickname_needs_agreement: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub profile_image_needs_agreement: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub profile: Option<AccountProfile>,
    #[serde(default, deserialize_with = "lenient")]
    pub email_needs_agreement: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub is_email_valid: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub is_email_verified: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub birthyear_needs_agreement: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub birthyear: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub birthday_needs_agreement: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub birthday: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub birthday_type: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub is_leap_month: Option<bool>,
}

/// `kakao_account.profile`.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
#[allow(missing_docs)] // Kakao's own field names: `docs/kakao-api.md` §4.2.
pub struct AccountProfile {
    #[serde(default, deserialize_with = "lenient")]
    pub nickname: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub thumbnail_image_url: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub profile_image_url: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub is_default_image: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub is_default_nickname: Option<bool>,
}

/// Deserializes a field that may be absent, `null` or of an unexpected type;
/// the latter two become `None` (with a warning for a wrong type) instead of
/// failing the whole response.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    if value.is_null() {
        return Ok(None);
    }
    let found = match &value {
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
        serde_json::Value::Null => "null",
    };
    match T::deserialize(value) {
        Ok(parsed) => Ok(Some(parsed)),
        Err(_) => {
            // serde's message quotes the value, which is personal data: log
            // only the JSON type that was found.
            tracing::warn!(found, "ignored a /v2/user/me field of an unexpected type");
            Ok(None)
        }
    }
}
