//! The callback intake's tables of genuine and hostile URLs.

use super::*;

const SCHEME: &str = "dev.kakaodesk.desktop";

#[test]
fn accepts_the_callback_route_of_the_app_scheme() {
    let link = check_deep_link(
        "dev.kakaodesk.desktop://oauth/callback?code=abc&state=xyz",
        SCHEME,
    )
    .expect("a genuine callback must be accepted");
    assert_eq!(link.parameter_names(), ["code", "state"]);
    let upper = check_deep_link("DEV.KAKAODESK.DESKTOP://oauth/callback?code=a", SCHEME);
    assert!(
        upper.is_ok(),
        "schemes are case-insensitive (RFC 3986 §3.1)"
    );
}

#[test]
fn refuses_hostile_urls() {
    let long = format!(
        "{SCHEME}://oauth/callback?code={}",
        "a".repeat(MAX_CALLBACK_LEN)
    );
    let cases: &[(&str, RouteError)] = &[
        (&long, RouteError::TooLong),
        ("", RouteError::Malformed),
        ("not a url", RouteError::Malformed),
        ("://oauth/callback", RouteError::Malformed),
        ("https://oauth/callback?code=a", RouteError::ForeignScheme),
        ("javascript:alert(1)", RouteError::ForeignScheme),
        (
            "dev.kakaodesk.desktop.debug://oauth/callback?code=a",
            RouteError::ForeignScheme,
        ),
        (
            "dev.kakaodesk.desktop://evil/callback?code=a",
            RouteError::WrongTarget,
        ),
        (
            "dev.kakaodesk.desktop://oauth/callback/extra?code=a",
            RouteError::WrongTarget,
        ),
        (
            "dev.kakaodesk.desktop://oauth/?code=a",
            RouteError::WrongTarget,
        ),
        (
            "dev.kakaodesk.desktop:oauth/callback?code=a",
            RouteError::WrongTarget,
        ),
        (
            "dev.kakaodesk.desktop://user:pw@oauth/callback?code=a",
            RouteError::WrongTarget,
        ),
        (
            "dev.kakaodesk.desktop://oauth:8080/callback?code=a",
            RouteError::WrongTarget,
        ),
        (
            "dev.kakaodesk.desktop://oauth/callback?code=a#frag",
            RouteError::WrongTarget,
        ),
    ];
    for (raw, want) in cases {
        assert_eq!(
            check_deep_link(raw, SCHEME)
                .as_ref()
                .map_err(Clone::clone)
                .err(),
            Some(want.clone()),
            "{raw:?} must be refused as {want:?}"
        );
    }
}

#[test]
fn redaction_hides_every_value() {
    let link = check_deep_link(
        "dev.kakaodesk.desktop://oauth/callback?code=SECRET1&state=SECRET2&x",
        SCHEME,
    )
    .expect("genuine");
    let shown = format!("{link:?}");
    assert!(
        !shown.contains("SECRET"),
        "values must not survive redaction: {shown}"
    );
    assert!(
        shown.contains("code=%5Bredacted%5D"),
        "names stay for diagnosis: {shown}"
    );
}

mod intake {
    use std::time::{Duration, SystemTime};

    use super::super::*;
    use crate::config::{RedirectMode, RedirectUri};
    use crate::secret::{CsrfState, Nonce, PkceVerifier};

    const LOOPBACK: &str = "http://127.0.0.1:8765/oauth/callback";
    const STATE: &str = "s-good";

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn pending(mode: RedirectMode) -> Option<PendingLogin> {
        Some(PendingLogin {
            verifier: PkceVerifier::new("v"),
            state: CsrfState::new(STATE),
            nonce: Nonce::new("n"),
            redirect_uri: RedirectUri::parse(LOOPBACK).expect("valid"),
            redirect_mode: mode,
            started_at: at(0),
            deadline: at(600),
            expects_id_token: false,
            for_account: None,
        })
    }

    /// A URL from outside, before routing.
    #[derive(Debug, Clone, Copy)]
    enum Raw<'a> {
        /// Handed to the app as a deep link: routed by `check_deep_link` first.
        Deep(&'a str),
        /// Requested on the loopback receiver.
        Loopback(&'a str),
    }

    fn deep(url: &str) -> Raw<'_> {
        Raw::Deep(url)
    }

    /// What the app does with a URL: a deep link is routed, then taken in.
    fn take(
        raw: Raw<'_>,
        slot: &mut Option<PendingLogin>,
        now: SystemTime,
    ) -> Result<Callback, CallbackError> {
        match raw {
            Raw::Deep(url) => {
                let link = check_deep_link(url, "dev.kakaodesk.desktop")?;
                intake(CallbackSource::DeepLink(&link), slot, now)
            }
            Raw::Loopback(url) => intake(CallbackSource::Loopback { url }, slot, now),
        }
    }

    #[test]
    fn a_genuine_deep_link_takes_the_pending_login_once() {
        let mut slot = pending(RedirectMode::Bridge);
        let url = "dev.kakaodesk.desktop://oauth/callback?code=C0DE&state=s-good";
        let callback = take(deep(url), &mut slot, at(10)).expect("genuine callback");
        assert_eq!(
            callback.code.secret(),
            "C0DE",
            "the code is handed over as received"
        );
        assert!(slot.is_none(), "the pending login is taken");
        let again = take(deep(url), &mut slot, at(11)).err();
        assert_eq!(
            again,
            Some(CallbackError::NotPending),
            "a replay finds nothing to take"
        );
        assert_eq!(CallbackError::NotPending.code(), ErrorCode::InvalidCallback);
    }

    #[test]
    fn a_genuine_loopback_request_is_accepted() {
        let mut slot = pending(RedirectMode::Loopback);
        let url = "http://127.0.0.1:8765/oauth/callback?state=s-good&code=abc-DEF_1";
        let callback = intake(CallbackSource::Loopback { url }, &mut slot, at(599));
        assert!(
            callback.is_ok(),
            "one second before the deadline still counts"
        );
    }

    #[test]
    fn hostile_and_failed_callbacks() {
        let long = format!(
            "dev.kakaodesk.desktop://oauth/callback?state=s-good&code={}",
            "a".repeat(5000)
        );
        let code_too_long = format!(
            "dev.kakaodesk.desktop://oauth/callback?state=s-good&code={}",
            "a".repeat(MAX_CODE_LEN + 1)
        );
        // (source, channel, now, expected error, pending login survives)
        type Case<'a> = (Raw<'a>, RedirectMode, u64, CallbackError, bool);
        let lb = Raw::Loopback;
        let bridge = RedirectMode::Bridge;
        let loopback = RedirectMode::Loopback;
        let cases: Vec<Case<'_>> = vec![
            (deep(&long), bridge, 1, RouteError::TooLong.into(), true),
            (
                deep("https://evil.example/oauth/callback?code=a&state=s-good"),
                bridge,
                1,
                RouteError::ForeignScheme.into(),
                true,
            ),
            (
                deep("dev.kakaodesk.desktop://evil/callback?code=a&state=s-good"),
                bridge,
                1,
                RouteError::WrongTarget.into(),
                true,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?code=a"),
                bridge,
                1,
                CallbackError::MissingState,
                true,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?code=a&state="),
                bridge,
                1,
                CallbackError::StateMismatch,
                true,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?code=a&state=s-goo"),
                bridge,
                1,
                CallbackError::StateMismatch,
                true,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?code=a&state=S-GOOD"),
                bridge,
                1,
                CallbackError::StateMismatch,
                true,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?code=a&state=s-good&state=x"),
                bridge,
                1,
                CallbackError::Repeated("state"),
                true,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?code=a&code=b&state=s-good"),
                bridge,
                1,
                CallbackError::Repeated("code"),
                true,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?error=access_denied"),
                bridge,
                1,
                CallbackError::MissingState,
                true,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?code=a&state=s-good"),
                loopback,
                1,
                CallbackError::WrongChannel,
                true,
            ),
            (
                lb("http://127.0.0.1:8765/oauth/callback?code=a&state=s-good"),
                bridge,
                1,
                CallbackError::WrongChannel,
                true,
            ),
            (
                lb("http://127.0.0.1:8766/oauth/callback?code=a&state=s-good"),
                loopback,
                1,
                RouteError::WrongTarget.into(),
                true,
            ),
            (
                lb("http://localhost:8765/oauth/callback?code=a&state=s-good"),
                loopback,
                1,
                RouteError::WrongTarget.into(),
                true,
            ),
            (
                lb("http://127.0.0.1:8765/oauth/callback/x?code=a&state=s-good"),
                loopback,
                1,
                RouteError::WrongTarget.into(),
                true,
            ),
            (
                lb("https://127.0.0.1:8765/oauth/callback?code=a&state=s-good"),
                loopback,
                1,
                RouteError::WrongTarget.into(),
                true,
            ),
            (
                lb("http://127.0.0.1:8765/oauth/callback?code=a&state=s-good#x"),
                loopback,
                1,
                RouteError::WrongTarget.into(),
                true,
            ),
            (
                lb("not a url"),
                loopback,
                1,
                RouteError::Malformed.into(),
                true,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?code=a&state=s-good"),
                bridge,
                600,
                CallbackError::Expired,
                false,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?code=a&state=forged"),
                bridge,
                900,
                CallbackError::Expired,
                false,
            ),
            (
                deep(
                    "dev.kakaodesk.desktop://oauth/callback?error=access_denied&error_description=User%20denied%20access&state=s-good",
                ),
                bridge,
                1,
                CallbackError::Cancelled,
                false,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?error=consent_required&state=s-good"),
                bridge,
                1,
                CallbackError::Refused {
                    error: "consent_required".into(),
                    code: ErrorCode::ConsentRequired,
                },
                false,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?error=%3Cscript%3E&state=s-good"),
                bridge,
                1,
                CallbackError::Refused {
                    error: "script".into(),
                    code: ErrorCode::InvalidCallback,
                },
                false,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?error=misconfigured&state=s-good"),
                bridge,
                1,
                CallbackError::Refused {
                    error: "misconfigured".into(),
                    code: ErrorCode::KakaoConfig,
                },
                false,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?state=s-good"),
                bridge,
                1,
                CallbackError::MissingCode,
                false,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?code=&state=s-good"),
                bridge,
                1,
                CallbackError::MissingCode,
                false,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?code=a%20b&state=s-good"),
                bridge,
                1,
                CallbackError::MissingCode,
                false,
            ),
            (
                deep("dev.kakaodesk.desktop://oauth/callback?code=a%0Ab&state=s-good"),
                bridge,
                1,
                CallbackError::MissingCode,
                false,
            ),
            (
                deep(&code_too_long),
                bridge,
                1,
                CallbackError::MissingCode,
                false,
            ),
        ];
        for (source, mode, now, want, survives) in cases {
            let mut slot = pending(mode);
            let got = take(source, &mut slot, at(now)).err();
            assert_eq!(
                got.as_ref(),
                Some(&want),
                "{source:?} at {now}s must fail as {want:?}"
            );
            assert_eq!(
                slot.is_some(),
                survives,
                "{want:?}: pending login survives = {survives}"
            );
            assert_eq!(
                want.ends_login(),
                !survives,
                "{want:?}: ends_login agrees with the slot"
            );
        }
    }

    #[test]
    fn error_codes_are_the_stable_ones() {
        assert_eq!(
            CallbackError::StateMismatch.code(),
            ErrorCode::StateMismatch
        );
        assert_eq!(CallbackError::MissingState.code(), ErrorCode::StateMismatch);
        assert_eq!(CallbackError::Expired.code(), ErrorCode::LoginTimeout);
        assert_eq!(CallbackError::Cancelled.code(), ErrorCode::LoginCancelled);
        assert_eq!(
            CallbackError::Route(RouteError::TooLong).code(),
            ErrorCode::InvalidCallback
        );
    }

    #[test]
    fn nothing_pending_refuses_even_a_well_formed_link() {
        let mut slot = None;
        let url = "dev.kakaodesk.desktop://oauth/callback?code=a&state=s-good";
        assert_eq!(
            take(deep(url), &mut slot, at(1)).err(),
            Some(CallbackError::NotPending)
        );
    }
}
