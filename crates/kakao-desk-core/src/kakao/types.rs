//! What Kakao answers, as typed values. Tokens move straight from the wire
//! into their secret newtypes.

use serde::Deserialize;

use crate::secret::{AccessToken, IdToken, RefreshToken};

/// The longest token lifetime believed from an answer. Kakao's are hours (the
/// access token) and two months (the refresh token); anything beyond a year
/// is a malformed answer, and would overflow the clock arithmetic of an
/// absolute expiry.
pub const MAX_TOKEN_LIFETIME_SECS: u64 = 365 * 24 * 3600;

/// A token endpoint answer ([RFC 6749 §5.1], `docs/kakao-api.md` §3.1–3.2).
///
/// [RFC 6749 §5.1]: https://www.rfc-editor.org/rfc/rfc6749#section-5.1
#[derive(Debug)]
pub struct TokenSet {
    /// The access token.
    pub access_token: AccessToken,
    /// Seconds the access token (and the id_token) lives.
    pub expires_in: u64,
    /// A refresh token: always at the code exchange, at a refresh only when
    /// the old one had less than a month left.
    pub refresh_token: Option<RefreshToken>,
    /// Seconds the refresh token lives, beside `refresh_token`.
    pub refresh_token_expires_in: Option<u64>,
    /// The OIDC id_token, when OIDC is on for the app.
    pub id_token: Option<IdToken>,
    /// Granted scopes, space-separated, when Kakao says.
    pub scope: Option<Vec<String>>,
}

#[derive(Deserialize)]
pub(crate) struct RawTokenSet {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    expires_in: u64,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    refresh_token_expires_in: Option<u64>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

impl RawTokenSet {
    /// Moves the strings into their newtypes; `None` for a token type other
    /// than bearer, an empty access token, or a lifetime of zero or beyond
    /// [`MAX_TOKEN_LIFETIME_SECS`].
    pub(crate) fn into_tokens(self) -> Option<TokenSet> {
        let bearer = self
            .token_type
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("bearer"));
        let believable = |secs: u64| (1..=MAX_TOKEN_LIFETIME_SECS).contains(&secs);
        if !bearer
            || self.access_token.is_empty()
            || !believable(self.expires_in)
            || self
                .refresh_token_expires_in
                .is_some_and(|s| !believable(s))
        {
            return None;
        }
        Some(TokenSet {
            access_token: AccessToken::new(self.access_token),
            expires_in: self.expires_in,
            refresh_token: self
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(RefreshToken::new),
            refresh_token_expires_in: self.refresh_token_expires_in,
            id_token: self.id_token.filter(|t| !t.is_empty()).map(IdToken::new),
            scope: self.scope.map(|s| {
                s.split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            }),
        })
    }
}

/// `GET /v1/user/access_token_info` (`docs/kakao-api.md` §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccessTokenInfo {
    /// The Kakao id (absent for some app-key tokens).
    #[serde(default)]
    pub id: Option<i64>,
    /// Remaining seconds.
    pub expires_in: i64,
    /// The app the token belongs to.
    pub app_id: i64,
}

/// `GET /v2/user/scopes` and `POST /v2/user/revoke/scopes`
/// (`docs/kakao-api.md` §5.5): the app's consent items and the user's answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ScopesAnswer {
    /// The items.
    #[serde(default)]
    pub scopes: Vec<ScopeInfo>,
}

/// One consent item of [`ScopesAnswer`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ScopeInfo {
    /// Kakao's scope id.
    pub id: String,
    /// Whether the user agreed.
    #[serde(default)]
    pub agreed: bool,
    /// Whether the user may withdraw it (present only beside `agreed`).
    #[serde(default)]
    pub revocable: Option<bool>,
}

/// The parts of the OIDC discovery document the client uses
/// ([OpenID Connect Discovery §3], `docs/kakao-api.md` §7.1).
///
/// [OpenID Connect Discovery §3]: https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Discovery {
    /// The issuer every id_token must name in `iss`.
    pub issuer: String,
    /// Where the signing keys are.
    pub jwks_uri: String,
    /// Algorithms Kakao signs id_tokens with (RS256).
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(json: &str) -> Option<TokenSet> {
        serde_json::from_str::<RawTokenSet>(json)
            .expect("the shape parses")
            .into_tokens()
    }

    #[test]
    fn a_kakao_answer_becomes_tokens() {
        let set = tokens(
            r#"{"token_type":"bearer","access_token":"a","expires_in":21599,
                "refresh_token":"r","refresh_token_expires_in":5183999,"scope":"openid profile_nickname"}"#,
        )
        .expect("Kakao's documented answer");
        assert_eq!(set.expires_in, 21_599);
        assert_eq!(
            set.scope.as_deref(),
            Some(&["openid".to_owned(), "profile_nickname".to_owned()][..])
        );
    }

    #[test]
    fn absurd_lifetimes_are_a_malformed_answer() {
        for (json, why) in [
            (
                r#"{"token_type":"bearer","access_token":"a","expires_in":18446744073709551615}"#,
                "u64::MAX seconds would overflow now + expires_in",
            ),
            (
                r#"{"token_type":"bearer","access_token":"a","expires_in":31536001}"#,
                "more than a year",
            ),
            (
                r#"{"token_type":"bearer","access_token":"a","expires_in":0}"#,
                "a token that is already dead",
            ),
            (
                r#"{"token_type":"bearer","access_token":"a","expires_in":21599,"refresh_token":"r","refresh_token_expires_in":18446744073709551615}"#,
                "an absurd refresh token lifetime",
            ),
            (
                r#"{"token_type":"mac","access_token":"a","expires_in":21599}"#,
                "not a bearer token",
            ),
        ] {
            assert!(tokens(json).is_none(), "{why}: refused, not believed");
        }
    }
}
