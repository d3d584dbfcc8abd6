//! Stable error codes: the only thing a user interface may switch on.
//!
//! Every failure a user can hit maps to one [`ErrorCode`]. The code's string form
//! (`login_cancelled`, `network`, …) is stable API: the UI, end-to-end tests and
//! logs rely on it. Each code has a Korean and an English message that says what
//! the user can do next.

use serde::{Deserialize, Serialize};

/// A language the app speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// 한국어
    Ko,
    /// English
    En,
}

impl Language {
    /// Picks the language for a POSIX or BCP 47 locale tag (`ko_KR.UTF-8`,
    /// `ko-KR`, `en-US`, `C`). Korean locales give Korean; everything else
    /// gives English.
    pub fn from_locale(tag: &str) -> Self {
        let primary = tag
            .split(['_', '-', '.', '@'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if primary == "ko" { Self::Ko } else { Self::En }
    }

    /// The BCP 47 tag of this language (`ko`, `en`).
    pub fn tag(self) -> &'static str {
        match self {
            Self::Ko => "ko",
            Self::En => "en",
        }
    }

    /// Parses a tag as written by [`Language::tag`].
    pub fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "ko" => Some(Self::Ko),
            "en" => Some(Self::En),
            _ => None,
        }
    }
}

/// How a message template names the port (see [`ErrorCode::message_for`]).
pub const PORT_PLACEHOLDER: &str = "{port}";

/// The stable error codes of Kakao Desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The user cancelled on Kakao's consent page or in the app.
    LoginCancelled,
    /// The browser step took longer than the pending login's deadline.
    LoginTimeout,
    /// The callback's `state` does not belong to the login in progress.
    StateMismatch,
    /// The callback URL is malformed, foreign, or arrived with no login pending.
    InvalidCallback,
    /// Kakao could not be reached.
    Network,
    /// Kakao reported a temporary fault (-1, -7, -603, 5xx, KOE003).
    KakaoTemporary,
    /// The app's Kakao configuration is wrong (KOE006, KOE101, KOE010, KOE303, KOE205).
    KakaoConfig,
    /// The build names no Kakao app key and has no demo emulator to fall
    /// back on: the developer must set one and build again.
    NotConfigured,
    /// Kakao's issuance or request limits were hit (KOE237, -10).
    RateLimited,
    /// The session can no longer be renewed (invalid_grant, KOE322).
    SessionExpired,
    /// Kakao needs more consent from the user (-402).
    ConsentRequired,
    /// Additional consent was given by another Kakao account than the
    /// signed-in one.
    WrongAccount,
    /// The user tried to withdraw an item the app requires.
    NotRevocable,
    /// No OS keychain is available to hold the vault key.
    KeychainUnavailable,
    /// Local storage (the profile cache or the session vault) failed.
    Storage,
    /// A loopback login could not listen on its registered port (taken by
    /// another program, or reserved by the OS). Its message names the port:
    /// see [`ErrorCode::message_for`].
    PortUnavailable,
    /// Backend mode: the service's server could not be reached or failed.
    ServerUnavailable,
    /// Backend mode: the server refused the app's request as set up (the
    /// app and the server disagree about a redirect URI, the audience, …).
    ServerConfig,
    /// Backend mode: the Kakao account's email is already registered to
    /// another account of the service.
    AccountConflict,
    /// A bug: something that should not happen.
    Internal,
}

impl ErrorCode {
    /// Every code, in a stable order.
    pub const ALL: [ErrorCode; 20] = [
        Self::LoginCancelled,
        Self::LoginTimeout,
        Self::StateMismatch,
        Self::InvalidCallback,
        Self::Network,
        Self::KakaoTemporary,
        Self::KakaoConfig,
        Self::NotConfigured,
        Self::RateLimited,
        Self::SessionExpired,
        Self::ConsentRequired,
        Self::WrongAccount,
        Self::NotRevocable,
        Self::KeychainUnavailable,
        Self::Storage,
        Self::PortUnavailable,
        Self::ServerUnavailable,
        Self::ServerConfig,
        Self::AccountConflict,
        Self::Internal,
    ];

    /// The stable string form (`login_cancelled`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginCancelled => "login_cancelled",
            Self::LoginTimeout => "login_timeout",
            Self::StateMismatch => "state_mismatch",
            Self::InvalidCallback => "invalid_callback",
            Self::Network => "network",
            Self::KakaoTemporary => "kakao_temporary",
            Self::KakaoConfig => "kakao_config",
            Self::NotConfigured => "not_configured",
            Self::RateLimited => "rate_limited",
            Self::SessionExpired => "session_expired",
            Self::ConsentRequired => "consent_required",
            Self::WrongAccount => "wrong_account",
            Self::NotRevocable => "not_revocable",
            Self::KeychainUnavailable => "keychain_unavailable",
            Self::Storage => "storage",
            Self::PortUnavailable => "port_unavailable",
            Self::ServerUnavailable => "server_unavailable",
            Self::ServerConfig => "server_config",
            Self::AccountConflict => "account_conflict",
            Self::Internal => "internal",
        }
    }

    /// What the user sees, with the facts it names filled in: the port of
    /// [`ErrorCode::PortUnavailable`] replaces `{port}` (codes without
    /// placeholders come back as [`ErrorCode::message`] has them).
    pub fn message_for(self, lang: Language, port: Option<u16>) -> String {
        let template = self.message(lang);
        match port {
            Some(port) => template.replace(PORT_PLACEHOLDER, &port.to_string()),
            None => template.replace(PORT_PLACEHOLDER, "?"),
        }
    }

    /// What the user sees: what happened and what to do, in `lang`. The
    /// message of [`ErrorCode::PortUnavailable`] is a template naming the
    /// port as `{port}` (the UI fills it in when it switches language).
    pub fn message(self, lang: Language) -> &'static str {
        match (self, lang) {
            (Self::LoginCancelled, Language::Ko) => {
                "로그인이 취소되었습니다. 다시 시도하려면 카카오 로그인 버튼을 누르세요."
            }
            (Self::LoginCancelled, Language::En) => {
                "Login was cancelled. Press the Kakao login button to try again."
            }
            (Self::LoginTimeout, Language::Ko) => {
                "로그인 시간이 초과되었습니다. 카카오 로그인 버튼을 눌러 처음부터 다시 시도하세요."
            }
            (Self::LoginTimeout, Language::En) => {
                "The login took too long. Press the Kakao login button to start again."
            }
            (Self::StateMismatch, Language::Ko) => {
                "이 로그인 링크는 진행 중인 로그인과 맞지 않아 무시했습니다. 브라우저에서 다시 로그인하세요."
            }
            (Self::StateMismatch, Language::En) => {
                "This login link does not match the login in progress, so it was ignored. Log in again in the browser."
            }
            (Self::InvalidCallback, Language::Ko) => {
                "잘못된 로그인 링크를 받아 무시했습니다. 앱에서 카카오 로그인 버튼을 눌러 시작하세요."
            }
            (Self::InvalidCallback, Language::En) => {
                "An invalid login link was received and ignored. Start from the Kakao login button in the app."
            }
            (Self::Network, Language::Ko) => {
                "카카오에 연결할 수 없습니다. 인터넷 연결을 확인한 뒤 다시 시도하세요."
            }
            (Self::Network, Language::En) => {
                "Kakao could not be reached. Check your internet connection and try again."
            }
            (Self::KakaoTemporary, Language::Ko) => {
                "카카오 서버에 일시적인 문제가 있습니다. 잠시 후 다시 시도하세요."
            }
            (Self::KakaoTemporary, Language::En) => {
                "Kakao has a temporary problem. Please try again in a moment."
            }
            (Self::KakaoConfig, Language::Ko) => {
                "앱의 카카오 설정이 올바르지 않습니다(앱 키, 리다이렉트 URI, 동의 항목, 클라이언트 시크릿). 앱을 배포하는 분이라면 kakao-desk --check-config로 무엇을 고칠지 확인하고, 아니라면 앱 배포자에게 알려 주세요."
            }
            (Self::KakaoConfig, Language::En) => {
                "The app's Kakao settings are wrong (app key, redirect URI, consent items or client secret). If you publish this app, run kakao-desk --check-config to see what to fix; otherwise tell the app's publisher."
            }
            (Self::NotConfigured, Language::Ko) => {
                "이 빌드에는 카카오 앱 키가 없습니다. kakao.toml의 client_id(또는 빌드할 때 KAKAO_CLIENT_ID)에 REST API 키를 넣고 다시 빌드하세요. 키 없이 써 보려면 디버그 빌드(cargo run, npx tauri dev)가 데모 모드로 실행됩니다."
            }
            (Self::NotConfigured, Language::En) => {
                "This build has no Kakao app key. Put your REST API key in client_id in kakao.toml (or KAKAO_CLIENT_ID when building) and build again. To try it without a key, a debug build (cargo run, npx tauri dev) runs in demo mode."
            }
            (Self::RateLimited, Language::Ko) => {
                "요청이 너무 많습니다. 10분쯤 기다린 뒤 다시 시도하세요."
            }
            (Self::RateLimited, Language::En) => {
                "Too many requests. Wait about ten minutes, then try again."
            }
            (Self::SessionExpired, Language::Ko) => "로그인이 만료되었습니다. 다시 로그인하세요.",
            (Self::SessionExpired, Language::En) => "Your login has expired. Please log in again.",
            (Self::ConsentRequired, Language::Ko) => {
                "카카오에 추가 동의가 필요합니다. 프로필 카드에 나온 항목 추가 버튼을 누르고 브라우저에서 동의하세요."
            }
            (Self::ConsentRequired, Language::En) => {
                "Kakao needs more consent. Press the button for the item on the profile card, then agree in the browser."
            }
            (Self::WrongAccount, Language::Ko) => {
                "브라우저에서 다른 카카오계정으로 동의해 아무것도 바꾸지 않았습니다. 브라우저에 로그인된 카카오계정을 확인한 뒤 다시 시도하세요."
            }
            (Self::WrongAccount, Language::En) => {
                "You agreed with a different Kakao account in the browser, so nothing was changed. Check which Kakao account the browser is signed in to, then try again."
            }
            (Self::NotRevocable, Language::Ko) => {
                "이 항목은 앱에 꼭 필요해서 철회할 수 없습니다. 앱과의 연결을 모두 끊으려면 '연결 끊기'를 누르세요."
            }
            (Self::NotRevocable, Language::En) => {
                "The app requires this item, so it cannot be withdrawn. To remove the app from your Kakao account, press \"Disconnect\"."
            }
            (Self::KeychainUnavailable, Language::Ko) => {
                "시스템 키체인을 사용할 수 없어 로그인 상태를 이 실행 동안만 유지합니다. 키체인(예: GNOME 키링)을 켜면 다음 실행에도 유지됩니다."
            }
            (Self::KeychainUnavailable, Language::En) => {
                "The system keychain is unavailable, so you stay signed in only until the app closes. Enable a keychain (e.g. GNOME Keyring) to stay signed in."
            }
            (Self::Storage, Language::Ko) => {
                "로컬 데이터를 읽거나 쓰지 못했습니다. 디스크 공간과 권한을 확인한 뒤 다시 시도하세요."
            }
            (Self::Storage, Language::En) => {
                "Local data could not be read or written. Check disk space and permissions, then try again."
            }
            (Self::PortUnavailable, Language::Ko) => {
                "로그인 응답을 받을 포트 {port}번을 열지 못했습니다. 이 포트를 쓰는 다른 프로그램을 닫고 다시 시도하세요. 계속되면 앱 배포자에게 알려 주세요(Windows가 예약한 포트일 수 있습니다)."
            }
            (Self::PortUnavailable, Language::En) => {
                "Could not listen on port {port}, where the login's answer arrives. Close any other program using that port and try again; if it keeps happening, tell the app's publisher (Windows may have reserved the port)."
            }
            (Self::ServerUnavailable, Language::Ko) => {
                "서비스 서버에 연결할 수 없습니다. 인터넷 연결을 확인하고 잠시 후 다시 시도하세요."
            }
            (Self::ServerUnavailable, Language::En) => {
                "The service's server could not be reached. Check your internet connection and try again in a moment."
            }
            (Self::ServerConfig, Language::Ko) => {
                "앱과 서비스 서버의 설정이 맞지 않아 로그인할 수 없습니다. 앱 배포자에게 알려 주세요."
            }
            (Self::ServerConfig, Language::En) => {
                "The app and the service's server are not set up to match, so you cannot sign in. Please tell the app's publisher."
            }
            (Self::AccountConflict, Language::Ko) => {
                "이 카카오계정의 이메일로 이미 다른 방법으로 가입한 계정이 있습니다. 처음 가입한 방법으로 로그인하세요."
            }
            (Self::AccountConflict, Language::En) => {
                "An account with this Kakao account's email already exists, made another way. Sign in the way you first signed up."
            }
            (Self::Internal, Language::Ko) => {
                "예상하지 못한 오류가 발생했습니다. 앱을 다시 시작해 보고, 계속되면 문제를 알려 주세요."
            }
            (Self::Internal, Language::En) => {
                "Something unexpected went wrong. Restart the app, and report it if it happens again."
            }
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_form_is_the_stable_string() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).expect("codes serialize");
            assert_eq!(
                json,
                format!("\"{}\"", code.as_str()),
                "the UI switches on the serialized code, so it must equal as_str()"
            );
        }
    }

    #[test]
    fn the_port_message_names_the_port_in_both_languages() {
        for lang in [Language::Ko, Language::En] {
            let template = ErrorCode::PortUnavailable.message(lang);
            assert!(template.contains(PORT_PLACEHOLDER), "{lang:?}: a template");
            let message = ErrorCode::PortUnavailable.message_for(lang, Some(41785));
            assert!(message.contains("41785"), "{lang:?}: {message}");
            assert!(!message.contains(PORT_PLACEHOLDER), "{lang:?}: {message}");
        }
        assert_eq!(
            ErrorCode::Network.message_for(Language::En, Some(41785)),
            ErrorCode::Network.message(Language::En),
            "a message without a placeholder is left as it is"
        );
    }

    #[test]
    fn every_code_has_distinct_korean_and_english_messages() {
        for code in ErrorCode::ALL {
            let ko = code.message(Language::Ko);
            let en = code.message(Language::En);
            assert_ne!(ko, en, "{code}: the two languages must differ");
            assert!(
                ko.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)),
                "{code}: the Korean message must contain Hangul"
            );
            assert!(
                en.is_ascii(),
                "{code}: the English message must be plain ASCII"
            );
        }
    }

    #[test]
    fn locale_tags_pick_the_language() {
        for (tag, want) in [
            ("ko_KR.UTF-8", Language::Ko),
            ("ko-KR", Language::Ko),
            ("KO", Language::Ko),
            ("en_US.UTF-8", Language::En),
            ("C", Language::En),
            ("", Language::En),
            ("kok_IN", Language::En),
        ] {
            assert_eq!(Language::from_locale(tag), want, "locale {tag:?}");
        }
    }
}
