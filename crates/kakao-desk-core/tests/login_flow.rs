//! The login flow against the real emulator over a loopback socket: happy
//! paths with and without OIDC, PKCE, callback refusals that must send no
//! token request, duplicate callbacks, restore, loopback mode.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use kakao_desk_core::ErrorCode;
use kakao_desk_core::Language;
use kakao_desk_core::account::AccountError;
use kakao_desk_core::config::RedirectUri;
use kakao_desk_core::kakao::KakaoClient;
use kakao_desk_core::login::{LOGIN_DEADLINE, LoginOptions};
use kakao_desk_core::secret::{AuthorizationCode, PkceVerifier};
use kakao_emulator::{EmulatorConfig, fixture_ids};

const NINETEEN: &str = "1376016924426111111";

#[tokio::test]
async fn happy_path_with_oidc_paints_early_then_completes() {
    let rig = rig().await;
    let link = rig.browser_callback().await;
    let first_paint = Arc::new(Mutex::new(None));
    let seen = first_paint.clone();
    let profile = rig
        .account
        .complete_login(&link, move |early| {
            *seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(early)
        })
        .await
        .unwrap_or_else(|e| panic!("login must succeed: {e}"));

    let early = first_paint
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let early = early.unwrap_or_else(|| panic!("with OIDC on, the id_token gives a first paint"));
    assert_eq!(
        early.kakao_id.to_string(),
        NINETEEN,
        "first paint names the same user"
    );
    assert!(
        early.nickname.is_some(),
        "the id_token's nickname is painted at once"
    );
    assert_eq!(
        profile.kakao_id.to_string(),
        NINETEEN,
        "the 19-digit id survives exactly"
    );
    assert_eq!(
        profile.nickname, early.nickname,
        "/v2/user/me agrees with the id_token"
    );

    let token = rig.grants("authorization_code");
    assert_eq!(token.len(), 1, "exactly one code exchange");
    assert!(
        token[0].param("code_verifier").is_some(),
        "the PKCE verifier is sent"
    );
    assert_eq!(
        token[0].param("client_secret"),
        None,
        "no client_secret when none is configured"
    );
    assert_eq!(token[0].status, 200, "the emulator accepted the exchange");
    let me = rig.requests("/v2/user/me");
    assert_eq!(me.len(), 1, "one profile fetch");
    assert_eq!(
        me[0].param("secure_resource"),
        Some("true"),
        "https image URLs are asked for"
    );
    assert_eq!(
        rig.requests("/.well-known/jwks.json").len(),
        1,
        "JWKS fetched once"
    );

    let cached = rig
        .account
        .current_profile()
        .unwrap_or_else(|| panic!("the profile is cached"));
    assert!(
        cached.thumbnail.is_some(),
        "the thumbnail bytes are kept for offline display"
    );
    assert!(
        profile
            .thumbnail_data_url
            .as_deref()
            .is_some_and(|u| u.starts_with("data:image/")),
        "the UI gets the thumbnail inline, so it shows offline"
    );
    let record = rig
        .stored_record()
        .unwrap_or_else(|| panic!("the session is in the vault"));
    assert_eq!(
        record.kakao_id.to_string(),
        NINETEEN,
        "the vault holds this user's session"
    );
    assert!(record.id_token.is_some(), "the id_token is kept");
}

#[tokio::test]
async fn happy_path_without_oidc_has_no_first_paint() {
    let mut setup = Setup::default();
    setup.emulator.openid = false;
    let rig = rig_with(setup).await;
    let link = rig.browser_callback().await;
    let painted = Arc::new(Mutex::new(false));
    let flag = painted.clone();
    let profile = rig
        .account
        .complete_login(&link, move |_| {
            *flag.lock().unwrap_or_else(|e| e.into_inner()) = true
        })
        .await
        .unwrap_or_else(|e| panic!("login without OIDC must succeed: {e}"));
    assert_eq!(profile.kakao_id.to_string(), NINETEEN);
    assert!(
        !*painted.lock().unwrap_or_else(|e| e.into_inner()),
        "no id_token, no early paint"
    );
    assert!(
        rig.requests("/.well-known/openid-configuration").is_empty(),
        "no OIDC metadata needed"
    );
    assert!(
        rig.stored_record().is_some_and(|r| r.id_token.is_none()),
        "session sealed without id_token"
    );
}

#[tokio::test]
async fn a_restart_restores_the_session_without_network() {
    let rig = rig().await;
    rig.login().await;
    rig.emulator.requests().clear();
    let restarted = rig.open_account();
    let profile = restarted
        .restore_session()
        .await
        .unwrap_or_else(|e| panic!("restore must succeed: {e}"))
        .unwrap_or_else(|| panic!("a saved session is restored"));
    assert_eq!(
        profile.kakao_id.to_string(),
        NINETEEN,
        "the same user is back"
    );
    assert!(restarted.is_signed_in().await, "signed in after restore");
    assert!(
        restarted
            .current_profile()
            .is_some_and(|c| c.thumbnail.is_some()),
        "thumbnail from the cache"
    );
    assert!(
        rig.emulator.requests().all().is_empty(),
        "restore must not touch the network (no refresh at start)"
    );
}

#[tokio::test]
async fn an_expired_session_jwt_signs_out_but_keeps_continue_as() {
    let rig = rig().await;
    rig.login().await;
    rig.advance(Duration::from_secs(31 * 24 * 3600));
    let restarted = rig.open_account();
    let error = restarted.restore_session().await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::SessionExpired),
        "30-day absolute lifetime"
    );
    assert!(!restarted.is_signed_in().await, "not signed in");
    assert!(rig.stored_record().is_none(), "the vault is wiped");
    let last = restarted
        .last_account()
        .unwrap_or_else(|e| panic!("cache readable: {e}"));
    assert!(
        last.is_some_and(|c| c.profile.nickname.is_some()),
        "\"continue as <nickname>\" stays"
    );
}

#[tokio::test]
async fn the_emulator_rejects_a_wrong_or_missing_pkce_verifier() {
    let rig = rig().await;
    let started = rig
        .account
        .begin_login(&LoginOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let location = rig.authorize(started.authorize_url.as_str()).await;
    let code = query(&location, "code");
    let client = KakaoClient::new(&rig.config, rig.client).unwrap_or_else(|e| panic!("{e}"));
    let wrong = client
        .exchange_code(
            &AuthorizationCode::new(code.clone()),
            &PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            &rig.config.redirect_uri,
        )
        .await
        .err()
        .unwrap_or_else(|| panic!("a wrong verifier must be refused"));
    assert_eq!(wrong.kakao_code(), "KOE320", "the emulator's PKCE failure");
    assert_eq!(
        wrong.code(),
        ErrorCode::SessionExpired,
        "the grant is gone: log in again"
    );

    // Missing verifier: a raw request without code_verifier.
    let started = rig
        .account
        .begin_login(&LoginOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let location = rig.authorize(started.authorize_url.as_str()).await;
    let response = http()
        .post(rig.emulator.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", rig.config.client_id.as_str()),
            ("redirect_uri", rig.config.redirect_uri.as_str()),
            ("code", query(&location, "code").as_str()),
        ])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        response.status(),
        400,
        "a challenged code needs its verifier"
    );
}

#[tokio::test]
async fn state_mismatch_sends_no_token_request() {
    let rig = rig().await;
    let link = rig.browser_callback().await;
    let state = query(&link, "state");
    let forged = link.replace(&format!("state={state}"), "state=forged-state");
    let error = rig.account.complete_login(&forged, |_| {}).await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::StateMismatch),
        "a foreign state is refused"
    );
    assert!(
        rig.requests("/oauth/token").is_empty(),
        "no token request may follow a refused callback"
    );
    assert!(
        rig.account.login_pending(),
        "a forged link does not cancel the real login"
    );
    rig.account
        .complete_login(&link, |_| {})
        .await
        .unwrap_or_else(|e| panic!("the genuine link still works: {e}"));
}

#[tokio::test]
async fn an_expired_pending_login_sends_no_token_request() {
    let rig = rig().await;
    let link = rig.browser_callback().await;
    rig.advance(LOGIN_DEADLINE + Duration::from_secs(1));
    let error = rig.account.complete_login(&link, |_| {}).await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::LoginTimeout),
        "past the 10-minute deadline"
    );
    assert!(
        rig.requests("/oauth/token").is_empty(),
        "an expired login never reaches the token endpoint"
    );
    assert!(!rig.account.login_pending(), "the expired login is dropped");
}

#[tokio::test]
async fn a_cancelled_or_replaced_login_refuses_its_callback() {
    let rig = rig().await;
    let old = rig.browser_callback().await;
    let new = rig.browser_callback().await;
    let error = rig.account.complete_login(&old, |_| {}).await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::StateMismatch),
        "one pending login: the new one replaced it"
    );
    rig.account.cancel_login();
    let error = rig.account.complete_login(&new, |_| {}).await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::InvalidCallback),
        "after cancel nothing is pending"
    );
    assert!(
        rig.requests("/oauth/token").is_empty(),
        "no exchange for either"
    );
}

#[tokio::test]
async fn the_same_callback_twice_concurrently_exchanges_once() {
    let rig = rig().await;
    let link = rig.browser_callback().await;
    let (a, b) = tokio::join!(
        rig.account.complete_login(&link, |_| {}),
        rig.account.complete_login(&link, |_| {})
    );
    let codes: Vec<_> = [&a, &b]
        .iter()
        .map(|r| r.as_ref().err().map(AccountError::code))
        .collect();
    assert!(
        codes.contains(&None),
        "one of the two completes the login: {codes:?}"
    );
    assert!(
        codes.contains(&Some(ErrorCode::InvalidCallback)),
        "the duplicate finds nothing: {codes:?}"
    );
    assert_eq!(
        rig.grants("authorization_code").len(),
        1,
        "exactly one token exchange"
    );
    let replay = rig.account.complete_login(&link, |_| {}).await.err();
    assert_eq!(
        replay.map(|e| e.code()),
        Some(ErrorCode::InvalidCallback),
        "a later replay finds nothing too"
    );
    assert_eq!(
        rig.grants("authorization_code").len(),
        1,
        "and sends nothing"
    );
}

#[tokio::test]
async fn access_denied_is_a_cancel() {
    let rig = rig().await;
    let started = rig
        .account
        .begin_login(&LoginOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let state = query(started.authorize_url.as_str(), "state");
    let link = format!(
        "{SCHEME}://oauth/callback?error=access_denied&error_description=User%20denied%20access&state={state}"
    );
    let error = rig.account.complete_login(&link, |_| {}).await.err();
    assert_eq!(
        error.map(|e| e.code()),
        Some(ErrorCode::LoginCancelled),
        "Kakao's cancel is the user's cancel"
    );
    assert!(
        rig.requests("/oauth/token").is_empty(),
        "nothing to exchange"
    );
}

#[tokio::test]
async fn koe006_unregistered_redirect_never_comes_back() {
    let mut setup = Setup::default();
    setup.env.push((
        "KAKAO_REDIRECT_URI",
        "http://127.0.0.1:9/not/registered".to_owned(),
    ));
    let rig = rig_with(setup).await;
    let started = rig
        .account
        .begin_login(&LoginOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let response = http()
        .get(started.authorize_url.as_str())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(
        response.status(),
        302,
        "Kakao shows its own error page instead of redirecting"
    );
    let body = response.text().await.unwrap_or_default();
    assert!(
        body.contains("KOE006"),
        "the page names KOE006 for the publisher: {body}"
    );
}

#[tokio::test]
async fn loopback_mode_receives_the_redirect_and_answers_the_browser() {
    let port = free_port().await;
    let redirect = format!("http://127.0.0.1:{port}/oauth/callback");
    let mut setup = Setup::default();
    setup.emulator.redirect_uris = vec![redirect.clone()];
    setup.env.push(("KAKAO_REDIRECT_URI", redirect.clone()));
    setup
        .env
        .push(("KAKAO_REDIRECT_MODE", "loopback".to_owned()));
    let rig = rig_with(setup).await;
    assert_eq!(
        rig.config.redirect_uri,
        RedirectUri::parse(&redirect).unwrap_or_else(|e| panic!("{e}"))
    );
    let started = rig
        .account
        .begin_login(&LoginOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let location = rig.authorize(started.authorize_url.as_str()).await;
    assert!(
        location.starts_with(&redirect),
        "Kakao redirects to the loopback receiver"
    );
    let account = rig.account.clone();
    let waiter =
        tokio::spawn(async move { account.receive_loopback_login(Language::Ko, |_| {}).await });
    // The browser, redirected: a favicon request first, then the callback.
    let favicon = http()
        .get(format!("http://127.0.0.1:{port}/favicon.ico"))
        .send()
        .await;
    assert_eq!(
        favicon.map(|r| r.status().as_u16()).ok(),
        Some(404),
        "other paths are not callbacks"
    );
    let page = http()
        .get(&location)
        .send()
        .await
        .unwrap_or_else(|e| panic!("the receiver answers: {e}"));
    assert_eq!(page.status(), 200, "the genuine callback is accepted");
    let text = page.text().await.unwrap_or_default();
    assert!(
        text.contains("탭을 닫고"),
        "the page is in the user's language: {text}"
    );
    let profile = waiter
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("loopback login: {e}"));
    assert_eq!(profile.kakao_id.to_string(), NINETEEN);
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "the receiver stops listening once the login is over"
    );
}

#[tokio::test]
async fn loopback_cancel_closes_the_receiver() {
    let port = free_port().await;
    let redirect = format!("http://127.0.0.1:{port}/oauth/callback");
    let mut setup = Setup::default();
    setup.emulator.redirect_uris = vec![redirect.clone()];
    setup.env.push(("KAKAO_REDIRECT_URI", redirect));
    setup
        .env
        .push(("KAKAO_REDIRECT_MODE", "loopback".to_owned()));
    let rig = rig_with(setup).await;
    rig.account
        .begin_login(&LoginOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok(),
        "listening while pending"
    );
    let account = rig.account.clone();
    let waiter =
        tokio::spawn(async move { account.receive_loopback_login(Language::En, |_| {}).await });
    tokio::task::yield_now().await;
    rig.account.cancel_login();
    let result = waiter.await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        result.err().map(|e| e.code()),
        Some(ErrorCode::LoginCancelled),
        "cancel ends the wait"
    );
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "and closes the port"
    );

    // Cancel with no wait in progress closes the port too.
    rig.account
        .begin_login(&LoginOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    rig.account.cancel_login();
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "alive only while pending"
    );
    let late = rig
        .account
        .receive_loopback_login(Language::En, |_| {})
        .await;
    assert_eq!(
        late.err().map(|e| e.code()),
        Some(ErrorCode::LoginCancelled),
        "a wait after cancel ends at once"
    );
}

#[tokio::test]
async fn every_fixture_user_logs_in() {
    for id in kakao_emulator::Users::default_fixtures().ids() {
        let rig = rig_with(Setup {
            emulator: EmulatorConfig {
                auto_consent: Some(id),
                ..Setup::default().emulator
            },
            ..Setup::default()
        })
        .await;
        let profile = rig.login().await;
        assert_eq!(
            profile.kakao_id.to_string(),
            id.to_string(),
            "fixture {id} signs in whatever its consents"
        );
        if id == fixture_ids::MALFORMED_BIRTHDAY {
            assert!(
                profile.birthday.is_none(),
                "an invalid birthday is dropped, never a failed login"
            );
        }
    }
}

async fn free_port() -> u16 {
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    probe.local_addr().unwrap_or_else(|e| panic!("{e}")).port()
}

fn query(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default()
}

/// A key source on a machine without a keychain.
#[derive(Debug)]
struct NoKeychain;

impl kakao_desk_core::vault::KeySource for NoKeychain {
    fn load_or_create(
        &self,
    ) -> Result<
        (
            kakao_desk_core::secret::VaultKey,
            kakao_desk_core::vault::KeyOrigin,
        ),
        kakao_desk_core::vault::KeyError,
    > {
        Err(kakao_desk_core::vault::KeyError::KeychainUnavailable(
            "no Secret Service".into(),
        ))
    }
}

#[tokio::test]
async fn without_a_keychain_the_session_lives_in_memory_only() {
    let rig = rig().await;
    let cache = kakao_desk_core::cache::ProfileCache::open(&rig.data_dir().join("profile.db"))
        .unwrap_or_else(|e| panic!("{e}"));
    let vault_dir = rig.data_dir().join("vault");
    std::fs::create_dir_all(&vault_dir).unwrap_or_else(|e| panic!("{e}"));
    let mut parts = kakao_desk_core::account::AccountParts::new(
        rig.config.clone(),
        APP_ID,
        SCHEME,
        rig.clock.clone(),
        cache,
        Box::new(NoKeychain),
        Box::new(kakao_desk_core::vault::FileVaultStorage::new(&vault_dir)),
    );
    parts.client_options = rig.client;
    let account = kakao_desk_core::account::Account::open(parts)
        .unwrap_or_else(|e| panic!("opens anyway: {e}"));
    assert_eq!(
        account.keychain_problem(),
        Some(ErrorCode::KeychainUnavailable),
        "the shell must say so"
    );
    let started = account
        .begin_login(&LoginOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let location = rig.authorize(started.authorize_url.as_str()).await;
    account
        .complete_login(&deep_link_for(&location), |_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(account.is_signed_in().await, "signed in for this run");
    assert!(
        files_under(&vault_dir).is_empty(),
        "nothing of the session reaches the disk, sealed or not"
    );
}

#[tokio::test]
async fn the_shell_can_spawn_every_async_call() {
    fn assert_send<T: Send>(_: &T) {}
    let rig = rig().await;
    let account = &rig.account;
    assert_send(&account.begin_login(&LoginOptions::default()));
    assert_send(&account.complete_login("x", |_| {}));
    assert_send(&account.receive_loopback_login(Language::En, |_| {}));
    assert_send(&account.restore_session());
    assert_send(&account.refresh_if_needed());
    assert_send(&account.check_session());
    assert_send(&account.logout());
    assert_send(&account.unlink());
}
