//! The configuration doctor: what is wrong with a publisher's Kakao set-up,
//! and what to change in the Kakao console or the config.
//!
//! Kakao answers most set-up mistakes on its own error page in the user's
//! browser (KOE006, KOE101, KOE205, …) and never redirects back, so the app
//! would only wait. The doctor finds them before a user does:
//!
//! * [`check_offline`]: rules on the configuration alone (redirect URI shape
//!   and mode, the client secret, `openid`, the deep-link scheme);
//! * [`check_online`]: the configured auth host's discovery document (its
//!   issuer), the authorize endpoint itself, fetched without following
//!   redirects the way the real login asks (an error page naming a KOE code
//!   instead of Kakao's login page), once per consent item when Kakao refuses
//!   the list, and in bridge mode the bridge page (does it forward to this
//!   build's scheme?).
//!
//! [`Report`] renders the findings with the exact values to register in the
//! console, in Korean or English. `kakao-desk --check-config` prints it; the
//! app's "Having trouble?" panel shows the findings of a login that waits.

use crate::Language;
use crate::authorize::{LoginOptions, begin};
use crate::config::{Config, ConfigError, RedirectMode, Resolution, is_loopback_host};
use crate::kakao::{ClientOptions, KakaoClient, KakaoError, Page};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; nothing to fix.
    Info,
    /// Works, but weaker or fragile.
    Warning,
    /// Logging in cannot work until it is fixed.
    Error,
}

/// One thing the doctor found. [`Finding::id`] is stable (tests and scripts
/// match on it); [`Finding::message`] says what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// No REST API key: demo mode where the build has the emulator, else no
    /// login at all.
    NoClientId {
        /// The build can fall back on the bundled emulator.
        demo: bool,
    },
    /// The configuration was refused as it stands.
    Invalid(ConfigError),
    /// The REST API key is not 32 lowercase hex characters, as Kakao's are.
    ClientIdFormat,
    /// A client secret is configured; a desktop binary cannot keep it.
    ClientSecretSet,
    /// The redirect URI has a query; Kakao allows none (use `state`).
    RedirectHasQuery,
    /// Bridge mode with a redirect URI that is not https.
    BridgeNeedsHttps,
    /// Loopback mode without an explicit port, or with one that is
    /// privileged or in the range Windows often reserves.
    LoopbackPort {
        /// The port, when one is named.
        port: Option<u16>,
    },
    /// The redirect URI is the project's own bridge page, which forwards to
    /// the project's scheme, not this app's.
    ProjectBridgePage,
    /// The release and debug builds share one bridge redirect URI, so one
    /// of them never receives its links.
    SharedRedirect,
    /// `openid` is asked for while OpenID Connect is configured off.
    OpenidWithoutOidc,
    /// The deep-link scheme is not a reverse-DNS name.
    SchemeNotReverseDns {
        /// The scheme.
        scheme: String,
    },
    /// The deep-link scheme is not the app's identifier.
    SchemeNotIdentifier {
        /// The scheme.
        scheme: String,
        /// The identifier.
        identifier: String,
    },
    /// The auth host could not be reached: the online checks did not run.
    AuthHostUnreachable,
    /// The discovery document could not be read.
    DiscoveryFailed,
    /// Discovery names another issuer than the one the app trusts.
    IssuerMismatch {
        /// The issuer the app expects.
        expected: String,
        /// The issuer discovery names.
        found: String,
    },
    /// KOE006: the redirect URI is not registered for this REST API key.
    RedirectNotRegistered {
        /// The redirect URI to register.
        uri: String,
    },
    /// KOE101: no app has this REST API key.
    UnknownClientId,
    /// KOE007: the logout redirect URI is not registered, so "also sign out
    /// of Kakao in the browser" ends on Kakao's error page.
    LogoutRedirectNotRegistered {
        /// The logout redirect URI to register.
        uri: String,
    },
    /// KOE004: Kakao Login is off for the app.
    KakaoLoginOff,
    /// KOE205 for `openid`: OpenID Connect is off in the console.
    OidcOffInConsole,
    /// KOE205: consent items the app asks for are not set up in the console.
    ConsentItemsNotSet {
        /// The items Kakao refused.
        items: Vec<String>,
    },
    /// Another KOE code on the authorize page.
    AuthorizeError {
        /// The KOE code.
        code: String,
    },
    /// The bridge page could not be fetched (status 0: unreachable).
    BridgePageMissing {
        /// The HTTP status.
        status: u16,
    },
    /// The page at the redirect URI is not a bridge page.
    NotABridgePage,
    /// The bridge page forwards to another scheme.
    BridgeWrongScheme {
        /// The scheme it forwards to.
        found: String,
        /// This build's scheme.
        expected: String,
    },
    /// Backend mode: the server's `/healthz` does not answer "ok" (status
    /// 0: unreachable).
    BackendUnreachable {
        /// The HTTP status.
        status: u16,
    },
    /// Backend mode: the server publishes no Ed25519 key at
    /// `/.well-known/jwks.json`, so no token of its can be verified.
    BackendNoKeys,
    /// Backend mode with a client secret in the app: it belongs on the
    /// server only.
    BackendSecretInApp,
}

impl Finding {
    /// The stable id of the finding.
    pub fn id(&self) -> &'static str {
        match self {
            Self::NoClientId { .. } => "no_client_id",
            Self::Invalid(_) => "invalid_config",
            Self::ClientIdFormat => "client_id_format",
            Self::ClientSecretSet => "client_secret_set",
            Self::RedirectHasQuery => "redirect_has_query",
            Self::BridgeNeedsHttps => "bridge_needs_https",
            Self::LoopbackPort { .. } => "loopback_port",
            Self::ProjectBridgePage => "project_bridge_page",
            Self::SharedRedirect => "shared_redirect",
            Self::OpenidWithoutOidc => "openid_without_oidc",
            Self::SchemeNotReverseDns { .. } => "scheme_not_reverse_dns",
            Self::SchemeNotIdentifier { .. } => "scheme_not_identifier",
            Self::AuthHostUnreachable => "auth_host_unreachable",
            Self::DiscoveryFailed => "discovery_failed",
            Self::IssuerMismatch { .. } => "issuer_mismatch",
            Self::RedirectNotRegistered { .. } => "redirect_not_registered",
            Self::UnknownClientId => "unknown_client_id",
            Self::LogoutRedirectNotRegistered { .. } => "logout_redirect_not_registered",
            Self::KakaoLoginOff => "kakao_login_off",
            Self::OidcOffInConsole => "oidc_off_in_console",
            Self::ConsentItemsNotSet { .. } => "consent_items_not_set",
            Self::AuthorizeError { .. } => "authorize_error",
            Self::BridgePageMissing { .. } => "bridge_page_missing",
            Self::NotABridgePage => "not_a_bridge_page",
            Self::BridgeWrongScheme { .. } => "bridge_wrong_scheme",
            Self::BackendUnreachable { .. } => "backend_unreachable",
            Self::BackendNoKeys => "backend_no_keys",
            Self::BackendSecretInApp => "backend_secret_in_app",
        }
    }

    /// How bad it is.
    pub fn severity(&self) -> Severity {
        match self {
            Self::NoClientId { demo: true } => Severity::Info,
            Self::ClientIdFormat
            | Self::ClientSecretSet
            | Self::LoopbackPort { port: Some(_) }
            | Self::OpenidWithoutOidc
            | Self::SchemeNotIdentifier { .. }
            | Self::AuthHostUnreachable
            | Self::LogoutRedirectNotRegistered { .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// What is wrong and what to change, in `lang`.
    pub fn message(&self, lang: Language) -> String {
        let ko = lang == Language::Ko;
        let text = |k: &str, e: &str| if ko { k.to_owned() } else { e.to_owned() };
        match self {
            Self::NoClientId { demo: true } => text(
                "REST API 키가 없어 데모 모드(내장 카카오 에뮬레이터)로 실행됩니다. 실제 카카오로 로그인하려면 kakao.toml의 client_id(또는 빌드할 때 KAKAO_CLIENT_ID)를 설정하세요.",
                "No REST API key: this build runs in demo mode against the bundled Kakao emulator. To log in with the real Kakao, set client_id in kakao.toml (or KAKAO_CLIENT_ID when building).",
            ),
            Self::NoClientId { demo: false } => text(
                "REST API 키가 없고 데모 에뮬레이터도 없는 빌드라 로그인할 수 없습니다. kakao.toml의 client_id(또는 빌드할 때 KAKAO_CLIENT_ID)를 설정하고 다시 빌드하세요.",
                "No REST API key, and this build has no demo emulator: nobody can log in. Set client_id in kakao.toml (or KAKAO_CLIENT_ID when building) and build again.",
            ),
            Self::Invalid(error) => {
                if ko {
                    format!("설정을 사용할 수 없습니다: {error}. 값을 고친 뒤 다시 빌드하세요.")
                } else {
                    format!("The configuration is refused: {error}. Fix the value and build again.")
                }
            }
            Self::ClientIdFormat => text(
                "REST API 키가 32자리 16진수가 아닙니다. 콘솔의 [앱 > 앱 키]에서 'REST API 키'를 그대로 복사했는지 확인하세요(JavaScript 키나 네이티브 앱 키가 아닌지).",
                "The REST API key is not 32 hex characters. Copy the 'REST API key' from [App > App keys] in the console as it is (not the JavaScript or native app key).",
            ),
            Self::ClientSecretSet => text(
                "클라이언트 시크릿이 설정되어 있습니다. 데스크톱 앱에 넣은 시크릿은 누구나 꺼낼 수 있습니다. 가능하면 콘솔에서 이 REST API 키의 클라이언트 시크릿을 끄고 KAKAO_CLIENT_SECRET을 빼세요.",
                "A client secret is configured. Anyone with the binary can extract it. If you can, turn the client secret off for this REST API key in the console and drop KAKAO_CLIENT_SECRET.",
            ),
            Self::RedirectHasQuery => text(
                "리다이렉트 URI에 쿼리(?…)가 있습니다. 카카오는 리다이렉트 URI에 파라미터를 허용하지 않습니다. 쿼리를 빼고 콘솔에도 같은 값으로 등록하세요.",
                "The redirect URI has a query (?…). Kakao allows no parameters in a redirect URI. Drop the query and register the same value in the console.",
            ),
            Self::BridgeNeedsHttps => text(
                "브리지 모드의 리다이렉트 URI는 https여야 합니다. 브리지 페이지를 https로 배포하고 그 주소를 redirect_uri로 쓰거나, redirect_mode = \"loopback\"과 http://127.0.0.1:포트/… 주소를 쓰세요.",
                "In bridge mode the redirect URI must be https. Publish the bridge page over https and use its address as redirect_uri, or use redirect_mode = \"loopback\" with http://127.0.0.1:PORT/….",
            ),
            Self::LoopbackPort { port: None } => text(
                "루프백 리다이렉트 URI에 포트가 없습니다. http://127.0.0.1:41785/oauth/callback처럼 49152보다 작은 고정 포트를 넣고 콘솔에도 똑같이 등록하세요.",
                "The loopback redirect URI names no port. Use a fixed port below 49152, e.g. http://127.0.0.1:41785/oauth/callback, and register exactly that in the console.",
            ),
            Self::LoopbackPort { port: Some(port) } => {
                if ko {
                    format!(
                        "루프백 포트 {port}는 관리자 권한이 필요하거나 Windows(Hyper-V/WSL2)가 자주 예약하는 범위에 있어 열지 못할 수 있습니다. 1024~49151 사이의 포트를 쓰세요."
                    )
                } else {
                    format!(
                        "Loopback port {port} needs privileges or lies in the range Windows (Hyper-V/WSL2) often reserves, so the app may fail to listen on it. Use a port from 1024 to 49151."
                    )
                }
            }
            Self::ProjectBridgePage => text(
                "리다이렉트 URI가 Kakao Desk 프로젝트의 브리지 페이지입니다. 그 페이지는 프로젝트의 스킴으로만 전달하므로 이 앱은 로그인 링크를 받지 못합니다. bridge/ 사이트를 직접 배포하고(README 참고) 그 주소를 쓰세요.",
                "The redirect URI is the Kakao Desk project's bridge page, which forwards to the project's scheme only, so this app never receives the login link. Publish the bridge/ site yourself (see the README) and use its address.",
            ),
            Self::SharedRedirect => text(
                "릴리스 빌드와 디버그 빌드가 같은 브리지 리다이렉트 URI를 씁니다. 브리지 페이지는 하나의 스킴으로만 전달하므로 kakao.toml의 [release]와 [debug]에 서로 다른 페이지(…/kakao/callback/, …/kakao/callback/debug/)를 넣으세요.",
                "The release and debug builds share one bridge redirect URI. A bridge page forwards to one scheme only, so give [release] and [debug] in kakao.toml their own pages (…/kakao/callback/ and …/kakao/callback/debug/).",
            ),
            Self::OpenidWithoutOidc => text(
                "scopes에 openid가 있지만 oidc = false입니다. 콘솔에서 OpenID Connect를 켰다면 oidc = true로 두고, 아니라면 scopes에서 openid를 빼세요.",
                "scopes asks for openid but oidc = false. If OpenID Connect is on in the console, set oidc = true; otherwise drop openid from scopes.",
            ),
            Self::SchemeNotReverseDns { scheme } => {
                if ko {
                    format!(
                        "딥 링크 스킴 '{scheme}'이 역DNS 형식(예: com.example.desk)이 아닙니다. 다른 앱과 겹치지 않도록 tauri.conf.json의 identifier를 소유한 도메인의 역DNS로 정하세요."
                    )
                } else {
                    format!(
                        "The deep-link scheme '{scheme}' is not a reverse-DNS name (e.g. com.example.desk). Set the identifier in tauri.conf.json to a reverse-DNS name of a domain you own, so no other app claims it."
                    )
                }
            }
            Self::SchemeNotIdentifier { scheme, identifier } => {
                if ko {
                    format!(
                        "딥 링크 스킴 '{scheme}'이 앱 identifier '{identifier}'와 다릅니다. 브리지 페이지와 빌드가 같은 값을 쓰도록 스킴을 identifier와 같게 두세요."
                    )
                } else {
                    format!(
                        "The deep-link scheme '{scheme}' differs from the app identifier '{identifier}'. Keep the scheme equal to the identifier so the bridge page and the build agree."
                    )
                }
            }
            Self::AuthHostUnreachable => text(
                "카카오 인증 서버에 연결하지 못해 온라인 점검을 건너뛰었습니다. 인터넷 연결을 확인하고 다시 실행하세요.",
                "Kakao's auth host could not be reached, so the online checks were skipped. Check the internet connection and run again.",
            ),
            Self::DiscoveryFailed => text(
                "OpenID Connect 설정 문서(/.well-known/openid-configuration)를 읽지 못했습니다. KAKAO_AUTH_BASE_URL이 카카오 인증 서버(https://kauth.kakao.com)인지 확인하세요.",
                "The OpenID Connect discovery document (/.well-known/openid-configuration) could not be read. Check that KAKAO_AUTH_BASE_URL is Kakao's auth host (https://kauth.kakao.com).",
            ),
            Self::IssuerMismatch { expected, found } => {
                if ko {
                    format!(
                        "인증 서버의 issuer가 '{found}'인데 앱은 '{expected}'를 믿습니다. id_token 검증이 실패합니다. KAKAO_AUTH_BASE_URL(과 KAKAO_OIDC_ISSUER)을 확인하세요."
                    )
                } else {
                    format!(
                        "The auth host names the issuer '{found}' but the app trusts '{expected}': every id_token would fail. Check KAKAO_AUTH_BASE_URL (and KAKAO_OIDC_ISSUER)."
                    )
                }
            }
            Self::RedirectNotRegistered { uri } => {
                if ko {
                    format!(
                        "KOE006: 리다이렉트 URI가 이 REST API 키에 등록되어 있지 않습니다. 콘솔의 [앱 > 플랫폼 키 > REST API 키 > 리다이렉트 URI]에 {uri} 를 글자 그대로(끝의 / 포함) 등록하세요."
                    )
                } else {
                    format!(
                        "KOE006: the redirect URI is not registered for this REST API key. In the console, under [App > Platform keys > REST API key > Redirect URI], register {uri} exactly, trailing slash included."
                    )
                }
            }
            Self::LogoutRedirectNotRegistered { uri } => {
                if ko {
                    format!(
                        "KOE007: 로그아웃 리다이렉트 URI가 등록되어 있지 않아 '브라우저의 카카오계정에서도 로그아웃'이 카카오 오류 페이지에서 끝납니다. 콘솔의 [카카오 로그인 > 로그아웃 리다이렉트 URI]에 {uri} 를 글자 그대로 등록하세요(로그인은 영향 없음)."
                    )
                } else {
                    format!(
                        "KOE007: the logout redirect URI is not registered, so \"also sign out of Kakao in the browser\" ends on Kakao's error page. Register {uri} exactly under [Kakao Login > Logout redirect URI] in the console (logins are not affected)."
                    )
                }
            }
            Self::UnknownClientId => text(
                "KOE101: 이 REST API 키를 가진 앱이 없습니다. 콘솔의 [앱 > 앱 키]에서 REST API 키를 다시 복사하세요.",
                "KOE101: no app has this REST API key. Copy the REST API key again from [App > App keys] in the console.",
            ),
            Self::KakaoLoginOff => text(
                "KOE004: 이 앱의 카카오 로그인이 꺼져 있습니다. 콘솔의 [카카오 로그인 > 일반]에서 사용 설정을 켜세요.",
                "KOE004: Kakao Login is off for this app. Turn it on under [Kakao Login > General] in the console.",
            ),
            Self::OidcOffInConsole => text(
                "KOE205(openid): 콘솔에서 OpenID Connect가 꺼져 있습니다. [카카오 로그인 > 일반]에서 OpenID Connect를 켜거나, 쓰지 않으려면 kakao.toml에 oidc = false를 두세요.",
                "KOE205 (openid): OpenID Connect is off in the console. Turn it on under [Kakao Login > General], or set oidc = false in kakao.toml if you do not use it.",
            ),
            Self::ConsentItemsNotSet { items } => {
                let items = items.join(", ");
                if ko {
                    format!(
                        "KOE205: 콘솔에 설정하지 않은 동의 항목을 요청합니다: {items}. [카카오 로그인 > 동의항목]에서 설정하세요(일부 항목은 비즈 앱이어야 합니다). 또는 scopes에서 빼세요."
                    )
                } else {
                    format!(
                        "KOE205: the app asks for consent items the console has not set up: {items}. Set them up under [Kakao Login > Consent items] (some need a business app), or drop them from scopes."
                    )
                }
            }
            Self::AuthorizeError { code } => {
                if ko {
                    format!(
                        "카카오 로그인 페이지가 {code} 오류를 보여 줍니다. README의 문제 해결 표에서 {code}를 찾아보세요."
                    )
                } else {
                    format!(
                        "Kakao's login page shows error {code}. Look {code} up in the README's troubleshooting table."
                    )
                }
            }
            Self::BridgePageMissing { status: 0 } => text(
                "브리지 페이지(리다이렉트 URI)에 연결하지 못했습니다. 배포했는지, 주소가 맞는지 확인하세요.",
                "The bridge page (the redirect URI) could not be reached. Check that it is published and the address is right.",
            ),
            Self::BridgePageMissing { status } => {
                if ko {
                    format!(
                        "브리지 페이지(리다이렉트 URI)가 HTTP {status}로 답합니다. bridge/ 사이트를 배포하고(README 참고) 주소가 맞는지 확인하세요."
                    )
                } else {
                    format!(
                        "The bridge page (the redirect URI) answers HTTP {status}. Publish the bridge/ site (see the README) and check the address."
                    )
                }
            }
            Self::NotABridgePage => text(
                "리다이렉트 URI의 페이지가 Kakao Desk 브리지 페이지가 아닙니다. scripts/build-bridge-site.py로 만든 사이트를 그 주소에 배포하세요.",
                "The page at the redirect URI is not a Kakao Desk bridge page. Publish the site scripts/build-bridge-site.py builds at that address.",
            ),
            Self::BridgeWrongScheme { found, expected } => {
                if ko {
                    format!(
                        "브리지 페이지가 '{found}' 스킴으로 전달하지만 이 빌드의 스킴은 '{expected}'입니다. 이 앱의 tauri.conf.json으로 사이트를 다시 만들어 배포하세요(빌드 종류마다 다른 페이지)."
                    )
                } else {
                    format!(
                        "The bridge page forwards to the scheme '{found}' but this build's scheme is '{expected}'. Rebuild the site from this app's tauri.conf.json and publish it (one page per build kind)."
                    )
                }
            }
            Self::BackendUnreachable { status: 0 } => text(
                "백엔드 서버(KAKAO_BACKEND_URL)에 연결할 수 없습니다. 주소를 확인하고 서버가 실행 중인지(kakao-desk-server, 리버스 프록시) 확인하세요.",
                "The backend server (KAKAO_BACKEND_URL) could not be reached. Check the URL, and that kakao-desk-server and its reverse proxy are running.",
            ),
            Self::BackendUnreachable { status } => {
                if ko {
                    format!(
                        "백엔드 서버의 /healthz가 HTTP {status}로 답했습니다. 서버 로그를 확인하세요(데이터베이스 연결 등)."
                    )
                } else {
                    format!(
                        "The backend server's /healthz answered HTTP {status}. Check the server's log (its database, for one)."
                    )
                }
            }
            Self::BackendNoKeys => text(
                "백엔드 서버가 /.well-known/jwks.json에 Ed25519 키를 공개하지 않아 토큰을 검증할 수 없습니다. KAKAO_BACKEND_URL이 kakao-desk-server를 가리키는지 확인하세요.",
                "The backend server publishes no Ed25519 key at /.well-known/jwks.json, so its tokens cannot be verified. Check that KAKAO_BACKEND_URL points at kakao-desk-server.",
            ),
            Self::BackendSecretInApp => text(
                "백엔드 모드인데 앱에 클라이언트 시크릿이 있습니다. 시크릿은 서버(KDS_KAKAO_CLIENT_SECRET_FILE)에만 두고 앱에서는 지우세요.",
                "Backend mode, yet the app has a client secret: keep it on the server only (KDS_KAKAO_CLIENT_SECRET_FILE) and remove it from the app.",
            ),
        }
    }
}

/// What the doctor knows about the build beside its configuration.
#[derive(Debug, Clone)]
pub struct Setup {
    /// `debug` or `release`.
    pub build_kind: String,
    /// The identifier of this build (`….debug` for a debug build).
    pub identifier: String,
    /// This build's deep-link scheme.
    pub scheme: String,
    /// The build can fall back on the bundled emulator.
    pub has_demo: bool,
    /// The redirect URI of the other build kind, when the build knows it.
    pub other_redirect_uri: Option<String>,
}

/// The host of the project's own bridge page: it forwards to the project's
/// scheme only.
pub const PROJECT_BRIDGE_HOST: &str = "kakao-desk.github.io";

/// The project's own identifier (release builds).
pub const PROJECT_IDENTIFIER: &str = "dev.kakaodesk.desktop";

/// The rules that need no network.
pub fn check_offline(resolution: &Result<Resolution, ConfigError>, setup: &Setup) -> Vec<Finding> {
    let config = match resolution {
        Err(error) => return vec![Finding::Invalid(error.clone())],
        Ok(Resolution::Demo { .. }) => {
            return vec![Finding::NoClientId {
                demo: setup.has_demo,
            }];
        }
        Ok(Resolution::Kakao(config)) => config,
    };
    let mut findings = Vec::new();
    let kakao_is_real = !is_loopback_host(config.auth_base_url.url());
    let id = &config.client_id;
    if id.len() != 32
        || !id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        findings.push(Finding::ClientIdFormat);
    }
    match (&config.client_secret, &config.backend) {
        (Some(_), Some(_)) => findings.push(Finding::BackendSecretInApp),
        (Some(_), None) => findings.push(Finding::ClientSecretSet),
        (None, _) => {}
    }
    let redirect = config.redirect_uri.url();
    if redirect.query().is_some() {
        findings.push(Finding::RedirectHasQuery);
    }
    match config.redirect_mode {
        RedirectMode::Bridge => {
            if redirect.scheme() != "https" && kakao_is_real {
                findings.push(Finding::BridgeNeedsHttps);
            }
            let project = PROJECT_IDENTIFIER;
            if redirect.host_str() == Some(PROJECT_BRIDGE_HOST)
                && setup.identifier != project
                && setup.identifier != format!("{project}.debug")
            {
                findings.push(Finding::ProjectBridgePage);
            }
            if setup
                .other_redirect_uri
                .as_deref()
                .is_some_and(|other| other == config.redirect_uri.as_str())
            {
                findings.push(Finding::SharedRedirect);
            }
            if !is_reverse_dns(&setup.scheme) {
                findings.push(Finding::SchemeNotReverseDns {
                    scheme: setup.scheme.clone(),
                });
            } else if !setup.scheme.eq_ignore_ascii_case(&setup.identifier) {
                findings.push(Finding::SchemeNotIdentifier {
                    scheme: setup.scheme.clone(),
                    identifier: setup.identifier.clone(),
                });
            }
        }
        RedirectMode::Loopback => match redirect.port() {
            None => findings.push(Finding::LoopbackPort { port: None }),
            Some(port) if !(1024..49152).contains(&port) => {
                findings.push(Finding::LoopbackPort { port: Some(port) });
            }
            Some(_) => {}
        },
    }
    if !config.oidc && config.scopes.iter().any(|s| s == "openid") {
        findings.push(Finding::OpenidWithoutOidc);
    }
    findings
}

/// A reverse-DNS name: two or more dot-separated labels of lowercase
/// letters, digits and hyphens, starting with a letter (a valid URI scheme
/// that no other app claims by accident).
fn is_reverse_dns(scheme: &str) -> bool {
    let labels: Vec<&str> = scheme.split('.').collect();
    labels.len() >= 2
        && scheme.starts_with(|c: char| c.is_ascii_lowercase())
        && labels.iter().all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// The first KOE code (`KOE` and three digits) in a page or a URL.
fn koe_code(text: &str) -> Option<String> {
    text.match_indices("KOE").find_map(|(at, _)| {
        let digits = text.get(at + 3..at + 6)?;
        let next = text[at + 6..].chars().next();
        (digits.bytes().all(|b| b.is_ascii_digit()) && !next.is_some_and(|c| c.is_ascii_digit()))
            .then(|| format!("KOE{digits}"))
    })
}

/// What an authorize request got back.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Probe {
    /// Kakao's login or consent page, or a redirect back: the set-up passed.
    Passed,
    /// Kakao's error page with this code.
    Refused(String),
    /// No answer (network, 5xx).
    Unknown,
}

/// The checks against the configured auth host (and bridge page). Runs only
/// for a configuration that names a Kakao app.
pub async fn check_online(config: &Config, setup: &Setup, options: ClientOptions) -> Vec<Finding> {
    let Ok(client) = KakaoClient::new(config, options) else {
        return vec![Finding::AuthHostUnreachable];
    };
    let mut findings = Vec::new();
    match client.discovery().await {
        Ok(discovery) => {
            let found = discovery.issuer.trim_end_matches('/');
            if found != config.issuer.trim_end_matches('/') {
                findings.push(Finding::IssuerMismatch {
                    expected: config.issuer.clone(),
                    found: found.to_owned(),
                });
            }
        }
        Err(KakaoError::Network { .. }) => return vec![Finding::AuthHostUnreachable],
        Err(_) => findings.push(Finding::DiscoveryFailed),
    }
    if let Some(backend) = &config.backend {
        findings.extend(check_backend(&client, backend).await);
    }
    // The plain login first: a wrong key or redirect URI fails every request.
    match probe(&client, config, &[]).await {
        Probe::Passed => {}
        Probe::Unknown => {
            findings.push(Finding::AuthHostUnreachable);
            return findings;
        }
        Probe::Refused(code) => {
            findings.push(match code.as_str() {
                "KOE006" => Finding::RedirectNotRegistered {
                    uri: config.redirect_uri.as_str().to_owned(),
                },
                "KOE101" => Finding::UnknownClientId,
                "KOE004" => Finding::KakaoLoginOff,
                "KOE205" => consent_finding(&client, config).await,
                _ => Finding::AuthorizeError { code },
            });
            return findings;
        }
    }
    // Additional consent asks for `openid` and the configured items by name:
    // Kakao refuses (KOE205) what the console has not set up.
    if config.oidc && probe(&client, config, &["openid".to_owned()]).await == refused("KOE205") {
        findings.push(Finding::OidcOffInConsole);
    }
    if !config.scopes.is_empty() {
        let finding = consent_finding(&client, config).await;
        if matches!(&finding, Finding::ConsentItemsNotSet { items } if !items.is_empty()) {
            findings.push(finding);
        }
    }
    if config.redirect_mode == RedirectMode::Bridge {
        findings.extend(check_bridge_page(&client, config, setup).await);
    }
    if let Some(target) = &config.logout_redirect_uri {
        findings.extend(check_logout_redirect(&client, config, target).await);
    }
    findings
}

/// Backend mode: the server answers `/healthz` with "ok" and publishes an
/// Ed25519 key.
async fn check_backend(
    client: &KakaoClient,
    backend: &crate::config::BackendConfig,
) -> Vec<Finding> {
    let health = match client.page(&backend.url.endpoint("/healthz")).await {
        Ok(page) => page,
        Err(_) => return vec![Finding::BackendUnreachable { status: 0 }],
    };
    let ok =
        serde_json::from_str::<serde_json::Value>(&health.body).is_ok_and(|v| v["status"] == "ok");
    if health.status != 200 || !ok {
        return vec![Finding::BackendUnreachable {
            status: health.status,
        }];
    }
    let keys = client
        .page(&backend.url.endpoint("/.well-known/jwks.json"))
        .await
        .ok()
        .and_then(|page| serde_json::from_str::<serde_json::Value>(&page.body).ok())
        .and_then(|jwks| jwks["keys"].as_array().cloned())
        .unwrap_or_default();
    if keys
        .iter()
        .any(|k| k["kty"] == "OKP" && k["crv"] == "Ed25519" && k["kid"].is_string())
    {
        Vec::new()
    } else {
        vec![Finding::BackendNoKeys]
    }
}

/// Kakao's account logout with the configured logout redirect URI, without
/// a browser session (so nobody is signed out): a registered URI is
/// redirected to, an unregistered one gets KOE007's error page.
async fn check_logout_redirect(
    client: &KakaoClient,
    config: &Config,
    target: &url::Url,
) -> Option<Finding> {
    let mut url = config.auth_base_url.endpoint("oauth/logout");
    url.query_pairs_mut()
        .append_pair("client_id", &config.client_id)
        .append_pair("logout_redirect_uri", target.as_str());
    match client.page(&url).await {
        Ok(page) if classify(&page) == refused("KOE007") => {
            Some(Finding::LogoutRedirectNotRegistered {
                uri: target.as_str().to_owned(),
            })
        }
        _ => None,
    }
}

fn refused(code: &str) -> Probe {
    Probe::Refused(code.to_owned())
}

/// Which configured items Kakao refuses, one request per item (`openid`
/// left to its own check).
async fn consent_finding(client: &KakaoClient, config: &Config) -> Finding {
    let plain = Config {
        oidc: false,
        ..config.clone()
    };
    let mut items = Vec::new();
    for item in config.scopes.iter().filter(|s| *s != "openid") {
        if probe(client, &plain, std::slice::from_ref(item)).await == refused("KOE205") {
            items.push(item.clone());
        }
    }
    if items.is_empty() && config.oidc {
        return Finding::OidcOffInConsole;
    }
    Finding::ConsentItemsNotSet { items }
}

/// One authorize request as the login makes it (PKCE, state, nonce, the
/// scopes), read without following redirects. Nobody logs in: the code of
/// a probe that passes is never exchanged.
async fn probe(client: &KakaoClient, config: &Config, scopes: &[String]) -> Probe {
    let options = LoginOptions {
        scopes: scopes.to_vec(),
        ..LoginOptions::default()
    };
    let Ok(request) = begin(config, &options, std::time::SystemTime::now()) else {
        return Probe::Unknown;
    };
    match client.page(request.url.secret()).await {
        Err(_) => Probe::Unknown,
        Ok(page) => classify(&page),
    }
}

/// Kakao's answer to an authorize request: an error page names a KOE code
/// and does not redirect; a redirect names one only when it leads to an
/// error page (`docs/kakao-api.md` §1.3).
fn classify(page: &Page) -> Probe {
    if (300..400).contains(&page.status) {
        return match page.location.as_deref().and_then(koe_code) {
            Some(code) => Probe::Refused(code),
            None => Probe::Passed,
        };
    }
    if page.status >= 500 {
        return Probe::Unknown;
    }
    match koe_code(&page.body) {
        Some(code) => Probe::Refused(code),
        None => Probe::Passed,
    }
}

/// The page at the redirect URI must be a bridge page forwarding to this
/// build's scheme: `data-scheme="…"` on the project's page, or a
/// `<scheme>://oauth/callback` link on any other.
async fn check_bridge_page(client: &KakaoClient, config: &Config, setup: &Setup) -> Vec<Finding> {
    let page = match client.page(config.redirect_uri.url()).await {
        Ok(page) => page,
        Err(_) => return vec![Finding::BridgePageMissing { status: 0 }],
    };
    if page.status != 200 {
        return vec![Finding::BridgePageMissing {
            status: page.status,
        }];
    }
    match bridge_scheme(&page.body) {
        None => vec![Finding::NotABridgePage],
        Some(found) if !found.eq_ignore_ascii_case(&setup.scheme) => {
            vec![Finding::BridgeWrongScheme {
                found,
                expected: setup.scheme.clone(),
            }]
        }
        Some(_) => Vec::new(),
    }
}

/// The scheme a bridge page forwards to: its `data-scheme="…"` attribute,
/// else the scheme of its first `…://oauth/callback` link.
pub fn bridge_scheme(body: &str) -> Option<String> {
    let valid = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    };
    if let Some((_, rest)) = body.split_once("data-scheme=\"")
        && let Some((scheme, _)) = rest.split_once('"')
        && valid(scheme)
    {
        return Some(scheme.to_owned());
    }
    body.match_indices("://oauth/callback").find_map(|(at, _)| {
        let start = body[..at]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c)))
            .map_or(0, |i| i + 1);
        let scheme = &body[start..at];
        valid(scheme).then(|| scheme.to_owned())
    })
}

/// The values to enter in the Kakao Developers console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleValues {
    /// The REST API key the build uses.
    pub client_id: String,
    /// Redirect URIs to register, with the build kind each belongs to.
    pub redirect_uris: Vec<(String, String)>,
    /// Consent items the app asks for (empty: the console's own list).
    pub consent_items: Vec<String>,
    /// Whether OpenID Connect must be on.
    pub oidc: bool,
    /// The logout redirect URI to register, when the app offers "also sign
    /// out of Kakao in the browser".
    pub logout_redirect_uri: Option<String>,
}

impl ConsoleValues {
    /// The values of `config`, with the other build kind's redirect URI.
    pub fn of(config: &Config, setup: &Setup) -> Self {
        let mut redirect_uris = vec![(
            setup.build_kind.clone(),
            config.redirect_uri.as_str().to_owned(),
        )];
        if let Some(other) = &setup.other_redirect_uri
            && other != config.redirect_uri.as_str()
        {
            let kind = if setup.build_kind == "debug" {
                "release"
            } else {
                "debug"
            };
            redirect_uris.push((kind.to_owned(), other.clone()));
        }
        let mut consent_items = config.scopes.clone();
        if config.oidc && !consent_items.is_empty() && !consent_items.iter().any(|s| s == "openid")
        {
            consent_items.insert(0, "openid".to_owned());
        }
        Self {
            client_id: config.client_id.clone(),
            redirect_uris,
            consent_items,
            oidc: config.oidc,
            logout_redirect_uri: config
                .logout_redirect_uri
                .as_ref()
                .map(|u| u.as_str().to_owned()),
        }
    }
}

/// The doctor's whole answer.
#[derive(Debug, Clone)]
pub struct Report {
    /// The findings, worst first.
    pub findings: Vec<Finding>,
    /// What to register, when the configuration names an app.
    pub values: Option<ConsoleValues>,
    /// Whether the online checks ran.
    pub online: bool,
}

impl Report {
    /// Runs the offline rules and, unless `offline`, the online checks.
    pub async fn run(
        resolution: &Result<Resolution, ConfigError>,
        setup: &Setup,
        offline: bool,
        options: ClientOptions,
    ) -> Self {
        let mut findings = check_offline(resolution, setup);
        let config = match resolution {
            Ok(Resolution::Kakao(config)) => Some(config.as_ref()),
            _ => None,
        };
        let online = !offline && config.is_some();
        if let (true, Some(config)) = (online, config) {
            findings.extend(check_online(config, setup, options).await);
        }
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity()));
        Self {
            findings,
            values: config.map(|c| ConsoleValues::of(c, setup)),
            online,
        }
    }

    /// The number of findings of `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity() == severity)
            .count()
    }

    /// The report as text, in `lang`.
    pub fn render(&self, lang: Language) -> String {
        use std::fmt::Write as _;
        let ko = lang == Language::Ko;
        let mut out = String::new();
        if let Some(values) = &self.values {
            let _ = writeln!(
                out,
                "{}",
                if ko {
                    "카카오 디벨로퍼스 콘솔에 등록할 값"
                } else {
                    "Register in the Kakao Developers console"
                }
            );
            row(
                &mut out,
                if ko { "REST API 키" } else { "REST API key" },
                &values.client_id,
            );
            for (kind, uri) in &values.redirect_uris {
                let label = if ko {
                    format!("리다이렉트 URI ({kind})")
                } else {
                    format!("Redirect URI ({kind} build)")
                };
                row(&mut out, &label, uri);
            }
            let items = if values.consent_items.is_empty() {
                if ko {
                    "(콘솔에 설정한 항목)".to_owned()
                } else {
                    "(those set in the console)".to_owned()
                }
            } else {
                values.consent_items.join(", ")
            };
            row(
                &mut out,
                if ko { "동의 항목" } else { "Consent items" },
                &items,
            );
            row(
                &mut out,
                "OpenID Connect",
                match (values.oidc, ko) {
                    (true, true) => "켜기",
                    (true, false) => "on",
                    (false, true) => "끄기",
                    (false, false) => "off",
                },
            );
            row(
                &mut out,
                if ko {
                    "로그아웃 리다이렉트 URI"
                } else {
                    "Logout redirect URI"
                },
                match (&values.logout_redirect_uri, ko) {
                    (Some(uri), _) => uri.as_str(),
                    (None, true) => "필요 없음(브라우저의 카카오계정 로그아웃을 제공하지 않음)",
                    (None, false) => "not needed (no \"also sign out of Kakao in the browser\")",
                },
            );
            out.push('\n');
        }
        if self.findings.is_empty() {
            let _ = writeln!(
                out,
                "{}",
                if ko {
                    "문제를 찾지 못했습니다."
                } else {
                    "No findings."
                }
            );
        }
        for finding in &self.findings {
            let mark = match finding.severity() {
                Severity::Error => {
                    if ko {
                        "오류"
                    } else {
                        "error"
                    }
                }
                Severity::Warning => {
                    if ko {
                        "경고"
                    } else {
                        "warning"
                    }
                }
                Severity::Info => {
                    if ko {
                        "참고"
                    } else {
                        "info"
                    }
                }
            };
            let _ = writeln!(out, "{mark} [{}] {}", finding.id(), finding.message(lang));
        }
        if !self.online && self.values.is_some() {
            let _ = writeln!(
                out,
                "{}",
                if ko {
                    "(오프라인 점검만 했습니다)"
                } else {
                    "(offline checks only)"
                }
            );
        }
        out
    }
}

/// One `label  value` line, the values aligned in a terminal: Hangul (and
/// other wide characters) take two columns.
fn row(out: &mut String, label: &str, value: &str) {
    use std::fmt::Write as _;
    let width: usize = label.chars().map(display_width).sum();
    let pad = 28usize.saturating_sub(width);
    let _ = writeln!(out, "  {label}{} {value}", " ".repeat(pad));
}

/// Terminal columns of a character: two for Hangul and CJK, else one.
pub fn display_width(c: char) -> usize {
    match c {
        '\u{1100}'..='\u{115F}'
        | '\u{2E80}'..='\u{A4CF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FF00}'..='\u{FF60}' => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn setup() -> Setup {
        Setup {
            build_kind: "release".into(),
            identifier: "com.example.desk".into(),
            scheme: "com.example.desk".into(),
            has_demo: false,
            other_redirect_uri: Some("https://example.com/kakao/callback/debug/".into()),
        }
    }

    fn resolve(pairs: &[(&str, &str)]) -> Result<Resolution, ConfigError> {
        let mut vars: HashMap<String, String> = HashMap::from([
            ("KAKAO_CLIENT_ID".to_owned(), KEY.to_owned()),
            (
                "KAKAO_REDIRECT_URI".to_owned(),
                "https://example.com/kakao/callback/".to_owned(),
            ),
        ]);
        for (k, v) in pairs {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        Config::resolve_layers(move |n| vars.get(n).cloned(), |_| None)
    }

    fn ids(pairs: &[(&str, &str)], setup: &Setup) -> Vec<&'static str> {
        check_offline(&resolve(pairs), setup)
            .iter()
            .map(Finding::id)
            .collect()
    }

    #[test]
    fn a_correct_configuration_has_no_offline_finding() {
        assert_eq!(ids(&[], &setup()), Vec::<&str>::new());
        let loopback = [
            (
                "KAKAO_REDIRECT_URI",
                "http://127.0.0.1:41785/oauth/callback",
            ),
            ("KAKAO_REDIRECT_MODE", "loopback"),
        ];
        assert_eq!(ids(&loopback, &setup()), Vec::<&str>::new());
    }

    #[test]
    fn each_offline_rule_names_its_finding() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("KAKAO_CLIENT_ID", "")], "no_client_id"),
            (&[("KAKAO_REDIRECT_MODE", "popup")], "invalid_config"),
            (
                &[
                    ("KAKAO_REDIRECT_URI", "http://localhost:41785/cb"),
                    ("KAKAO_REDIRECT_MODE", "loopback"),
                ],
                "invalid_config",
            ),
            (&[("KAKAO_CLIENT_ID", "my-js-key")], "client_id_format"),
            (&[("KAKAO_CLIENT_SECRET", "s")], "client_secret_set"),
            (
                &[
                    ("KAKAO_CLIENT_SECRET", "s"),
                    ("KAKAO_BACKEND_URL", "https://auth.example.com"),
                ],
                "backend_secret_in_app",
            ),
            (
                &[("KAKAO_REDIRECT_URI", "https://example.com/cb?app=desk")],
                "redirect_has_query",
            ),
            (
                &[
                    ("KAKAO_REDIRECT_URI", "http://127.0.0.1:41785/cb"),
                    ("KAKAO_REDIRECT_MODE", "bridge"),
                ],
                "bridge_needs_https",
            ),
            (
                &[
                    ("KAKAO_REDIRECT_URI", "http://127.0.0.1/cb"),
                    ("KAKAO_REDIRECT_MODE", "loopback"),
                ],
                "loopback_port",
            ),
            (
                &[
                    ("KAKAO_REDIRECT_URI", "http://127.0.0.1:53682/cb"),
                    ("KAKAO_REDIRECT_MODE", "loopback"),
                ],
                "loopback_port",
            ),
            (
                &[(
                    "KAKAO_REDIRECT_URI",
                    "https://kakao-desk.github.io/kakao-desk/kakao/callback/",
                )],
                "project_bridge_page",
            ),
            (
                &[(
                    "KAKAO_REDIRECT_URI",
                    "https://example.com/kakao/callback/debug/",
                )],
                "shared_redirect",
            ),
            (
                &[
                    ("KAKAO_OIDC", "false"),
                    ("KAKAO_SCOPES", "openid,account_email"),
                ],
                "openid_without_oidc",
            ),
        ];
        for (pairs, want) in cases {
            let got = ids(pairs, &setup());
            assert!(got.contains(want), "{pairs:?} must give {want}: {got:?}");
        }
        let mut odd = setup();
        odd.scheme = "kakaodesk".into();
        assert_eq!(ids(&[], &odd), ["scheme_not_reverse_dns"]);
        odd.scheme = "com.example.other".into();
        assert_eq!(ids(&[], &odd), ["scheme_not_identifier"]);
    }

    #[test]
    fn severity_says_what_blocks_a_login() {
        let demo = check_offline(
            &resolve(&[("KAKAO_CLIENT_ID", "")]),
            &Setup {
                has_demo: true,
                ..setup()
            },
        );
        assert_eq!(
            demo[0].severity(),
            Severity::Info,
            "demo mode is fine in a debug build"
        );
        let none = check_offline(&resolve(&[("KAKAO_CLIENT_ID", "")]), &setup());
        assert_eq!(
            none[0].severity(),
            Severity::Error,
            "a key-less release cannot log in"
        );
        assert_eq!(Finding::ClientSecretSet.severity(), Severity::Warning);
        assert_eq!(
            Finding::RedirectNotRegistered { uri: String::new() }.severity(),
            Severity::Error
        );
    }

    #[test]
    fn every_finding_speaks_both_languages() {
        let all = [
            Finding::NoClientId { demo: true },
            Finding::NoClientId { demo: false },
            Finding::Invalid(ConfigError::UnknownRedirectMode),
            Finding::ClientIdFormat,
            Finding::ClientSecretSet,
            Finding::RedirectHasQuery,
            Finding::BridgeNeedsHttps,
            Finding::LoopbackPort { port: None },
            Finding::LoopbackPort { port: Some(80) },
            Finding::ProjectBridgePage,
            Finding::SharedRedirect,
            Finding::OpenidWithoutOidc,
            Finding::SchemeNotReverseDns { scheme: "x".into() },
            Finding::SchemeNotIdentifier {
                scheme: "a.b".into(),
                identifier: "c.d".into(),
            },
            Finding::AuthHostUnreachable,
            Finding::DiscoveryFailed,
            Finding::IssuerMismatch {
                expected: "a".into(),
                found: "b".into(),
            },
            Finding::RedirectNotRegistered {
                uri: "https://example.com/cb/".into(),
            },
            Finding::UnknownClientId,
            Finding::KakaoLoginOff,
            Finding::OidcOffInConsole,
            Finding::ConsentItemsNotSet {
                items: vec!["birthday".into()],
            },
            Finding::AuthorizeError {
                code: "KOE999".into(),
            },
            Finding::BridgePageMissing { status: 0 },
            Finding::BridgePageMissing { status: 404 },
            Finding::NotABridgePage,
            Finding::BridgeWrongScheme {
                found: "a.b".into(),
                expected: "c.d".into(),
            },
            Finding::BackendUnreachable { status: 0 },
            Finding::BackendUnreachable { status: 503 },
            Finding::BackendNoKeys,
            Finding::BackendSecretInApp,
        ];
        for finding in all {
            let ko = finding.message(Language::Ko);
            let en = finding.message(Language::En);
            assert!(
                ko.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c)),
                "{}: Korean text",
                finding.id()
            );
            assert!(
                en.is_ascii() || en.contains('…'),
                "{}: English text: {en}",
                finding.id()
            );
            assert_ne!(ko, en);
        }
    }

    #[test]
    fn authorize_answers_are_classified_by_their_koe_code() {
        let page = |status, location: Option<&str>, body: &str| Page {
            status,
            location: location.map(str::to_owned),
            body: body.to_owned(),
        };
        assert_eq!(
            classify(&page(400, None, "<p class=\"code\">KOE006</p>")),
            refused("KOE006")
        );
        assert_eq!(
            classify(&page(
                302,
                Some("https://accounts.kakao.com/login?continue=x"),
                ""
            )),
            Probe::Passed,
            "a redirect to the login page passes"
        );
        assert_eq!(
            classify(&page(
                302,
                Some("https://kauth.kakao.com/error?code=KOE101"),
                ""
            )),
            refused("KOE101"),
            "a redirect to an error page names the code"
        );
        assert_eq!(
            classify(&page(200, None, "동의하고 계속하기")),
            Probe::Passed
        );
        assert_eq!(classify(&page(503, None, "")), Probe::Unknown);
        assert_eq!(koe_code("KOE1234"), None, "four digits are not a KOE code");
        assert_eq!(koe_code("xKOE205 y").as_deref(), Some("KOE205"));
    }

    #[test]
    fn the_bridge_scheme_is_read_from_either_page() {
        assert_eq!(
            bridge_scheme(r#"<html lang="ko" data-scheme="com.example.desk">"#).as_deref(),
            Some("com.example.desk")
        );
        assert_eq!(
            bridge_scheme(r#"<a href="com.example.desk.debug://oauth/callback?">"#).as_deref(),
            Some("com.example.desk.debug")
        );
        assert_eq!(bridge_scheme("<h1>Hello</h1>"), None);
    }

    #[test]
    fn the_report_lists_the_values_to_register() {
        let resolution = resolve(&[("KAKAO_SCOPES", "account_email")]);
        let report = Report {
            findings: check_offline(&resolution, &setup()),
            values: match &resolution {
                Ok(Resolution::Kakao(config)) => Some(ConsoleValues::of(config, &setup())),
                _ => None,
            },
            online: false,
        };
        let text = report.render(Language::En);
        for needle in [
            KEY,
            "https://example.com/kakao/callback/",
            "(release build)",
            "https://example.com/kakao/callback/debug/",
            "(debug build)",
            "openid, account_email",
            "No findings.",
            "(offline checks only)",
        ] {
            assert!(text.contains(needle), "{needle} in:\n{text}");
        }
        assert!(
            report
                .render(Language::Ko)
                .contains("리다이렉트 URI (release)")
        );
    }
}
