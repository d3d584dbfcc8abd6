//! Profile normalisation: Kakao's `/v2/user/me` answer, as sent
//! ([`crate::kakao::user_me`]), turned into the [`KakaoProfile`] the app keeps
//! and the [`PublicProfile`] the UI sees.
//!
//! # Consent rules
//!
//! Kakao *omits* what it will not give; it does not send `null`
//! (`docs/kakao-api.md` §4.3). For each consent item (nickname, image, email,
//! birthday, birth year):
//!
//! | `*_needs_agreement` | value   | meaning                                   |
//! |---------------------|---------|-------------------------------------------|
//! | absent              | absent  | the app did not configure the item        |
//! | `true`              | absent  | configured, the user has not agreed       |
//! | `false`             | present | agreed                                    |
//! | `false`             | absent  | agreed, but the account has no such data  |
//!
//! None of these is an error. A value is used only when it is present **and**
//! its flag is not `true` (a value beside `needs_agreement: true` contradicts
//! the flag and is dropped with a warning). The legacy combined `profile` scope
//! (`profile_needs_agreement`) covers the nickname and the images when the
//! split flags are absent. Items still awaiting consent are listed in
//! [`KakaoProfile::needs_agreement`], so the app can offer to ask again.
//!
//! Every field but `id` may be missing or have an unexpected type: the wire
//! types parse leniently per field (a bad field is dropped with a warning), so
//! a surprise in one optional field never fails a login. Unknown fields are
//! ignored.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::birthday::{Birthday, BirthdayError, Calendar};
use crate::kakao::user_me::{AccountProfile, UserMeResponse};

/// A Kakao user id (회원번호): 64-bit, and real ids exceed 2^53, so it is a
/// string everywhere it could meet JavaScript (IPC, JSON for the UI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KakaoId(i64);

impl KakaoId {
    /// Wraps a raw id.
    pub fn new(id: i64) -> Self {
        Self(id)
    }

    /// The raw 64-bit id.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for KakaoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for KakaoId {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

/// Serialized as a decimal **string**, never a JSON number.
impl Serialize for KakaoId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// Accepts Kakao's JSON integer and our own string form.
impl<'de> Deserialize<'de> for KakaoId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Ok(Self(n)),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A consent item whose value Kakao withholds until the user agrees. The string
/// form is Kakao's scope id, ready for a re-consent authorize request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentItem {
    /// `profile_nickname` (or the legacy `profile`).
    ProfileNickname,
    /// `profile_image` (or the legacy `profile`).
    ProfileImage,
    /// `account_email`.
    AccountEmail,
    /// `birthday`.
    Birthday,
    /// `birthyear`.
    Birthyear,
}

impl ConsentItem {
    /// Every item, in a stable order.
    pub const ALL: [ConsentItem; 5] = [
        Self::ProfileNickname,
        Self::ProfileImage,
        Self::AccountEmail,
        Self::Birthday,
        Self::Birthyear,
    ];

    /// The item of Kakao's scope id, if it is one of these.
    pub fn from_scope(scope: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|item| item.scope() == scope)
    }

    /// Kakao's scope id.
    pub fn scope(self) -> &'static str {
        match self {
            Self::ProfileNickname => "profile_nickname",
            Self::ProfileImage => "profile_image",
            Self::AccountEmail => "account_email",
            Self::Birthday => "birthday",
            Self::Birthyear => "birthyear",
        }
    }
}

/// Something in the response that was dropped instead of failing the login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileWarning {
    /// The birthday fields did not form a real date.
    InvalidBirthday(BirthdayError),
    /// An image URL was not an absolute http(s) URL.
    InvalidImageUrl,
    /// A value arrived beside `needs_agreement: true` and was not used.
    ValueDespiteMissingConsent(ConsentItem),
}

/// The profile the app keeps: only what the user consented to and Kakao sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KakaoProfile {
    /// The Kakao user id.
    pub id: KakaoId,
    /// The nickname, if consented and set.
    pub nickname: Option<String>,
    /// Whether the nickname is Kakao's placeholder ("닉네임을 등록해주세요").
    pub is_default_nickname: bool,
    /// 110×110 thumbnail URL (http or https).
    pub thumbnail_url: Option<Url>,
    /// 640×640 profile image URL (http or https).
    pub profile_image_url: Option<Url>,
    /// Whether the images are Kakao's default picture.
    pub is_default_image: bool,
    /// The email, if consented, present and not marked invalid by Kakao.
    pub email: Option<String>,
    /// Whether Kakao says the email is verified.
    pub email_verified: bool,
    /// The birthday, if consented, present and a real date.
    pub birthday: Option<Birthday>,
    /// Consent items configured for the app that the user has not agreed to.
    pub needs_agreement: BTreeSet<ConsentItem>,
}

impl KakaoProfile {
    /// A profile with an id and nothing else.
    pub fn new(id: KakaoId) -> Self {
        Self {
            id,
            nickname: None,
            is_default_nickname: false,
            thumbnail_url: None,
            profile_image_url: None,
            is_default_image: false,
            email: None,
            email_verified: false,
            birthday: None,
            needs_agreement: BTreeSet::new(),
        }
    }

    /// Normalises a `/v2/user/me` response with the consent rules in the
    /// module docs. Never fails: whatever cannot be used is left out, logged
    /// with `tracing::warn!` (without the value) and returned as a warning.
    pub fn from_user_me(me: &UserMeResponse) -> (Self, Vec<ProfileWarning>) {
        let mut profile = Self::new(KakaoId(me.id));
        let mut warnings = Vec::new();
        let Some(account) = &me.kakao_account else {
            return (profile, warnings);
        };
        let empty = AccountProfile::default();
        let account_profile = account.profile.as_ref().unwrap_or(&empty);

        // The split flags win over the legacy combined `profile` flag.
        let nickname_flag = account
            .profile_nickname_needs_agreement
            .or(account.profile_needs_agreement);
        let image_flag = account
            .profile_image_needs_agreement
            .or(account.profile_needs_agreement);

        let mut gate = ConsentGate {
            needs_agreement: &mut profile.needs_agreement,
            warnings: &mut warnings,
        };
        profile.nickname = gate
            .take(
                ConsentItem::ProfileNickname,
                nickname_flag,
                account_profile.nickname.as_ref(),
            )
            .filter(|n| !n.trim().is_empty())
            .cloned();
        if profile.nickname.is_some() {
            profile.is_default_nickname = account_profile.is_default_nickname.unwrap_or(false);
        }

        let thumbnail = gate.take(
            ConsentItem::ProfileImage,
            image_flag,
            account_profile.thumbnail_image_url.as_ref(),
        );
        let image = gate.take(
            ConsentItem::ProfileImage,
            image_flag,
            account_profile.profile_image_url.as_ref(),
        );
        profile.thumbnail_url = thumbnail.and_then(|u| image_url(u, gate.warnings));
        profile.profile_image_url = image.and_then(|u| image_url(u, gate.warnings));
        if profile.thumbnail_url.is_some() || profile.profile_image_url.is_some() {
            profile.is_default_image = account_profile.is_default_image.unwrap_or(false);
        }

        let email = gate.take(
            ConsentItem::AccountEmail,
            account.email_needs_agreement,
            account.email.as_ref(),
        );
        // `is_email_valid: false`: the address was reassigned to another
        // account and has expired; it no longer reaches this user.
        if account.is_email_valid != Some(false) {
            profile.email = email.filter(|e| !e.trim().is_empty()).cloned();
            profile.email_verified =
                profile.email.is_some() && account.is_email_verified == Some(true);
        }

        let birthyear = gate.take(
            ConsentItem::Birthyear,
            account.birthyear_needs_agreement,
            account.birthyear.as_ref(),
        );
        let birthday = gate.take(
            ConsentItem::Birthday,
            account.birthday_needs_agreement,
            account.birthday.as_ref(),
        );
        if let Some(month_day) = birthday {
            match Birthday::from_kakao(
                month_day,
                birthyear.map(String::as_str),
                account.birthday_type.as_deref(),
                account.is_leap_month,
            ) {
                Ok(date) => profile.birthday = Some(date),
                Err(error) => {
                    tracing::warn!(%error, "Kakao sent a birthday that is not a date; keeping none");
                    warnings.push(ProfileWarning::InvalidBirthday(error));
                }
            }
        }
        (profile, warnings)
    }

    /// The view for the UI: no tokens, the id as a string.
    pub fn to_public(&self) -> PublicProfile {
        PublicProfile {
            kakao_id: self.id,
            nickname: self.nickname.clone(),
            thumbnail_url: self.thumbnail_url.as_ref().map(Url::to_string),
            thumbnail_data_url: None,
            profile_image_url: self.profile_image_url.as_ref().map(Url::to_string),
            is_default_image: self.is_default_image,
            email: self.email.clone(),
            birthday: self.birthday.map(|b| PublicBirthday {
                date: b.to_iso(),
                year_known: b.year().is_some(),
                calendar: b.calendar(),
                leap_month: b.is_leap_month(),
            }),
            needs_agreement: self.needs_agreement.iter().copied().collect(),
        }
    }
}

/// Applies one consent flag to one value, recording what is missing.
struct ConsentGate<'a> {
    needs_agreement: &'a mut BTreeSet<ConsentItem>,
    warnings: &'a mut Vec<ProfileWarning>,
}

impl ConsentGate<'_> {
    fn take<'v, T>(
        &mut self,
        item: ConsentItem,
        flag: Option<bool>,
        value: Option<&'v T>,
    ) -> Option<&'v T> {
        if flag == Some(true) {
            self.needs_agreement.insert(item);
            if value.is_some() {
                tracing::warn!(
                    scope = item.scope(),
                    "Kakao sent a value whose consent is still needed; not using it"
                );
                self.warnings
                    .push(ProfileWarning::ValueDespiteMissingConsent(item));
            }
            return None;
        }
        value
    }
}

fn image_url(raw: &str, warnings: &mut Vec<ProfileWarning>) -> Option<Url> {
    match Url::parse(raw) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Some(url),
        _ => {
            tracing::warn!("Kakao sent an image URL that is not http(s); ignoring it");
            warnings.push(ProfileWarning::InvalidImageUrl);
            None
        }
    }
}

/// The profile as the UI sees it (camelCase JSON). Holds no token and nothing
/// the user did not consent to share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicProfile {
    /// The Kakao id, as a decimal string (ids exceed 2^53).
    pub kakao_id: KakaoId,
    /// The nickname.
    pub nickname: Option<String>,
    /// Thumbnail URL.
    pub thumbnail_url: Option<String>,
    /// The cached thumbnail as a `data:` URL, for display with no network
    /// (set by [`crate::cache::CachedProfile::to_public`]; the page's CSP must
    /// allow `img-src data:`).
    pub thumbnail_data_url: Option<String>,
    /// Profile image URL.
    pub profile_image_url: Option<String>,
    /// Whether the images are Kakao's default picture.
    pub is_default_image: bool,
    /// The email.
    pub email: Option<String>,
    /// The birthday.
    pub birthday: Option<PublicBirthday>,
    /// Scope ids still awaiting the user's consent.
    pub needs_agreement: Vec<ConsentItem>,
}

/// A birthday for the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicBirthday {
    /// ISO 8601 date; year `0000` when unknown.
    pub date: String,
    /// Whether the year in `date` is real.
    pub year_known: bool,
    /// `solar` or `lunar`.
    pub calendar: Calendar,
    /// Lunar leap month (윤달).
    pub leap_month: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kakao::user_me::UserMeResponse;

    fn normalise(json: &str) -> (KakaoProfile, Vec<ProfileWarning>) {
        let me: UserMeResponse = serde_json::from_str(json).expect("fixture parses");
        KakaoProfile::from_user_me(&me)
    }

    const DOC_EXAMPLE: &str = r#"{
      "id":123456789,
      "connected_at": "2022-04-11T01:45:28Z",
      "kakao_account": {
        "profile_nickname_needs_agreement": false,
        "profile_image_needs_agreement": false,
        "profile": {
          "nickname": "홍길동",
          "thumbnail_image_url": "http://yyy.kakao.com/dn/abc/img_110x110.jpg",
          "profile_image_url": "http://yyy.kakao.com/dn/abc/img_640x640.jpg",
          "is_default_image":false,
          "is_default_nickname": false
        },
        "name_needs_agreement":false, "name":"홍길동",
        "email_needs_agreement":false, "is_email_valid": true, "is_email_verified": true,
        "email": "sample@sample.com",
        "age_range_needs_agreement":false, "age_range":"20~29",
        "birthyear_needs_agreement": false, "birthyear": "2002",
        "birthday_needs_agreement":false, "birthday":"1130", "birthday_type":"SOLAR", "is_leap_month": false,
        "gender_needs_agreement":false, "gender":"female",
        "phone_number_needs_agreement": false, "phone_number": "+82 010-1234-5678",
        "ci_needs_agreement": false, "ci": "${CI}", "ci_authenticated_at": "2019-03-11T11:25:22Z"
      },
      "properties":{ "${CUSTOM_PROPERTY_KEY}": "${CUSTOM_PROPERTY_VALUE}" },
      "for_partner": { "uuid": "${UUID}" }
    }"#;

    #[test]
    fn the_documented_full_response_is_used_entirely() {
        let (p, warnings) = normalise(DOC_EXAMPLE);
        assert!(
            warnings.is_empty(),
            "the doc example is clean: {warnings:?}"
        );
        assert_eq!(p.id, KakaoId::new(123_456_789));
        assert_eq!(
            p.nickname.as_deref(),
            Some("홍길동"),
            "consented nickname is kept"
        );
        assert_eq!(
            p.thumbnail_url.as_ref().map(Url::as_str),
            Some("http://yyy.kakao.com/dn/abc/img_110x110.jpg"),
            "consented thumbnail is kept"
        );
        assert_eq!(
            p.email.as_deref(),
            Some("sample@sample.com"),
            "consented valid email is kept"
        );
        assert!(p.email_verified, "Kakao says verified");
        let birthday = p.birthday.expect("consented birthday is kept");
        assert_eq!(
            birthday.to_iso(),
            "2002-11-30",
            "birth year and MMDD combine into one date"
        );
        assert!(p.needs_agreement.is_empty(), "everything was agreed");
    }

    #[test]
    fn ids_beyond_2_pow_53_survive_exactly() {
        let (p, _) = normalise(r#"{"id":1376016924429759243}"#);
        assert_eq!(
            p.id.get(),
            1_376_016_924_429_759_243,
            "i64 parse, never through f64"
        );
        let json = serde_json::to_value(p.to_public()).expect("serializes");
        assert_eq!(
            json["kakaoId"],
            serde_json::json!("1376016924429759243"),
            "JavaScript would round a number; the UI must get a string"
        );
    }

    #[test]
    fn nickname_only_app_gets_nothing_else() {
        // Doc example: only the nickname item configured and agreed.
        let (p, warnings) = normalise(
            r#"{"id":1,"connected_at":"2022-04-11T01:45:28Z",
               "kakao_account":{"profile_nickname_needs_agreement":false,"profile":{"nickname":"홍길동"}},
               "properties":{"custom":"x"}}"#,
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(p.nickname.as_deref(), Some("홍길동"));
        assert_eq!(
            p.email, None,
            "email item not configured: absent, not an error"
        );
        assert_eq!(
            p.birthday, None,
            "birthday item not configured: absent, not an error"
        );
        assert!(
            p.needs_agreement.is_empty(),
            "nothing configured is waiting for consent"
        );
    }

    #[test]
    fn needs_agreement_means_absent_and_is_not_an_error() {
        let (p, warnings) = normalise(
            r#"{"id":2,"kakao_account":{
                "profile_nickname_needs_agreement":false,"profile":{"nickname":"n"},
                "email_needs_agreement":true,
                "birthday_needs_agreement":true,
                "birthyear_needs_agreement":true}}"#,
        );
        assert!(
            warnings.is_empty(),
            "missing consent is normal, not a warning: {warnings:?}"
        );
        assert_eq!(p.email, None);
        assert_eq!(p.birthday, None);
        assert_eq!(
            p.needs_agreement,
            BTreeSet::from([
                ConsentItem::AccountEmail,
                ConsentItem::Birthday,
                ConsentItem::Birthyear
            ]),
            "the app can ask for exactly these scopes again"
        );
    }

    #[test]
    fn a_value_beside_needs_agreement_true_is_not_used() {
        // The inverse of a seed's bug, which used the birthday only when
        // consent was *needed*.
        let (p, warnings) = normalise(
            r#"{"id":3,"kakao_account":{"birthday_needs_agreement":true,"birthday":"0101","birthday_type":"SOLAR"}}"#,
        );
        assert_eq!(p.birthday, None, "the flag says the user has not agreed");
        assert_eq!(
            warnings,
            vec![ProfileWarning::ValueDespiteMissingConsent(
                ConsentItem::Birthday
            )]
        );
    }

    #[test]
    fn the_birthday_is_the_value_not_the_key_name() {
        // A seed stored the literal string "birthday"; the date must come from
        // the value Kakao sent.
        let (p, _) = normalise(
            r#"{"id":4,"kakao_account":{"birthday_needs_agreement":false,"birthday":"0704","birthday_type":"LUNAR","is_leap_month":true}}"#,
        );
        let b = p.birthday.expect("agreed birthday is used");
        assert_eq!(
            b.to_iso(),
            "0000-07-04",
            "month and day from the value, unknown year 0000"
        );
        assert_eq!(b.calendar(), Calendar::Lunar);
        assert!(b.is_leap_month(), "the leap-month flag rides along");
    }

    #[test]
    fn agreed_but_no_data_is_absent_without_error() {
        let (p, warnings) = normalise(
            r#"{"id":5,"kakao_account":{"email_needs_agreement":false,"birthday_needs_agreement":false}}"#,
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(p.email, None, "the account has no email");
        assert_eq!(p.birthday, None, "the account has no birthday");
        assert!(
            p.needs_agreement.is_empty(),
            "nothing is waiting for consent"
        );
    }

    #[test]
    fn invalid_birthdays_are_dropped_with_a_warning() {
        for (fields, why) in [
            (r#""birthday":"1345""#, "month 13"),
            (
                r#""birthday":"0230","birthday_type":"SOLAR""#,
                "Feb 30 solar",
            ),
            (r#""birthday":"ab12""#, "letters"),
            (
                r#""birthday":"0229","birthyear":"2001","birthday_type":"SOLAR""#,
                "Feb 29 in a non-leap year",
            ),
            (
                r#""birthday":1130"#,
                "a number where a string belongs is dropped by the lenient parse",
            ),
        ] {
            let json = format!(
                r#"{{"id":6,"kakao_account":{{"birthday_needs_agreement":false,{fields}}}}}"#
            );
            let me: UserMeResponse = serde_json::from_str(&json)
                .unwrap_or_else(|e| panic!("{why}: must still parse: {e}"));
            let (p, warnings) = KakaoProfile::from_user_me(&me);
            assert_eq!(p.birthday, None, "{why}: no birthday is stored");
            assert_eq!(p.id.get(), 6, "{why}: the login goes on");
            if why != "a number where a string belongs is dropped by the lenient parse" {
                assert!(
                    matches!(warnings.as_slice(), [ProfileWarning::InvalidBirthday(_)]),
                    "{why}: a warning says why: {warnings:?}"
                );
            }
        }
    }

    #[test]
    fn legacy_profile_scope_governs_nickname_and_image() {
        let (p, _) = normalise(r#"{"id":7,"kakao_account":{"profile_needs_agreement":true}}"#);
        assert_eq!(
            p.needs_agreement,
            BTreeSet::from([ConsentItem::ProfileNickname, ConsentItem::ProfileImage]),
            "the combined legacy scope covers both"
        );
        let (p, warnings) = normalise(
            r#"{"id":8,"kakao_account":{"profile_needs_agreement":false,
                "profile":{"nickname":"옛날","thumbnail_image_url":"https://k.kakaocdn.net/t.jpg","is_default_image":true}}}"#,
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            p.nickname.as_deref(),
            Some("옛날"),
            "agreed through the legacy scope"
        );
        assert!(p.thumbnail_url.is_some(), "agreed through the legacy scope");
        assert!(p.is_default_image, "the default-image flag is carried");
    }

    #[test]
    fn an_expired_email_is_not_kept() {
        let (p, _) = normalise(
            r#"{"id":9,"kakao_account":{"email_needs_agreement":false,"email":"old@example.com","is_email_valid":false,"is_email_verified":true}}"#,
        );
        assert_eq!(
            p.email, None,
            "is_email_valid=false: the address belongs to someone else now"
        );
    }

    #[test]
    fn hostile_or_odd_fields_do_not_fail_the_parse() {
        let (p, warnings) = normalise(
            r#"{"id":10,"brand_new_field":{"x":1},"kakao_account":{
                "profile_nickname_needs_agreement":"false",
                "profile_image_needs_agreement":false,
                "profile":{"nickname":null,"thumbnail_image_url":"javascript:alert(1)"},
                "email_needs_agreement":false,"email":null}}"#,
        );
        assert_eq!(p.nickname, None, "null is treated as absent");
        assert_eq!(
            p.thumbnail_url, None,
            "only http(s) image URLs reach the UI"
        );
        assert_eq!(p.email, None, "null email is absent");
        assert_eq!(warnings, vec![ProfileWarning::InvalidImageUrl]);
    }

    #[test]
    fn a_missing_or_bad_id_fails_the_parse() {
        assert!(
            serde_json::from_str::<UserMeResponse>(r#"{"kakao_account":{}}"#).is_err(),
            "without an id there is no account to sign in"
        );
        assert!(
            serde_json::from_str::<UserMeResponse>(r#"{"id":1.5e30}"#).is_err(),
            "an id that is not an i64 must not be rounded into one"
        );
    }

    #[test]
    fn the_public_view_has_exactly_the_ui_fields() {
        let (p, _) = normalise(DOC_EXAMPLE);
        let json = serde_json::to_value(p.to_public()).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "kakaoId": "123456789",
                "nickname": "홍길동",
                "thumbnailUrl": "http://yyy.kakao.com/dn/abc/img_110x110.jpg",
                "thumbnailDataUrl": null,
                "profileImageUrl": "http://yyy.kakao.com/dn/abc/img_640x640.jpg",
                "isDefaultImage": false,
                "email": "sample@sample.com",
                "birthday": {"date": "2002-11-30", "yearKnown": true, "calendar": "solar", "leapMonth": false},
                "needsAgreement": []
            }),
            "the UI contract: a string id, ISO birthday with its calendar, nothing else"
        );
        let back: KakaoId =
            serde_json::from_value(json["kakaoId"].clone()).expect("string id parses back");
        assert_eq!(back, p.id, "the UI can send the id back as it received it");
    }
}
