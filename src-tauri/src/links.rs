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

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, PoisonError};

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

/// How many URLs [`OpenUrls`] remembers having taken.
const REMEMBERED_URLS: usize = 16;

/// The intake of open-URL events (macOS). They come two ways: the deep-link
/// plugin's event, for URLs that arrive once the handler is registered, and
/// the URL the plugin kept from before `setup` (`get_current`, asked once
/// right after registering: the open-URL event of a cold start arrives
/// before `setup`, when nobody listens). A URL that arrives between the two
/// comes both ways, so each is taken once. The memo holds a keyed hash of
/// each URL (keys drawn per run), never the URL and its code.
#[derive(Debug, Default)]
pub struct OpenUrls {
    keys: RandomState,
    taken: Mutex<VecDeque<u64>>,
}

impl OpenUrls {
    /// The URLs among `urls` not taken before, each routed ([`from_url`]).
    pub fn take<'a>(
        &self,
        urls: impl IntoIterator<Item = &'a str>,
        scheme: &str,
    ) -> Vec<Result<DeepLink, RouteError>> {
        let mut taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        let mut routed = Vec::new();
        for url in urls {
            let hash = self.keys.hash_one(url);
            if taken.contains(&hash) {
                tracing::debug!("an open-URL event repeats a URL already taken");
                continue;
            }
            if taken.len() == REMEMBERED_URLS {
                taken.pop_front();
            }
            taken.push_back(hash);
            routed.push(from_url(url, scheme));
        }
        routed
    }
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

    #[test]
    fn an_open_url_that_comes_both_ways_is_taken_once() {
        let intake = OpenUrls::default();
        let cold = "dev.kakaodesk.desktop://oauth/callback?code=cold&state=s";
        // get_current after registering, then the same URL's event (it
        // arrived between the two), in either order.
        assert_eq!(intake.take([cold], SCHEME).len(), 1, "taken once");
        assert!(intake.take([cold], SCHEME).is_empty(), "not twice");
        let next = "dev.kakaodesk.desktop://oauth/callback?code=next&state=s";
        let routed = intake.take([next, "https://evil.example/"], SCHEME);
        assert_eq!(routed.len(), 2, "other URLs go on, refused ones too");
        assert!(routed[0].is_ok());
        assert_eq!(routed[1].clone().err(), Some(RouteError::ForeignScheme));
    }

    #[test]
    fn the_memo_is_bounded() {
        let intake = OpenUrls::default();
        let url = |n: usize| format!("dev.kakaodesk.desktop://oauth/callback?code=c{n}&state=s");
        for n in 0..=REMEMBERED_URLS {
            assert_eq!(intake.take([url(n).as_str()], SCHEME).len(), 1);
        }
        assert_eq!(
            intake.taken.lock().expect("lock").len(),
            REMEMBERED_URLS,
            "a flood of events cannot grow memory"
        );
    }
}
