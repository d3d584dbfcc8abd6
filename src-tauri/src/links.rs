//! Routing of the URLs handed to the app: the deep-link scheme this build
//! answers to, and the check that turns a process's arguments or an open-URL
//! event into a typed [`DeepLink`] or a refusal.
//!
//! Links arrive three ways: as the only command-line argument of a cold start
//! (Linux, Windows), as the arguments a second instance forwards through
//! tauri-plugin-single-instance, and as open-URL events (macOS). The shell
//! reads the arguments itself rather than relying on the deep-link plugin's
//! `on_open_url` on Linux and Windows because the plugin silently drops URLs
//! of other schemes (the user should hear that a link was refused) and
//! broadcasts accepted ones, authorization code included, as an app-wide
//! event. The check itself is the core's [`check_deep_link`].

use kakao_desk_core::callback::{DeepLink, RouteError, check_deep_link};

/// The deep-link scheme from the app's configuration (the debug build's own
/// scheme in debug builds, see `build.rs`): the one copy the app keeps.
///
/// # Panics
/// When `tauri.conf.json` declares no desktop scheme: a build error, caught by
/// the first test that starts the app.
pub fn configured_scheme(config: &tauri::Config) -> String {
    config
        .plugins
        .0
        .get("deep-link")
        .and_then(|c| c.pointer("/desktop/schemes/0"))
        .and_then(|s| s.as_str())
        .expect("tauri.conf.json must declare plugins.deep-link.desktop.schemes")
        .to_owned()
}

/// A process's arguments (without the program name). No argument is a plain
/// launch (`Ok(None)`); one is a link; more are refused, since a link always
/// comes alone.
///
/// # Errors
/// The [`RouteError`] of a refused link.
pub fn from_launch_args<'a>(
    args: impl IntoIterator<Item = &'a str>,
    scheme: &str,
) -> Result<Option<DeepLink>, RouteError> {
    let args: Vec<&str> = args.into_iter().collect();
    match args.as_slice() {
        [] => Ok(None),
        [one] => from_url(one, scheme).map(Some),
        many => {
            tracing::warn!(
                count = many.len(),
                "refused launch arguments: a link comes alone"
            );
            Err(RouteError::Malformed)
        }
    }
}

/// One URL from outside: the app's callback, or a refusal. Logs a redacted
/// line either way.
///
/// # Errors
/// The [`RouteError`] of a refused link.
pub fn from_url(raw: &str, scheme: &str) -> Result<DeepLink, RouteError> {
    check_deep_link(raw, scheme)
        .inspect(|link| tracing::info!(link = ?link, "login callback received"))
        // The raw URL is never logged: it may carry a code.
        .inspect_err(|reason| tracing::warn!(%reason, length = raw.len(), "link refused"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEME: &str = "dev.kakaodesk.desktop";

    #[test]
    fn a_genuine_link_is_routed_and_a_foreign_one_refused() {
        let link = from_launch_args(
            ["dev.kakaodesk.desktop://oauth/callback?code=c&state=s"],
            SCHEME,
        );
        assert_eq!(
            link.ok().flatten().map(|l| l.parameter_names()),
            Some(vec!["code".into(), "state".into()]),
            "a genuine callback goes on to the login core"
        );
        assert_eq!(
            from_launch_args(["https://evil.example/oauth/callback"], SCHEME).err(),
            Some(RouteError::ForeignScheme),
            "a foreign link goes nowhere"
        );
        assert_eq!(
            from_url("not a url", SCHEME).err(),
            Some(RouteError::Malformed)
        );
    }

    #[test]
    fn plain_launches_route_nothing_and_extra_arguments_are_refused() {
        assert_eq!(
            from_launch_args([], SCHEME),
            Ok(None),
            "a second launch without a link only focuses the window"
        );
        assert_eq!(
            from_launch_args(
                ["dev.kakaodesk.desktop://oauth/callback?code=c", "--flag"],
                SCHEME
            )
            .err(),
            Some(RouteError::Malformed),
            "a link comes alone"
        );
    }
}
