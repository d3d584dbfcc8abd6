//! The emulator's memory: pending consents, codes, token grants, links,
//! browser sessions and the issuance history behind KOE237.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How long an authorization code lives (community-reported "10분 만료").
pub(crate) const CODE_LIFETIME_MS: u64 = 10 * 60 * 1000;

/// A refresh token is renewed only when less than this remains (`docs/kakao-api.md` §3.2).
pub(crate) const ROTATION_WINDOW_MS: u64 = 30 * 24 * 3600 * 1000;

/// A validated authorize request, waiting for the user's answer or turned into
/// a code.
#[derive(Clone, Debug)]
pub(crate) struct AuthorizeRequest {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub scopes: Vec<String>,
    pub prompt: Vec<String>,
}

/// An issued authorization code.
#[derive(Debug)]
pub(crate) struct IssuedCode {
    pub user_id: i64,
    pub request: AuthorizeRequest,
    pub auth_time: u64,
    pub issued_at_ms: u64,
}

/// One login's token lineage: the current access and refresh tokens.
#[derive(Debug)]
pub(crate) struct Grant {
    pub user_id: i64,
    pub with_id_token: bool,
    pub auth_time: u64,
    pub access_token: String,
    pub refresh_token: String,
}

#[derive(Debug)]
pub(crate) struct AccessToken {
    pub grant: u64,
    pub user_id: i64,
    pub expires_at_ms: u64,
}

#[derive(Debug)]
pub(crate) struct RefreshToken {
    pub grant: u64,
    pub expires_at_ms: u64,
}

/// What kapi learns from a bearer token.
pub(crate) enum TokenLookup {
    Valid {
        user_id: i64,
        grant: u64,
        expires_at_ms: u64,
    },
    Expired,
    Unknown,
}

/// Mutable emulator state, behind one mutex (requests are tiny; one lock keeps
/// every rule atomic, e.g. a code can never be exchanged twice concurrently).
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub redirect_uris: Vec<String>,
    pub auto_consent: Option<i64>,
    pub latency: Duration,
    pub pending: HashMap<String, AuthorizeRequest>,
    pub codes: HashMap<String, IssuedCode>,
    pub grants: HashMap<u64, Grant>,
    pub access_tokens: HashMap<String, AccessToken>,
    pub refresh_tokens: HashMap<String, RefreshToken>,
    pub linked: HashSet<i64>,
    /// Consent changes per user since the fixture (additional consent,
    /// withdrawals); forgotten at unlink.
    pub consents: HashMap<i64, crate::users::ConsentChanges>,
    /// Browser "Kakao Account" sessions: cookie value -> (user, auth_time).
    pub sessions: HashMap<String, (i64, u64)>,
    pub issued: HashMap<i64, Issued>,
    pub next_grant: u64,
    /// Every code and token handed out, in order: what a leak scan looks for.
    pub secrets: Vec<String>,
}

/// Issue times (ms) per user, for the issuance limit.
#[derive(Debug, Default)]
pub(crate) struct Issued {
    pub access: VecDeque<u64>,
    pub refresh: VecDeque<u64>,
}

impl Store {
    pub(crate) fn new_grant_id(&mut self) -> u64 {
        self.next_grant += 1;
        self.next_grant
    }

    pub(crate) fn lookup_access(&self, token: &str, now_ms: u64) -> TokenLookup {
        match self.access_tokens.get(token) {
            None => TokenLookup::Unknown,
            Some(t) if t.expires_at_ms <= now_ms => TokenLookup::Expired,
            Some(t) => TokenLookup::Valid {
                user_id: t.user_id,
                grant: t.grant,
                expires_at_ms: t.expires_at_ms,
            },
        }
    }

    /// Revokes a grant's access and refresh tokens (logout revokes the pair).
    pub(crate) fn revoke_grant(&mut self, grant_id: u64) {
        if let Some(grant) = self.grants.remove(&grant_id) {
            self.access_tokens.remove(&grant.access_token);
            self.refresh_tokens.remove(&grant.refresh_token);
        }
    }

    /// Revokes every grant of a user (unlink).
    pub(crate) fn revoke_user(&mut self, user_id: i64) {
        let ids: Vec<u64> = self
            .grants
            .iter()
            .filter(|(_, g)| g.user_id == user_id)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.revoke_grant(id);
        }
    }
}

/// A random opaque value in Kakao's alphabet (base64url, no padding).
/// `bytes` = 40 gives 54 characters, the length of a real access token.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // getrandom fails only when the OS has no entropy source at all; a
    // predictable token would be worse than stopping.
    getrandom::fill(&mut buf).unwrap_or_else(|e| panic!("OS random source unavailable: {e}"));
    URL_SAFE_NO_PAD.encode(buf)
}

/// Remaining lifetime in whole seconds as Kakao reports it: a just-issued 6 h
/// token says 21599, one second under (observed in real responses).
pub(crate) fn reported_secs(expires_at_ms: u64, now_ms: u64) -> u64 {
    (expires_at_ms.saturating_sub(now_ms) / 1000).saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reported_lifetime_is_one_second_under() {
        assert_eq!(
            reported_secs(21_600_000, 0),
            21_599,
            "Kakao reports a 6 h token as expires_in 21599"
        );
        assert_eq!(
            reported_secs(0, 5),
            0,
            "an expired token reports 0, never underflows"
        );
    }

    #[test]
    fn tokens_look_like_kakao_tokens() {
        let t = random_token(40);
        assert_eq!(t.len(), 54, "54 characters like a real Kakao access token");
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "base64url alphabet only, so tokens need no escaping in forms"
        );
    }
}
