//! Configuration (the README's "Configuration" lists every variable).
//!
//! Each variable is looked up in three layers, first hit wins:
//! 1. the runtime environment, read through an injected lookup so tests never
//!    touch the process environment;
//! 2. the values the binary was built with, injected by the shell (the app
//!    bakes in the publisher's `kakao.toml` and build environment);
//! 3. the compiled production defaults of [`production_defaults`], the only
//!    place that names Kakao's hosts.
//!
//! An empty value counts as unset. No `KAKAO_CLIENT_ID` in any layer means demo
//! mode: the shell starts the bundled emulator and builds its config with
//! [`Config::demo`].

use std::net::IpAddr;

use thiserror::Error;
use url::Url;

use crate::ErrorCode;
use crate::secret::ClientSecret;

/// The variables this module reads.
pub const VARIABLES: [&str; 11] = [
    "KAKAO_CLIENT_ID",
    "KAKAO_CLIENT_SECRET",
    "KAKAO_REDIRECT_URI",
    "KAKAO_REDIRECT_MODE",
    "KAKAO_AUTH_BASE_URL",
    "KAKAO_API_BASE_URL",
    "KAKAO_SCOPES",
    "KAKAO_OIDC",
    "KAKAO_OIDC_ISSUER",
    "KAKAO_BACKEND_URL",
    "KAKAO_BACKEND_AUDIENCE",
];

/// The variables that pick whom the app trusts: the Kakao hosts, the
/// id_token issuer and the backend server. A shipped build takes them from
/// its build only ([`RuntimeOverrides::AllButHosts`]).
pub const HOST_VARIABLES: [&str; 5] = [
    "KAKAO_AUTH_BASE_URL",
    "KAKAO_API_BASE_URL",
    "KAKAO_OIDC_ISSUER",
    "KAKAO_BACKEND_URL",
    "KAKAO_BACKEND_AUDIENCE",
];

/// Why a configuration was refused. Every variant is a publisher's mistake, so
/// the user sees [`ErrorCode::KakaoConfig`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The value is not an absolute URL.
    #[error("{variable} is not a valid absolute URL")]
    InvalidUrl {
        /// The variable at fault.
        variable: &'static str,
    },
    /// A URL that would send secrets in clear: http to a non-loopback host, or
    /// a scheme other than http(s).
    #[error("{variable} must use https (http is allowed for loopback hosts only)")]
    Insecure {
        /// The variable at fault.
        variable: &'static str,
    },
    /// A URL with parts Kakao's endpoints never have (user info, query, fragment).
    #[error("{variable} must not carry user info, a query or a fragment")]
    UnexpectedParts {
        /// The variable at fault.
        variable: &'static str,
    },
    /// `KAKAO_OIDC` is not a yes/no value.
    #[error("KAKAO_OIDC must be `true` or `false`")]
    InvalidSwitch,
    /// `KAKAO_REDIRECT_MODE` is neither `bridge` nor `loopback`.
    #[error("KAKAO_REDIRECT_MODE must be `bridge` or `loopback`")]
    UnknownRedirectMode,
    /// Loopback mode needs an `http://` redirect URI on a loopback host.
    #[error("loopback mode needs an http redirect URI on 127.0.0.1, [::1] or localhost")]
    LoopbackNeedsLoopbackUri,
    /// Loopback mode with `localhost`: browsers may try `::1` first while the
    /// receiver listens on one address, so the redirect must name the address
    /// (RFC 8252 §8.3).
    #[error(
        "loopback mode needs an IP literal: register http://127.0.0.1:PORT/… (not localhost) in the Kakao console and in KAKAO_REDIRECT_URI"
    )]
    LoopbackNeedsIpLiteral,
    /// A Kakao host set in the runtime environment of a build that takes its
    /// hosts from the build only.
    #[error("{variable} cannot be set at run time in this build; set it when building the app")]
    HostOverride {
        /// The variable at fault.
        variable: &'static str,
    },
}

/// Which variables the runtime environment may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeOverrides {
    /// Every variable (debug builds, tests, a publisher's own test builds).
    All,
    /// Every variable but [`HOST_VARIABLES`]: in a shipped build, whoever
    /// sets the environment must not pick the issuer the app trusts.
    AllButHosts,
}

impl ConfigError {
    /// The stable error code the user sees.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::KakaoConfig
    }
}

/// An https base URL of a Kakao host (or http on loopback, for the emulator).
///
/// Always ends in `/`, so endpoints join under it rather than replacing its
/// last path segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// Parses and checks a base URL.
    ///
    /// # Errors
    /// [`ConfigError`] when the value is not an absolute URL, is not https on a
    /// non-loopback host, or carries user info, a query or a fragment.
    pub fn parse(variable: &'static str, raw: &str) -> Result<Self, ConfigError> {
        let mut url = parse_secure(variable, raw)?;
        if url.query().is_some() {
            return Err(ConfigError::UnexpectedParts { variable });
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(Self(url))
    }

    /// The base URL itself.
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The URL of an endpoint below this base, e.g. `endpoint("/oauth/token")`.
    pub fn endpoint(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        let joined = format!("{}{}", self.0.path(), path.trim_start_matches('/'));
        url.set_path(&joined);
        url
    }
}

/// The redirect URI registered in the Kakao console, sent verbatim: Kakao
/// compares it byte for byte at authorize and again at the token exchange
/// (KOE006, KOE303).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(Url);

impl RedirectUri {
    /// Parses and checks a redirect URI.
    ///
    /// # Errors
    /// [`ConfigError`] when it is not an absolute http(s) URL, is plain http on
    /// a non-loopback host, or carries user info or a fragment.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        parse_secure("KAKAO_REDIRECT_URI", raw).map(Self)
    }

    /// The URI.
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The exact string sent to Kakao.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// True for `http://` on a loopback host: an RFC 8252 §7.3 loopback
    /// redirect.
    pub fn is_loopback_http(&self) -> bool {
        self.0.scheme() == "http" && is_loopback_host(&self.0)
    }
}

/// How the browser's redirect gets back into the app (`docs/kakao-api.md` §2
/// for why there are two ways).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectMode {
    /// An https bridge page forwards the query to the app's deep-link scheme.
    Bridge,
    /// The app listens on the loopback redirect URI while a login is pending.
    Loopback,
}

impl RedirectMode {
    fn parse(raw: &str) -> Result<Self, ConfigError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "bridge" => Ok(Self::Bridge),
            "loopback" => Ok(Self::Loopback),
            _ => Err(ConfigError::UnknownRedirectMode),
        }
    }
}

/// The checked configuration of a Kakao login.
#[derive(Debug, Clone)]
pub struct Config {
    /// The REST API key, sent as `client_id`.
    pub client_id: String,
    /// The client secret, when the publisher kept it on (`docs/kakao-api.md` §3.1).
    pub client_secret: Option<ClientSecret>,
    /// The registered redirect URI.
    pub redirect_uri: RedirectUri,
    /// How the redirect reaches the app.
    pub redirect_mode: RedirectMode,
    /// `kauth` (OAuth and OIDC).
    pub auth_base_url: BaseUrl,
    /// `kapi` (user APIs).
    pub api_base_url: BaseUrl,
    /// Scopes to request at authorize; empty sends no `scope` parameter, so
    /// Kakao uses the consent items set in the console.
    pub scopes: Vec<String>,
    /// "OpenID Connect 활성화" is on for the app (`KAKAO_OIDC`, default on):
    /// a login must then bring an id_token, and a `scope` sent at authorize
    /// always carries `openid` (Kakao issues none otherwise).
    pub oidc: bool,
    /// The id_token issuer the app trusts (`KAKAO_OIDC_ISSUER`): by default
    /// the auth base URL, which is Kakao's issuer `https://kauth.kakao.com`.
    pub issuer: String,
    /// Backend mode (`KAKAO_BACKEND_URL`): the publisher's
    /// `kakao-desk-server` finishes each login and holds Kakao's tokens;
    /// `None` is direct mode, the app talking to Kakao itself.
    pub backend: Option<BackendConfig>,
    /// The logout redirect URI registered in the console (카카오 로그인 >
    /// 로그아웃 리다이렉트 URI; `KAKAO_LOGOUT_REDIRECT_URI`): where Kakao
    /// sends the browser after signing it out of the Kakao Account. Without
    /// one the app does not offer that sign-out (Kakao would show KOE007).
    pub logout_redirect_uri: Option<Url>,
}

/// Backend mode's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendConfig {
    /// The server's base URL: https, or http on loopback (tests). It is also
    /// the issuer its access tokens must name (the server's
    /// `KDS_PUBLIC_URL`).
    pub url: BaseUrl,
    /// The audience its access tokens must name (`KAKAO_BACKEND_AUDIENCE`,
    /// the server's `KDS_AUDIENCE`; default `kakao-desk`).
    pub audience: String,
}

impl BackendConfig {
    /// The issuer: the URL without its trailing slash.
    pub fn issuer(&self) -> String {
        self.url.url().as_str().trim_end_matches('/').to_owned()
    }
}

/// What the layers said.
#[derive(Debug, Clone)]
pub enum Resolution {
    /// A Kakao app key is configured.
    Kakao(Box<Config>),
    /// No app key: run against the bundled emulator ([`Config::demo`]). The
    /// scopes requested, if any, are kept.
    Demo {
        /// Scopes from `KAKAO_SCOPES`.
        scopes: Vec<String>,
    },
}

/// The compiled production defaults: the one function that knows Kakao's hosts
/// and the publisher's bridge page.
pub fn production_defaults(variable: &str) -> Option<&'static str> {
    match variable {
        "KAKAO_AUTH_BASE_URL" => Some("https://kauth.kakao.com"),
        "KAKAO_API_BASE_URL" => Some("https://kapi.kakao.com"),
        // The bridge page this repository ships, as published with the project.
        "KAKAO_REDIRECT_URI" => Some("https://kakao-desk.github.io/kakao-desk/kakao/callback/"),
        "KAKAO_OIDC" => Some("true"),
        _ => None,
    }
}

impl Config {
    /// Resolves the configuration from the runtime environment (`runtime`),
    /// then the build's values (`build_time`), then production defaults,
    /// with every runtime override allowed (tests, benchmarks).
    ///
    /// # Errors
    /// As [`Config::resolve_layers_with`].
    pub fn resolve_layers(
        runtime: impl Fn(&str) -> Option<String>,
        build_time: impl Fn(&str) -> Option<&'static str>,
    ) -> Result<Resolution, ConfigError> {
        Self::resolve_layers_with(runtime, build_time, RuntimeOverrides::All)
    }

    /// Resolves the configuration layer by layer: `runtime` (the process
    /// environment; the shell passes `|name| std::env::var(name).ok()`,
    /// tests a map), then `build_time` (the publisher's values baked into the
    /// binary), then [`production_defaults`]. `overrides` says which
    /// variables the runtime environment may set: a shipped build passes
    /// [`RuntimeOverrides::AllButHosts`].
    ///
    /// # Errors
    /// [`ConfigError`] for any value that is present but wrong (a bad value
    /// is never silently replaced by a default), or a host set at run time
    /// where `overrides` forbids it.
    pub fn resolve_layers_with(
        runtime: impl Fn(&str) -> Option<String>,
        build_time: impl Fn(&str) -> Option<&'static str>,
        overrides: RuntimeOverrides,
    ) -> Result<Resolution, ConfigError> {
        let set = |v: &String| !v.trim().is_empty();
        if overrides == RuntimeOverrides::AllButHosts {
            for variable in HOST_VARIABLES {
                if runtime(variable).is_some_and(|v| set(&v)) {
                    return Err(ConfigError::HostOverride { variable });
                }
            }
        }
        let get = |name: &str| -> Option<String> {
            runtime(name)
                .filter(set)
                .or_else(|| build_time(name).map(str::to_owned).filter(set))
                .or_else(|| production_defaults(name).map(str::to_owned))
                .map(|v| v.trim().to_owned())
        };
        let scopes = parse_scopes(get("KAKAO_SCOPES").as_deref().unwrap_or_default());
        let Some(client_id) = get("KAKAO_CLIENT_ID") else {
            return Ok(Resolution::Demo { scopes });
        };
        let required =
            |name: &'static str| get(name).ok_or(ConfigError::InvalidUrl { variable: name });
        let redirect_uri = RedirectUri::parse(&required("KAKAO_REDIRECT_URI")?)?;
        let redirect_mode = match get("KAKAO_REDIRECT_MODE") {
            Some(mode) => RedirectMode::parse(&mode)?,
            None if redirect_uri.is_loopback_http() => RedirectMode::Loopback,
            None => RedirectMode::Bridge,
        };
        if redirect_mode == RedirectMode::Loopback {
            if !redirect_uri.is_loopback_http() {
                return Err(ConfigError::LoopbackNeedsLoopbackUri);
            }
            if matches!(redirect_uri.url().host(), Some(url::Host::Domain(_))) {
                return Err(ConfigError::LoopbackNeedsIpLiteral);
            }
        }
        let oidc = parse_switch(&required("KAKAO_OIDC")?)?;
        let auth_base_url =
            BaseUrl::parse("KAKAO_AUTH_BASE_URL", &required("KAKAO_AUTH_BASE_URL")?)?;
        let issuer = match get("KAKAO_OIDC_ISSUER") {
            Some(issuer) => parse_secure("KAKAO_OIDC_ISSUER", &issuer)?
                .as_str()
                .trim_end_matches('/')
                .to_owned(),
            None => default_issuer(&auth_base_url),
        };
        Ok(Resolution::Kakao(Box::new(Config {
            client_id,
            client_secret: get("KAKAO_CLIENT_SECRET").map(ClientSecret::new),
            redirect_uri,
            redirect_mode,
            auth_base_url,
            api_base_url: BaseUrl::parse("KAKAO_API_BASE_URL", &required("KAKAO_API_BASE_URL")?)?,
            scopes,
            oidc,
            issuer,
            logout_redirect_uri: get("KAKAO_LOGOUT_REDIRECT_URI")
                .map(|uri| parse_secure("KAKAO_LOGOUT_REDIRECT_URI", &uri))
                .transpose()?,
            backend: get("KAKAO_BACKEND_URL")
                .map(|url| {
                    Ok::<_, ConfigError>(BackendConfig {
                        url: BaseUrl::parse("KAKAO_BACKEND_URL", &url)?,
                        audience: get("KAKAO_BACKEND_AUDIENCE")
                            .unwrap_or_else(|| "kakao-desk".to_owned()),
                    })
                })
                .transpose()?,
        })))
    }

    /// The configuration of demo mode: both Kakao hosts are the bundled
    /// emulator at `emulator_base`, which also serves the bridge page at
    /// `redirect_uri`, so the deep-link path runs end to end, and the page
    /// after a browser sign-out at `logout_redirect_uri`.
    ///
    /// # Errors
    /// [`ConfigError`] when the emulator's URLs are not loopback http(s).
    pub fn demo(
        emulator_base: &Url,
        client_id: impl Into<String>,
        redirect_uri: &Url,
        logout_redirect_uri: Option<&Url>,
        scopes: Vec<String>,
    ) -> Result<Self, ConfigError> {
        let auth_base_url = BaseUrl::parse("KAKAO_AUTH_BASE_URL", emulator_base.as_str())?;
        Ok(Config {
            client_id: client_id.into(),
            client_secret: None,
            redirect_uri: RedirectUri::parse(redirect_uri.as_str())?,
            redirect_mode: RedirectMode::Bridge,
            issuer: default_issuer(&auth_base_url),
            auth_base_url,
            api_base_url: BaseUrl::parse("KAKAO_API_BASE_URL", emulator_base.as_str())?,
            scopes,
            oidc: true,
            logout_redirect_uri: logout_redirect_uri
                .map(|uri| parse_secure("KAKAO_LOGOUT_REDIRECT_URI", uri.as_str()))
                .transpose()?,
            backend: None,
        })
    }
}

/// The issuer of an auth host: its base URL without the trailing slash
/// (`https://kauth.kakao.com`, as Kakao's discovery names it).
fn default_issuer(auth_base: &BaseUrl) -> String {
    auth_base.url().as_str().trim_end_matches('/').to_owned()
}

/// `true`/`false` (and `on`/`off`, `yes`/`no`, `1`/`0`).
fn parse_switch(raw: &str) -> Result<bool, ConfigError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Ok(true),
        "false" | "off" | "no" | "0" => Ok(false),
        _ => Err(ConfigError::InvalidSwitch),
    }
}

/// Splits `KAKAO_SCOPES` on commas and white space (Kakao's docs use commas,
/// its SDKs spaces), dropping empties and duplicates.
fn parse_scopes(raw: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in raw.split([',', ' ', '\t', '\n', '+']).map(str::trim) {
        if !scope.is_empty() && !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    scopes
}

fn parse_secure(variable: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw.trim()).map_err(|_| ConfigError::InvalidUrl { variable })?;
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(ConfigError::InvalidUrl { variable });
    }
    let secure = match url.scheme() {
        "https" => true,
        "http" => is_loopback_host(&url),
        _ => false,
    };
    if !secure {
        return Err(ConfigError::Insecure { variable });
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(ConfigError::UnexpectedParts { variable });
    }
    Ok(url)
}

/// True for `localhost`, 127.0.0.0/8 and `::1`.
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn none(_: &str) -> Option<&'static str> {
        None
    }

    fn kakao(resolution: Result<Resolution, ConfigError>) -> Config {
        match resolution {
            Ok(Resolution::Kakao(config)) => *config,
            other => panic!("expected a Kakao config, got {other:?}"),
        }
    }

    #[test]
    fn no_client_id_anywhere_is_demo_mode() {
        let resolved =
            Config::resolve_layers(env(&[("KAKAO_SCOPES", "openid, profile_nickname")]), none);
        match resolved {
            Ok(Resolution::Demo { scopes }) => {
                assert_eq!(
                    scopes,
                    ["openid", "profile_nickname"],
                    "scopes survive into demo mode"
                );
            }
            other => panic!("no app key must mean demo mode, got {other:?}"),
        }
        let blank = Config::resolve_layers(env(&[("KAKAO_CLIENT_ID", "  ")]), none);
        assert!(
            matches!(blank, Ok(Resolution::Demo { .. })),
            "a blank key counts as unset"
        );
    }

    #[test]
    fn backend_mode_takes_a_secure_url_and_an_audience() {
        let config = kakao(Config::resolve_layers(
            env(&[
                ("KAKAO_CLIENT_ID", "abc"),
                ("KAKAO_BACKEND_URL", "https://auth.example.com"),
            ]),
            none,
        ));
        let backend = config.backend.expect("backend mode");
        assert_eq!(backend.issuer(), "https://auth.example.com");
        assert_eq!(backend.audience, "kakao-desk");
        assert!(
            kakao(Config::resolve_layers(
                env(&[("KAKAO_CLIENT_ID", "abc")]),
                none
            ))
            .backend
            .is_none(),
            "direct mode unless a server is named"
        );
        assert!(
            Config::resolve_layers(
                env(&[
                    ("KAKAO_CLIENT_ID", "abc"),
                    ("KAKAO_BACKEND_URL", "http://auth.example.com"),
                ]),
                none,
            )
            .is_err(),
            "tokens never go to a server over plain http"
        );
        assert!(
            Config::resolve_layers_with(
                env(&[
                    ("KAKAO_CLIENT_ID", "abc"),
                    ("KAKAO_BACKEND_URL", "https://evil.example"),
                ]),
                none,
                RuntimeOverrides::AllButHosts,
            )
            .is_err(),
            "a shipped build's server is the build's"
        );
    }

    #[test]
    fn production_defaults_fill_the_rest() {
        let config = kakao(Config::resolve_layers(
            env(&[("KAKAO_CLIENT_ID", "abc")]),
            none,
        ));
        assert_eq!(
            config.auth_base_url.url().as_str(),
            "https://kauth.kakao.com/",
            "kauth default"
        );
        assert_eq!(
            config.api_base_url.url().as_str(),
            "https://kapi.kakao.com/",
            "kapi default"
        );
        assert_eq!(
            config.redirect_mode,
            RedirectMode::Bridge,
            "an https redirect means the bridge"
        );
        assert!(
            config.client_secret.is_none(),
            "no secret unless configured"
        );
        assert!(config.scopes.is_empty(), "no scopes unless configured");
    }

    #[test]
    fn runtime_beats_build_time_beats_production() {
        let build = |name: &str| match name {
            "KAKAO_CLIENT_ID" => Some("from-build"),
            "KAKAO_API_BASE_URL" => Some("https://build.example/"),
            _ => None,
        };
        let config = kakao(Config::resolve_layers(
            env(&[("KAKAO_CLIENT_ID", "from-env")]),
            build,
        ));
        assert_eq!(config.client_id, "from-env", "the runtime environment wins");
        assert_eq!(
            config.api_base_url.url().as_str(),
            "https://build.example/",
            "build-time beats the compiled default"
        );
        assert_eq!(
            config.auth_base_url.url().as_str(),
            "https://kauth.kakao.com/",
            "unset everywhere falls back to production"
        );
    }

    #[test]
    fn loopback_redirect_defaults_to_loopback_mode() {
        let config = kakao(Config::resolve_layers(
            env(&[
                ("KAKAO_CLIENT_ID", "abc"),
                ("KAKAO_REDIRECT_URI", "http://127.0.0.1:8765/oauth/callback"),
            ]),
            none,
        ));
        assert_eq!(
            config.redirect_mode,
            RedirectMode::Loopback,
            "http loopback → loopback"
        );
        let bridge = kakao(Config::resolve_layers(
            env(&[
                ("KAKAO_CLIENT_ID", "abc"),
                ("KAKAO_REDIRECT_URI", "http://localhost:8765/kakao/callback"),
                ("KAKAO_REDIRECT_MODE", "Bridge"),
            ]),
            none,
        ));
        assert_eq!(
            bridge.redirect_mode,
            RedirectMode::Bridge,
            "an explicit mode wins"
        );
    }

    #[test]
    fn refuses_bad_values() {
        let cases: &[(&[(&str, &str)], ConfigError)] = &[
            (
                &[("KAKAO_AUTH_BASE_URL", "http://kauth.kakao.com")],
                ConfigError::Insecure {
                    variable: "KAKAO_AUTH_BASE_URL",
                },
            ),
            (
                &[("KAKAO_API_BASE_URL", "http://10.0.0.1:8080")],
                ConfigError::Insecure {
                    variable: "KAKAO_API_BASE_URL",
                },
            ),
            (
                &[("KAKAO_API_BASE_URL", "ftp://127.0.0.1")],
                ConfigError::Insecure {
                    variable: "KAKAO_API_BASE_URL",
                },
            ),
            (
                &[("KAKAO_AUTH_BASE_URL", "kauth.kakao.com")],
                ConfigError::InvalidUrl {
                    variable: "KAKAO_AUTH_BASE_URL",
                },
            ),
            (
                &[("KAKAO_AUTH_BASE_URL", "https://u:p@kauth.kakao.com")],
                ConfigError::UnexpectedParts {
                    variable: "KAKAO_AUTH_BASE_URL",
                },
            ),
            (
                &[("KAKAO_API_BASE_URL", "https://kapi.kakao.com/?x=1")],
                ConfigError::UnexpectedParts {
                    variable: "KAKAO_API_BASE_URL",
                },
            ),
            (
                &[(
                    "KAKAO_REDIRECT_URI",
                    "dev.kakaodesk.desktop://oauth/callback",
                )],
                ConfigError::Insecure {
                    variable: "KAKAO_REDIRECT_URI",
                },
            ),
            (
                &[("KAKAO_REDIRECT_URI", "http://example.com/callback")],
                ConfigError::Insecure {
                    variable: "KAKAO_REDIRECT_URI",
                },
            ),
            (
                &[("KAKAO_REDIRECT_MODE", "popup")],
                ConfigError::UnknownRedirectMode,
            ),
            (
                &[("KAKAO_REDIRECT_MODE", "loopback")],
                ConfigError::LoopbackNeedsLoopbackUri,
            ),
            (&[("KAKAO_OIDC", "maybe")], ConfigError::InvalidSwitch),
            (
                &[("KAKAO_OIDC_ISSUER", "http://kauth.kakao.com")],
                ConfigError::Insecure {
                    variable: "KAKAO_OIDC_ISSUER",
                },
            ),
        ];
        for (pairs, want) in cases {
            let mut all = vec![("KAKAO_CLIENT_ID", "abc")];
            all.extend_from_slice(pairs);
            let got = Config::resolve_layers(env(&all), none).err();
            assert_eq!(
                got.as_ref(),
                Some(want),
                "{pairs:?} must be refused, never defaulted"
            );
            assert_eq!(
                want.code(),
                ErrorCode::KakaoConfig,
                "config errors are the publisher's"
            );
        }
    }

    #[test]
    fn a_shipped_build_takes_the_kakao_hosts_from_the_build_only() {
        for variable in ["KAKAO_AUTH_BASE_URL", "KAKAO_API_BASE_URL"] {
            let refused = Config::resolve_layers_with(
                env(&[
                    ("KAKAO_CLIENT_ID", "abc"),
                    (variable, "https://evil.example"),
                ]),
                none,
                RuntimeOverrides::AllButHosts,
            );
            assert_eq!(
                refused.err(),
                Some(ConfigError::HostOverride { variable }),
                "whoever sets the environment must not pick the trusted issuer"
            );
            assert!(
                Config::resolve_layers_with(
                    env(&[
                        ("KAKAO_CLIENT_ID", "abc"),
                        (variable, "https://evil.example")
                    ]),
                    none,
                    RuntimeOverrides::All,
                )
                .is_ok(),
                "a debug build still may (the tests point it at the emulator)"
            );
        }
        let build = |name: &str| match name {
            "KAKAO_API_BASE_URL" => Some("https://build.example/"),
            _ => None,
        };
        let config = kakao(Config::resolve_layers_with(
            env(&[("KAKAO_CLIENT_ID", "from-env")]),
            build,
            RuntimeOverrides::AllButHosts,
        ));
        assert_eq!(
            config.api_base_url.url().as_str(),
            "https://build.example/",
            "a host baked in at build time is used"
        );
        assert_eq!(
            config.client_id, "from-env",
            "other variables still come from the environment"
        );
    }

    #[test]
    fn loopback_mode_needs_an_ip_literal() {
        let refused = Config::resolve_layers(
            env(&[
                ("KAKAO_CLIENT_ID", "abc"),
                ("KAKAO_REDIRECT_URI", "http://localhost:8765/oauth/callback"),
            ]),
            none,
        );
        assert_eq!(
            refused.err(),
            Some(ConfigError::LoopbackNeedsIpLiteral),
            "the receiver listens on one address; a browser may try ::1 for localhost first"
        );
        let ipv6 = kakao(Config::resolve_layers(
            env(&[
                ("KAKAO_CLIENT_ID", "abc"),
                ("KAKAO_REDIRECT_URI", "http://[::1]:8765/oauth/callback"),
            ]),
            none,
        ));
        assert_eq!(
            ipv6.redirect_mode,
            RedirectMode::Loopback,
            "an IPv6 literal is fine"
        );
    }

    #[test]
    fn loopback_hosts_may_use_http() {
        for raw in [
            "http://127.0.0.1:9000",
            "http://127.8.9.1",
            "http://[::1]:9000",
            "http://LOCALHOST:1",
        ] {
            assert!(
                BaseUrl::parse("KAKAO_AUTH_BASE_URL", raw).is_ok(),
                "{raw} is loopback"
            );
        }
    }

    #[test]
    fn endpoints_join_under_the_base_path() {
        let base =
            BaseUrl::parse("KAKAO_AUTH_BASE_URL", "http://127.0.0.1:9/kauth").expect("valid");
        assert_eq!(
            base.endpoint("/oauth/token").as_str(),
            "http://127.0.0.1:9/kauth/oauth/token",
            "a base with a path keeps it"
        );
        let root = BaseUrl::parse("KAKAO_AUTH_BASE_URL", "https://kauth.kakao.com").expect("valid");
        assert_eq!(
            root.endpoint("/oauth/token").as_str(),
            "https://kauth.kakao.com/oauth/token"
        );
    }

    #[test]
    fn demo_mode_points_both_hosts_at_the_emulator() {
        let base = Url::parse("http://127.0.0.1:4567").expect("valid");
        let bridge = Url::parse("http://127.0.0.1:4567/bridge/kakao/callback").expect("valid");
        let config =
            Config::demo(&base, "demo-key", &bridge, None, vec![]).expect("loopback is allowed");
        assert_eq!(
            config.auth_base_url, config.api_base_url,
            "one emulator serves both hosts"
        );
        assert_eq!(
            config.redirect_mode,
            RedirectMode::Bridge,
            "demo runs the deep-link path end to end"
        );
        assert_eq!(
            config.redirect_uri.as_str(),
            bridge.as_str(),
            "the emulator's bridge page"
        );
        let remote = Url::parse("http://example.com").expect("valid");
        assert!(
            Config::demo(&remote, "k", &bridge, None, vec![]).is_err(),
            "plain http only on loopback"
        );
    }

    #[test]
    fn scopes_split_on_commas_and_spaces() {
        assert_eq!(
            parse_scopes("openid,profile_nickname  account_email,,openid"),
            ["openid", "profile_nickname", "account_email"]
        );
    }

    #[test]
    fn oidc_is_on_by_default_and_the_issuer_is_the_auth_host() {
        let config = kakao(Config::resolve_layers(
            env(&[("KAKAO_CLIENT_ID", "abc")]),
            none,
        ));
        assert!(
            config.oidc,
            "OpenID Connect is expected unless switched off"
        );
        assert_eq!(
            config.issuer, "https://kauth.kakao.com",
            "Kakao's issuer, exactly as its discovery names it (no trailing slash)"
        );
        let config = kakao(Config::resolve_layers(
            env(&[
                ("KAKAO_CLIENT_ID", "abc"),
                ("KAKAO_OIDC", "off"),
                ("KAKAO_AUTH_BASE_URL", "http://127.0.0.1:9/"),
                ("KAKAO_OIDC_ISSUER", "https://kauth.kakao.com/"),
            ]),
            none,
        ));
        assert!(!config.oidc, "KAKAO_OIDC=off switches it off");
        assert_eq!(
            config.issuer, "https://kauth.kakao.com",
            "an emulator on loopback may claim Kakao's literal issuer"
        );
        let config = kakao(Config::resolve_layers(
            env(&[
                ("KAKAO_CLIENT_ID", "abc"),
                ("KAKAO_AUTH_BASE_URL", "http://127.0.0.1:9/"),
            ]),
            none,
        ));
        assert_eq!(config.issuer, "http://127.0.0.1:9", "follows the auth host");
        for variable in HOST_VARIABLES {
            let refused = Config::resolve_layers_with(
                env(&[
                    ("KAKAO_CLIENT_ID", "abc"),
                    (variable, "https://kauth.kakao.com"),
                ]),
                none,
                RuntimeOverrides::AllButHosts,
            );
            assert_eq!(
                refused.err(),
                Some(ConfigError::HostOverride { variable }),
                "{variable} picks whom the app trusts: build-time only in a shipped build"
            );
        }
    }
}
