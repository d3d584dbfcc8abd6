//! Why a login operation failed, and the stable code the user sees for it.

use thiserror::Error;

use crate::ErrorCode;
use crate::browser::BrowserError;
use crate::cache::CacheError;
use crate::callback::CallbackError;
use crate::kakao::{ClientBuildError, KakaoError};
use crate::loopback::LoopbackError;
use crate::oidc::OidcError;
use crate::random::RandomError;
use crate::session::SessionError;
use crate::vault::{KeyError, VaultError};

/// Why a login, session or account operation failed. [`LoginError::code`] is
/// what the UI shows.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LoginError {
    /// A callback was refused.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// Kakao refused or could not be reached.
    #[error(transparent)]
    Kakao(#[from] KakaoError),
    /// The id_token did not verify.
    #[error(transparent)]
    Oidc(#[from] OidcError),
    /// The session JWT or record is unusable.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The profile cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The loopback receiver could not listen.
    #[error(transparent)]
    Loopback(#[from] LoopbackError),
    /// The OS RNG failed.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The system browser could not be opened.
    #[error(transparent)]
    Browser(#[from] BrowserError),
    /// The id_token and `/v2/user/me` name different users.
    #[error("the id_token and /v2/user/me name different users")]
    UserMismatch,
    /// Kakao's token answer lacked a refresh token at login.
    #[error("Kakao issued no refresh token")]
    NoRefreshToken,
    /// No session: sign in first.
    #[error("not signed in")]
    NotSignedIn,
    /// The app withdrew the login attempt: cancelled in the app, or replaced
    /// by a newer attempt. Nothing the user needs to be told.
    #[error("the login attempt was withdrawn")]
    Withdrawn,
    /// The attempt's deadline passed while waiting for the browser.
    #[error("the login timed out")]
    TimedOut,
    /// No login attempt is waiting (nothing to open again).
    #[error("no login is waiting")]
    NoAttempt,
    /// Additional consent came back for an account other than the signed-in
    /// one (the browser was signed in to it).
    #[error("consent was given by another Kakao account")]
    OtherAccount,
    /// The UI asked for a consent offer the card does not make.
    #[error("no such consent offer")]
    NoSuchOffer,
    /// The item is required by the app's console: it cannot be withdrawn.
    #[error("the consent item is required and cannot be withdrawn")]
    NotRevocable,
    /// The user declined additional consent on Kakao's page: nothing
    /// changed, and the card says so (no error to show).
    #[error("additional consent was declined")]
    ConsentDeclined,
    /// A browser sign-out was asked for with no logout redirect URI
    /// configured (the UI does not offer it then).
    #[error("no logout redirect URI is configured")]
    NoLogoutRedirect,
    /// The call was made for an account that is no longer the one in use
    /// (the user switched meanwhile): its outcome is for nobody to hear.
    #[error("the account in use changed while the call ran")]
    Superseded,
}

impl LoginError {
    /// The stable error code the user sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Callback(e) => e.code(),
            Self::Kakao(e) => e.code(),
            Self::Oidc(e) => e.code(),
            Self::Session(e) => e.code(),
            Self::Vault(e) => e.code(),
            Self::Cache(e) => e.code(),
            Self::Loopback(e) => e.code(),
            Self::Random(e) => e.code(),
            Self::Browser(_)
            | Self::UserMismatch
            | Self::NoRefreshToken
            | Self::NoSuchOffer
            | Self::NoLogoutRedirect
            | Self::Superseded => ErrorCode::Internal,
            Self::OtherAccount => ErrorCode::WrongAccount,
            Self::NotRevocable => ErrorCode::NotRevocable,
            Self::NotSignedIn => ErrorCode::SessionExpired,
            Self::Withdrawn | Self::ConsentDeclined => ErrorCode::LoginCancelled,
            Self::TimedOut | Self::NoAttempt => ErrorCode::LoginTimeout,
        }
    }

    /// True when Kakao could not be reached or had a passing fault: the
    /// session is kept and the app shows the cached profile with the offline
    /// badge instead of an error.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Self::Kakao(e) | Self::Oidc(OidcError::Fetch(e)) => e.is_unreachable(),
            _ => false,
        }
    }

    /// The port the user's message names ([`ErrorCode::PortUnavailable`]),
    /// for [`ErrorCode::message_for`].
    pub fn port(&self) -> Option<u16> {
        match self {
            Self::Loopback(e) => e.port(),
            _ => None,
        }
    }

    /// What the user sees, in `lang`, with the facts the message names.
    pub fn message(&self, lang: crate::Language) -> String {
        self.code().message_for(lang, self.port())
    }

    /// True for a declined additional consent: the card says it, so no
    /// error is reported.
    pub fn is_consent_declined(&self) -> bool {
        matches!(self, Self::ConsentDeclined)
    }

    /// True when the app itself ended the attempt (cancel, or a newer
    /// attempt): not a failure to report.
    pub fn is_withdrawn(&self) -> bool {
        matches!(self, Self::Withdrawn)
    }

    /// True when the account in use changed while the call ran
    /// ([`LoginError::Superseded`]): nothing to tell the user.
    pub fn is_superseded(&self) -> bool {
        matches!(self, Self::Superseded)
    }
}

/// The login could not be opened.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The HTTP client could not be built.
    #[error(transparent)]
    Client(#[from] ClientBuildError),
    /// No key could be had, not even an in-memory one.
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl OpenError {
    /// The stable error code the user sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Client(e) => e.code(),
            Self::Key(e) => e.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_means_network_or_a_passing_kakao_fault() {
        let unreachable = [
            KakaoError::Network { timeout: true },
            KakaoError::Network { timeout: false },
            KakaoError::Status { status: 503 },
            KakaoError::Malformed { status: 200 },
        ];
        for error in unreachable {
            let code = error.code();
            assert!(
                LoginError::from(error).is_unreachable(),
                "{code}: the session stays and the offline badge shows"
            );
        }
        let reachable = [
            KakaoError::Status { status: 404 },
            KakaoError::Status { status: 429 },
            KakaoError::Api {
                status: 401,
                code: -401,
                required_scopes: Vec::new(),
            },
        ];
        for error in reachable {
            let code = error.code();
            assert!(
                !LoginError::from(error).is_unreachable(),
                "{code}: Kakao answered, so this is an error to show"
            );
        }
        assert!(
            LoginError::from(OidcError::Fetch(KakaoError::Network { timeout: false }))
                .is_unreachable(),
            "no JWKS because Kakao is unreachable is still unreachable"
        );
        assert!(!LoginError::TimedOut.is_unreachable());
    }

    #[test]
    fn only_the_app_withdraws_quietly() {
        assert!(LoginError::Withdrawn.is_withdrawn());
        assert_eq!(LoginError::Withdrawn.code(), ErrorCode::LoginCancelled);
        assert!(
            !LoginError::from(CallbackError::Cancelled).is_withdrawn(),
            "a cancel on Kakao's page is the user's, and is reported"
        );
        assert_eq!(LoginError::NoAttempt.code(), ErrorCode::LoginTimeout);
    }
}
