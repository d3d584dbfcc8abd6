//! The publisher's Kakao settings this binary was built with.
//!
//! `src-tauri/build.rs` resolves them at build time from the build
//! environment's `KAKAO_*` variables over `kakao.toml` (`[debug]` or
//! `[release]` by build kind) and passes each as a `KAKAO_DESK_BUILD_*`
//! compile-time variable; this module is the only reader. They are the
//! middle layer of the core's configuration: the runtime environment comes
//! first (where [`kakao_desk_core::config::RuntimeOverrides`] allows it), the
//! production defaults last.

/// `debug` or `release`: which section of `kakao.toml` this build read.
pub const BUILD_KIND: &str = env!("KAKAO_DESK_BUILD_KIND");

/// The value a `KAKAO_*` variable had when this binary was built.
pub fn build_time(variable: &str) -> Option<&'static str> {
    match variable {
        "KAKAO_CLIENT_ID" => option_env!("KAKAO_DESK_BUILD_CLIENT_ID"),
        "KAKAO_CLIENT_SECRET" => option_env!("KAKAO_DESK_BUILD_CLIENT_SECRET"),
        "KAKAO_REDIRECT_URI" => option_env!("KAKAO_DESK_BUILD_REDIRECT_URI"),
        "KAKAO_REDIRECT_MODE" => option_env!("KAKAO_DESK_BUILD_REDIRECT_MODE"),
        "KAKAO_SCOPES" => option_env!("KAKAO_DESK_BUILD_SCOPES"),
        "KAKAO_OIDC" => option_env!("KAKAO_DESK_BUILD_OIDC"),
        "KAKAO_AUTH_BASE_URL" => option_env!("KAKAO_DESK_BUILD_AUTH_BASE_URL"),
        "KAKAO_API_BASE_URL" => option_env!("KAKAO_DESK_BUILD_API_BASE_URL"),
        "KAKAO_OIDC_ISSUER" => option_env!("KAKAO_DESK_BUILD_OIDC_ISSUER"),
        "KAKAO_LOGOUT_REDIRECT_URI" => option_env!("KAKAO_DESK_BUILD_LOGOUT_REDIRECT_URI"),
        "KAKAO_BACKEND_URL" => option_env!("KAKAO_DESK_BUILD_BACKEND_URL"),
        "KAKAO_BACKEND_AUDIENCE" => option_env!("KAKAO_DESK_BUILD_BACKEND_AUDIENCE"),
        _ => None,
    }
}

/// The redirect URI `kakao.toml` gives the other build kind (release for a
/// debug build and back), for the doctor.
pub fn other_redirect_uri() -> Option<&'static str> {
    option_env!("KAKAO_DESK_BUILD_OTHER_REDIRECT_URI")
}

/// Where the build found `variable`: `environment`, `kakao.toml` or
/// `kakao.toml [debug]`/`[release]`; `None` when the build did not set it.
pub fn build_source(variable: &str) -> Option<&'static str> {
    env!("KAKAO_DESK_BUILD_SOURCES")
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == variable)
        .map(|(_, source)| source)
}

/// The publisher's limit on a session after its login
/// (`session_max_days` in `kakao.toml`, or `KAKAO_SESSION_MAX_DAYS` when
/// building); `None`: the core's default (one year).
pub fn session_max_age() -> Option<std::time::Duration> {
    option_env!("KAKAO_DESK_BUILD_SESSION_MAX_DAYS")
        .and_then(|days| days.parse::<u64>().ok())
        .map(|days| std::time::Duration::from_secs(days * 24 * 3600))
}

/// Whether this build can fall back on the bundled emulator (demo mode):
/// every debug build, and a release build with the `demo` feature.
pub const HAS_DEMO: bool = cfg!(demo_emulator);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_layer_answers_for_every_core_variable_and_nothing_else() {
        assert_eq!(build_time("PATH"), None, "only KAKAO_* variables");
        // The committed kakao.toml names a redirect URI per build kind, so
        // the test build (a debug build) carries the debug page's.
        if build_source("KAKAO_REDIRECT_URI") == Some("kakao.toml [debug]") {
            assert!(
                build_time("KAKAO_REDIRECT_URI").is_some_and(|uri| uri.ends_with("/debug/")),
                "a debug build reads [debug]: {:?}",
                build_time("KAKAO_REDIRECT_URI")
            );
        }
        assert_eq!(BUILD_KIND, "debug", "tests are debug builds");
        const { assert!(HAS_DEMO, "every debug build can run demo mode") };
        for variable in kakao_desk_core::config::VARIABLES {
            assert_eq!(
                build_time(variable).is_some(),
                build_source(variable).is_some(),
                "{variable}: a value and its source come together"
            );
        }
    }

    #[test]
    fn the_committed_session_limit_reaches_the_binary() {
        // kakao.toml says 365 days (a build environment may override it).
        if option_env!("KAKAO_SESSION_MAX_DAYS").is_none() {
            assert_eq!(
                session_max_age(),
                Some(std::time::Duration::from_secs(365 * 24 * 3600))
            );
        }
    }
}
