//! The view the UI draws, made from the login core's state: one pure
//! function, so every screen the page can show is decided (and tested) here.

use std::time::SystemTime;

use kakao_desk_core::login::LoginSnapshot;

use crate::ipc::{ContinueAs, FirstPaint, LoginView, SessionState, SessionView};

/// Where the login core is, as the shell holds it.
#[derive(Debug, Clone, Copy)]
pub enum CoreState<'a> {
    /// Start-up is still opening the vault and the cache (a few milliseconds).
    Opening,
    /// Start-up failed; the error was reported.
    Failed,
    /// The core is open; this is its state.
    Open(&'a LoginSnapshot),
}

/// The whole state the UI draws. `demo`: the app runs against the bundled
/// emulator, and the page shows a banner.
pub fn session_view(core: CoreState<'_>, demo: bool) -> SessionView {
    let view = match core {
        CoreState::Opening => SessionView::bare(SessionState::Starting),
        CoreState::Failed => SessionView::bare(SessionState::SignedOut),
        CoreState::Open(LoginSnapshot::Waiting(attempt)) => SessionView {
            login: Some(LoginView {
                deadline: unix_ms(attempt.deadline),
                first_paint: attempt.first_paint.as_ref().map(|p| FirstPaint {
                    nickname: p.nickname.clone(),
                }),
            }),
            ..SessionView::bare(SessionState::Waiting)
        },
        CoreState::Open(LoginSnapshot::SignedIn {
            profile,
            last_login_at,
            offline,
            consent_offers,
            consent_note,
            accounts,
        }) => SessionView {
            profile: profile.clone(),
            last_login_at: last_login_at.map(unix_ms),
            offline: *offline,
            consent_offers: consent_offers.clone(),
            consent_note: consent_note.clone(),
            accounts: accounts.clone(),
            ..SessionView::bare(SessionState::SignedIn)
        },
        CoreState::Open(LoginSnapshot::SignedOut {
            continue_as,
            accounts,
        }) => SessionView {
            continue_as: continue_as.as_ref().map(|p| ContinueAs {
                nickname: p.nickname.clone(),
                thumbnail_data_url: p.thumbnail_data_url.clone(),
            }),
            accounts: accounts.clone(),
            ..SessionView::bare(SessionState::SignedOut)
        },
        // A state this shell does not know yet: the login screen is safe.
        CoreState::Open(_) => SessionView::bare(SessionState::SignedOut),
    };
    SessionView { demo, ..view }
}

/// Milliseconds since the Unix epoch, for JavaScript's `Date`.
fn unix_ms(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use kakao_desk_core::config::RedirectMode;
    use kakao_desk_core::login::{AttemptView, FirstPaint as CoreFirstPaint};
    use kakao_desk_core::profile::{KakaoId, KakaoProfile, PublicProfile};
    use serde_json::json;

    use super::*;

    fn at_ms(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
    }

    fn profile(nickname: &str) -> PublicProfile {
        let mut profile = KakaoProfile::new(KakaoId::new(1_376_016_924_426_111_111));
        profile.nickname = Some(nickname.to_owned());
        let mut public = profile.to_public();
        public.thumbnail_data_url = Some("data:image/png;base64,iVBORw0KGgo=".to_owned());
        public
    }

    fn account(id: i64, signed_in: bool, active: bool) -> kakao_desk_core::login::AccountView {
        kakao_desk_core::login::AccountView {
            kakao_id: KakaoId::new(id),
            nickname: Some("홍길동".to_owned()),
            thumbnail_data_url: None,
            signed_in,
            active,
        }
    }

    fn json_of(view: SessionView) -> serde_json::Value {
        serde_json::to_value(view).expect("views serialize")
    }

    #[test]
    fn before_and_after_a_failed_start_up() {
        assert_eq!(
            session_view(CoreState::Opening, false).state,
            SessionState::Starting,
            "while the vault opens the page draws nothing, so no login screen flashes"
        );
        assert_eq!(
            session_view(CoreState::Failed, false).state,
            SessionState::SignedOut,
            "after a failed start the login screen shows, with the reported error"
        );
    }

    #[test]
    fn a_waiting_attempt_shows_its_countdown_and_first_paint() {
        let snapshot = LoginSnapshot::Waiting(AttemptView {
            mode: RedirectMode::Bridge,
            deadline: at_ms(1_763_900_600_250),
            first_paint: Some(CoreFirstPaint {
                kakao_id: KakaoId::new(7),
                nickname: Some("라이언".into()),
            }),
        });
        let view = json_of(session_view(CoreState::Open(&snapshot), false));
        assert_eq!(view["state"], "waiting");
        assert_eq!(
            view["login"],
            json!({"deadline": 1_763_900_600_250_i64, "firstPaint": {"nickname": "라이언"}}),
            "the deadline in Unix ms for the countdown; the id_token's nickname only"
        );
        assert_eq!(
            view["profile"],
            json!(null),
            "no profile before the login completes"
        );
    }

    #[test]
    fn signed_in_shows_the_profile_its_last_login_and_the_offline_badge() {
        let snapshot = LoginSnapshot::SignedIn {
            profile: Some(profile("홍길동")),
            last_login_at: Some(at_ms(1_700_000_000_123)),
            offline: true,
            consent_offers: vec![kakao_desk_core::login::ConsentOffer {
                id: "birthday".into(),
                scopes: vec!["birthday".into(), "birthyear".into()],
            }],
            consent_note: Some(kakao_desk_core::login::ConsentNote {
                offer: "birthday".into(),
                outcome: kakao_desk_core::login::ConsentOutcome::Declined,
            }),
            accounts: vec![
                account(1_376_016_924_426_111_111, true, true),
                account(7, false, false),
            ],
        };
        let view = json_of(session_view(CoreState::Open(&snapshot), false));
        assert_eq!(view["state"], "signed_in");
        assert_eq!(
            view["consentOffers"],
            json!([{"id": "birthday", "scopes": ["birthday", "birthyear"]}]),
            "the card's add-consent actions"
        );
        assert_eq!(
            view["consentNote"],
            json!({"offer": "birthday", "outcome": "declined"})
        );
        assert_eq!(
            view["profile"]["kakaoId"], "1376016924426111111",
            "ids as strings"
        );
        assert_eq!(view["profile"]["nickname"], "홍길동");
        assert_eq!(view["lastLoginAt"], 1_700_000_000_123_i64);
        assert_eq!(
            view["offline"], true,
            "Kakao was unreachable: the badge shows"
        );
        assert_eq!(view["continueAs"], json!(null));
        assert_eq!(
            view["accounts"],
            json!([
                {"kakaoId": "1376016924426111111", "nickname": "홍길동", "thumbnailDataUrl": null, "signedIn": true, "active": true},
                {"kakaoId": "7", "nickname": "홍길동", "thumbnailDataUrl": null, "signedIn": false, "active": false},
            ]),
            "the switcher: ids as strings, who is signed in, who is in use"
        );
    }

    #[test]
    fn signed_out_offers_to_continue_as_the_last_account() {
        let snapshot = LoginSnapshot::SignedOut {
            continue_as: Some(profile("홍길동")),
            accounts: vec![account(7, true, false)],
        };
        let view = json_of(session_view(CoreState::Open(&snapshot), false));
        assert_eq!(view["state"], "signed_out");
        assert_eq!(
            view["continueAs"],
            json!({"nickname": "홍길동", "thumbnailDataUrl": "data:image/png;base64,iVBORw0KGgo="}),
            "the nickname and cached picture only: no email, no birthday on the login screen"
        );
        assert_eq!(
            view["accounts"][0]["signedIn"], true,
            "an account still signed in is one click away from the login screen"
        );
        let first_run = LoginSnapshot::SignedOut {
            continue_as: None,
            accounts: Vec::new(),
        };
        assert_eq!(
            json_of(session_view(CoreState::Open(&first_run), false))["continueAs"],
            json!(null)
        );
    }

    #[test]
    fn demo_mode_is_stamped_on_every_view() {
        let signed_out = LoginSnapshot::SignedOut {
            continue_as: None,
            accounts: Vec::new(),
        };
        for core in [
            CoreState::Opening,
            CoreState::Failed,
            CoreState::Open(&signed_out),
        ] {
            assert!(
                session_view(core, true).demo,
                "{core:?}: the demo banner shows"
            );
            assert!(
                !session_view(core, false).demo,
                "{core:?}: no banner with a real app key"
            );
        }
    }
}
