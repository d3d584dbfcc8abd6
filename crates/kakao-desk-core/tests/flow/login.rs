//! The login attempt against the real emulator: happy paths with and without
//! OIDC, PKCE, callback refusals that must send no token request, duplicate
//! callbacks, the browser, restore, loopback mode, and what a window draws.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kakao_desk_core::authorize::LOGIN_DEADLINE;
use kakao_desk_core::clock::Clock as _;
use kakao_desk_core::config::RedirectUri;
use kakao_desk_core::kakao::KakaoClient;
use kakao_desk_core::login::{KakaoLogin, LoginError, LoginSnapshot};
use kakao_desk_core::secret::{AuthorizationCode, PkceVerifier, VaultKey};
use kakao_desk_core::vault::{KeyError, KeyOrigin, KeySource};
use kakao_desk_core::{ErrorCode, Language};
use kakao_emulator::{EmulatorConfig, Fault, FaultMode, fixture_ids};

use crate::rig::*;

fn code_of<T>(result: &Result<T, LoginError>) -> Option<ErrorCode> {
    result.as_ref().err().map(LoginError::code)
}

#[tokio::test]
async fn happy_path_with_oidc_paints_early_then_completes() -> TestResult {
    let rig = Rig::new().await?;
    let (attempt, link) = rig.browser_callback().await?;
    let first_paint = Arc::new(Mutex::new(None));
    let seen = first_paint.clone();
    let login = rig.login.clone();
    let waiting = tokio::spawn(async move {
        let observed = login.clone();
        login
            .await_callback(attempt, Language::En, move || {
                *seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(observed.snapshot());
            })
            .await
    });
    rig.login.complete_login(&deep_link(&link)?)?;
    let profile = waiting.await??;

    let early = first_paint
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .ok_or("with OIDC on, the id_token gives a first paint")?;
    let LoginSnapshot::Waiting(view) = early else {
        return Err(format!("the first paint shows on the waiting screen: {early:?}").into());
    };
    let early = view
        .first_paint
        .ok_or("the waiting view carries the first paint")?;
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

    let cached = rig.login.current_profile().ok_or("the profile is cached")?;
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
    let record = rig.stored_record()?.ok_or("the session is in the vault")?;
    assert_eq!(
        record.kakao_id.to_string(),
        NINETEEN,
        "the vault holds this user's session"
    );
    assert!(record.id_token.is_some(), "the id_token is kept");
    Ok(())
}

#[tokio::test]
async fn an_app_expected_to_use_oidc_without_it_fails_the_login_clearly() -> TestResult {
    // The publisher's config says OIDC (the default) but the console has it
    // off: Kakao sends no id_token, so the nonce cannot be checked.
    let mut setup = Setup::default();
    setup.emulator.openid = false;
    let rig = Rig::with(setup).await?;
    let (attempt, link) = rig.browser_callback().await?;
    let login = rig.login.clone();
    let waiting =
        tokio::spawn(async move { login.await_callback(attempt, Language::En, || {}).await });
    rig.login.complete_login(&deep_link(&link)?)?;
    let error = waiting.await?.err().ok_or("the login must fail")?;
    assert_eq!(
        error.code(),
        ErrorCode::KakaoConfig,
        "a console that does not match the config is the publisher's to fix: {error}"
    );
    assert!(rig.stored_record()?.is_none(), "nothing sealed");
    Ok(())
}

#[tokio::test]
async fn happy_path_without_oidc_has_no_first_paint() -> TestResult {
    let mut setup = Setup::default();
    setup.emulator.openid = false;
    setup.env.push(("KAKAO_OIDC", "false".to_owned()));
    let rig = Rig::with(setup).await?;
    let (attempt, link) = rig.browser_callback().await?;
    let painted = Arc::new(Mutex::new(false));
    let flag = painted.clone();
    let login = rig.login.clone();
    let waiting = tokio::spawn(async move {
        login
            .await_callback(attempt, Language::En, move || {
                *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
            })
            .await
    });
    rig.login.complete_login(&deep_link(&link)?)?;
    let profile = waiting.await??;
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
        rig.stored_record()?.is_some_and(|r| r.id_token.is_none()),
        "session sealed without id_token"
    );
    Ok(())
}

#[tokio::test]
async fn a_login_that_asked_for_openid_does_not_go_on_without_an_id_token() -> TestResult {
    for scopes in [None, Some("openid,profile_nickname")] {
        let mut setup = Setup::default();
        if let Some(scopes) = scopes {
            setup.env.push(("KAKAO_SCOPES", scopes.to_owned()));
        }
        let rig = Rig::with(setup).await?;
        let (attempt, link) = rig.browser_callback().await?;
        rig.emulator
            .faults()
            .inject("/oauth/token", Fault::DropIdToken, FaultMode::Once);
        let outcome = rig.finish(attempt, &link).await?;
        assert_eq!(
            code_of(&outcome),
            Some(ErrorCode::KakaoConfig),
            "scopes {scopes:?}: openid was asked for or granted, so an answer without the id_token \
             (whose nonce proves the login is this one) is refused"
        );
        assert!(
            rig.requests("/v2/user/me").is_empty(),
            "no profile is read for an unproven login"
        );
        assert!(rig.stored_record()?.is_none(), "nothing is sealed");
    }
    Ok(())
}

#[tokio::test]
async fn a_window_draws_waiting_then_signed_in_then_continue_as() -> TestResult {
    let rig = Rig::new().await?;
    assert!(
        matches!(
            rig.login.snapshot(),
            LoginSnapshot::SignedOut { continue_as: None, ref accounts } if accounts.is_empty()
        ),
        "a first run offers no one to continue as"
    );
    let (attempt, link) = rig.browser_callback().await?;
    let LoginSnapshot::Waiting(view) = rig.login.snapshot() else {
        return Err("a started attempt shows the waiting screen".into());
    };
    assert_eq!(
        view.deadline,
        rig.clock.now() + LOGIN_DEADLINE,
        "the countdown ends at the attempt's deadline by the injected clock"
    );
    assert_eq!(view.first_paint, None, "nothing known before the callback");
    rig.finish(attempt, &link).await??;
    let LoginSnapshot::SignedIn {
        profile, offline, ..
    } = rig.login.snapshot()
    else {
        return Err("a completed login shows the profile".into());
    };
    assert_eq!(
        profile.map(|p| p.kakao_id.to_string()).as_deref(),
        Some(NINETEEN)
    );
    assert!(!offline, "a fresh login is online");
    rig.login.logout().await?;
    let LoginSnapshot::SignedOut {
        continue_as,
        accounts,
    } = rig.login.snapshot()
    else {
        return Err("logged out shows the login screen".into());
    };
    assert!(
        accounts.len() == 1 && !accounts[0].signed_in,
        "the switcher lists the account, signed out: {accounts:?}"
    );
    assert!(
        continue_as.is_some_and(|p| p.nickname.is_some()),
        "\"continue as <nickname>\" after a logout"
    );
    Ok(())
}

#[tokio::test]
async fn the_browser_is_opened_again_and_a_missing_browser_withdraws_the_attempt() -> TestResult {
    let rig = Rig::new().await?;
    let begun = rig.begin().await?;
    rig.login.reopen_browser()?;
    assert_eq!(rig.browser.opened(), 2, "opened again on request");
    assert_eq!(
        rig.browser.last().as_ref(),
        Some(&begun.authorize_url),
        "the same attempt's page, with the same state"
    );
    rig.login.cancel_login();
    assert_eq!(
        code_of(&rig.login.reopen_browser()),
        Some(ErrorCode::LoginTimeout),
        "nothing waits, nothing to reopen"
    );

    rig.browser.break_it();
    let failed = rig.login.begin_login(&Default::default()).await;
    assert_eq!(
        code_of(&failed),
        Some(ErrorCode::Internal),
        "no browser is the app's fault, not the user's"
    );
    assert!(
        !rig.login.login_pending()
            && matches!(rig.login.snapshot(), LoginSnapshot::SignedOut { .. }),
        "an attempt whose page never opened does not wait"
    );
    Ok(())
}

#[tokio::test]
async fn a_restart_restores_the_session_without_network() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    rig.emulator.requests().clear();
    let restarted = rig.open_login()?;
    let profile = restarted
        .restore_session()
        .await?
        .ok_or("a saved session is restored")?;
    assert_eq!(
        profile.kakao_id.to_string(),
        NINETEEN,
        "the same user is back"
    );
    assert!(restarted.is_signed_in(), "signed in after restore");
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
    Ok(())
}

#[tokio::test]
async fn an_expired_session_jwt_signs_out_but_keeps_continue_as() -> TestResult {
    let rig = Rig::new().await?;
    rig.log_in().await?;
    rig.advance(Duration::from_secs(31 * 24 * 3600));
    let restarted = rig.open_login()?;
    assert_eq!(
        code_of(&restarted.restore_session().await),
        Some(ErrorCode::SessionExpired),
        "30-day absolute lifetime"
    );
    assert!(!restarted.is_signed_in(), "not signed in");
    assert!(rig.stored_record()?.is_none(), "the vault is wiped");
    assert!(
        restarted
            .most_recent_profile()?
            .is_some_and(|c| c.profile.nickname.is_some()),
        "\"continue as <nickname>\" stays"
    );
    Ok(())
}

#[tokio::test]
async fn the_emulator_rejects_a_wrong_or_missing_pkce_verifier() -> TestResult {
    let rig = Rig::new().await?;
    let begun = rig.begin().await?;
    let location = rig.authorize(&begun.authorize_url).await?;
    let code = query(&location, "code").ok_or("a code")?;
    let client = KakaoClient::new(&rig.config, rig.client)?;
    let wrong = client
        .exchange_code(
            &AuthorizationCode::new(code),
            &PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            &rig.config.redirect_uri,
        )
        .await
        .err()
        .ok_or("a wrong verifier must be refused")?;
    assert_eq!(wrong.kakao_code(), "KOE320", "the emulator's PKCE failure");
    assert_eq!(
        wrong.code(),
        ErrorCode::SessionExpired,
        "the grant is gone: log in again"
    );

    // Missing verifier: a raw request without code_verifier.
    let begun = rig.begin().await?;
    let location = rig.authorize(&begun.authorize_url).await?;
    let response = http()?
        .post(rig.emulator.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", rig.config.client_id.as_str()),
            ("redirect_uri", rig.config.redirect_uri.as_str()),
            (
                "code",
                query(&location, "code").unwrap_or_default().as_str(),
            ),
        ])
        .send()
        .await?;
    assert_eq!(
        response.status(),
        400,
        "a challenged code needs its verifier"
    );
    Ok(())
}

#[tokio::test]
async fn state_mismatch_sends_no_token_request() -> TestResult {
    let rig = Rig::new().await?;
    let (attempt, link) = rig.browser_callback().await?;
    let state = query(&link, "state").ok_or("state")?;
    let forged = link.replace(&format!("state={state}"), "state=forged-state");
    let waiting = rig.wait(attempt);
    assert_eq!(
        code_of(&rig.login.complete_login(&deep_link(&forged)?)),
        Some(ErrorCode::StateMismatch),
        "a foreign state is refused"
    );
    assert!(
        rig.requests("/oauth/token").is_empty(),
        "no token request may follow a refused callback"
    );
    assert!(
        rig.login.login_pending(),
        "a forged link does not cancel the real login"
    );
    rig.login.complete_login(&deep_link(&link)?)?;
    waiting
        .await?
        .map_err(|e| format!("the genuine link still works: {e}"))?;
    Ok(())
}

#[tokio::test]
async fn an_expired_pending_login_sends_no_token_request() -> TestResult {
    let rig = Rig::new().await?;
    let (attempt, link) = rig.browser_callback().await?;
    rig.advance(LOGIN_DEADLINE + Duration::from_secs(1));
    let outcome = rig.finish(attempt, &link).await?;
    assert_eq!(
        code_of(&outcome),
        Some(ErrorCode::LoginTimeout),
        "past the 10-minute deadline"
    );
    assert!(
        rig.requests("/oauth/token").is_empty(),
        "an expired login never reaches the token endpoint"
    );
    assert!(!rig.login.login_pending(), "the expired login is dropped");
    Ok(())
}

#[tokio::test]
async fn a_cancelled_or_replaced_login_refuses_its_callback() -> TestResult {
    let rig = Rig::new().await?;
    let (old_attempt, old) = rig.browser_callback().await?;
    let (new_attempt, new) = rig.browser_callback().await?;
    let old_wait = rig.wait(old_attempt);
    assert_eq!(
        code_of(&rig.login.complete_login(&deep_link(&old)?)),
        Some(ErrorCode::StateMismatch),
        "one pending login: the new one replaced it"
    );
    assert!(
        old_wait.await?.is_err_and(|e| e.is_withdrawn()),
        "the replaced attempt ends quietly"
    );
    rig.login.cancel_login();
    assert_eq!(
        code_of(&rig.login.complete_login(&deep_link(&new)?)),
        Some(ErrorCode::InvalidCallback),
        "after cancel nothing is pending"
    );
    assert!(
        rig.login
            .await_callback(new_attempt, Language::En, || {})
            .await
            .is_err_and(|e| e.is_withdrawn()),
        "the cancelled attempt ends quietly"
    );
    assert!(
        rig.requests("/oauth/token").is_empty(),
        "no exchange for either"
    );
    Ok(())
}

#[tokio::test]
async fn the_same_callback_twice_concurrently_exchanges_once() -> TestResult {
    let rig = Rig::new().await?;
    let (attempt, link) = rig.browser_callback().await?;
    let link = deep_link(&link)?;
    let waiting = rig.wait(attempt);
    let login = &rig.login;
    let codes: Vec<Option<ErrorCode>> = std::thread::scope(|scope| {
        let a = scope.spawn(|| login.complete_login(&link));
        let b = scope.spawn(|| login.complete_login(&link));
        [a, b]
            .map(|handle| {
                handle
                    .join()
                    .map(|r| code_of(&r))
                    .unwrap_or(Some(ErrorCode::Internal))
            })
            .to_vec()
    });
    assert!(
        codes.contains(&None),
        "one of the two is taken by the attempt: {codes:?}"
    );
    assert!(
        codes.contains(&Some(ErrorCode::InvalidCallback)),
        "the duplicate finds nothing: {codes:?}"
    );
    waiting.await??;
    assert_eq!(
        rig.grants("authorization_code").len(),
        1,
        "exactly one token exchange"
    );
    assert_eq!(
        code_of(&rig.login.complete_login(&link)),
        Some(ErrorCode::InvalidCallback),
        "a later replay finds nothing too"
    );
    assert_eq!(
        rig.grants("authorization_code").len(),
        1,
        "and sends nothing"
    );
    Ok(())
}

#[tokio::test]
async fn access_denied_is_a_cancel() -> TestResult {
    let rig = Rig::new().await?;
    let begun = rig.begin().await?;
    let state = query(begun.authorize_url.as_str(), "state").ok_or("state")?;
    let link = link_for(
        &state,
        "error=access_denied&error_description=User%20denied%20access",
    );
    let outcome = rig.finish(begun.attempt, &link).await?;
    assert_eq!(
        code_of(&outcome),
        Some(ErrorCode::LoginCancelled),
        "Kakao's cancel is the user's cancel"
    );
    assert!(
        outcome.is_err_and(|e| !e.is_withdrawn()),
        "and is reported, unlike the app's own cancel"
    );
    assert!(
        rig.requests("/oauth/token").is_empty(),
        "nothing to exchange"
    );
    Ok(())
}

#[tokio::test]
async fn koe006_unregistered_redirect_never_comes_back() -> TestResult {
    let mut setup = Setup::default();
    setup.env.push((
        "KAKAO_REDIRECT_URI",
        "http://127.0.0.1:9/not/registered".to_owned(),
    ));
    let rig = Rig::with(setup).await?;
    let begun = rig.begin().await?;
    let response = http()?.get(begun.authorize_url.as_str()).send().await?;
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
    Ok(())
}

#[tokio::test]
async fn loopback_mode_receives_the_redirect_and_answers_the_browser() -> TestResult {
    let port = free_port().await?;
    let (setup, redirect) = Setup::loopback(port);
    let rig = Rig::with(setup).await?;
    assert_eq!(rig.config.redirect_uri, RedirectUri::parse(&redirect)?);
    let begun = rig.begin().await?;
    let location = rig.authorize(&begun.authorize_url).await?;
    assert!(
        location.starts_with(&redirect),
        "Kakao redirects to the loopback receiver"
    );
    let login = rig.login.clone();
    let waiting = tokio::spawn(async move {
        login
            .await_callback(begun.attempt, Language::Ko, || {})
            .await
    });
    // The browser, redirected: a favicon request first, then the callback.
    let favicon = http()?
        .get(format!("http://127.0.0.1:{port}/favicon.ico"))
        .send()
        .await;
    assert_eq!(
        favicon.map(|r| r.status().as_u16()).ok(),
        Some(404),
        "other paths are not callbacks"
    );
    let page = http()?.get(&location).send().await?;
    assert_eq!(page.status(), 200, "the genuine callback is accepted");
    let text = page.text().await.unwrap_or_default();
    assert!(
        text.contains("탭을 닫고"),
        "the page is in the user's language: {text}"
    );
    let profile = waiting.await??;
    assert_eq!(profile.kakao_id.to_string(), NINETEEN);
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "the receiver stops listening once the login is over"
    );
    Ok(())
}

#[tokio::test]
async fn a_taken_loopback_port_is_its_own_error_naming_the_port() -> TestResult {
    let port = free_port().await?;
    let (setup, _) = Setup::loopback(port);
    let rig = Rig::with(setup).await?;
    // Another program holds the registered port.
    let holder = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let error = match rig.login.begin_login(&Default::default()).await {
        Err(error) => error,
        Ok(_) => return Err("a login began on a port another program holds".into()),
    };
    assert_eq!(error.code(), ErrorCode::PortUnavailable, "{error}");
    assert_eq!(error.port(), Some(port));
    for lang in [Language::Ko, Language::En] {
        let message = error.message(lang);
        assert!(
            message.contains(&port.to_string()),
            "{lang:?}: the message names the port: {message}"
        );
    }
    assert_eq!(
        rig.browser.opened(),
        0,
        "no browser opens for a login that cannot finish"
    );
    assert!(!rig.login.login_pending(), "no attempt is left waiting");

    // Once the other program lets go, the next login listens there.
    drop(holder);
    let begun = rig.begin().await?;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok(),
        "listening once the port is free"
    );
    rig.login.cancel_login();
    drop(begun);
    Ok(())
}

#[tokio::test]
async fn loopback_cancel_closes_the_receiver() -> TestResult {
    let port = free_port().await?;
    let (setup, _) = Setup::loopback(port);
    let rig = Rig::with(setup).await?;
    let begun = rig.begin().await?;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok(),
        "listening while pending"
    );
    let waiting = rig.wait(begun.attempt);
    tokio::task::yield_now().await;
    rig.login.cancel_login();
    assert_eq!(
        code_of(&waiting.await?),
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
    let begun = rig.begin().await?;
    rig.login.cancel_login();
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "alive only while pending"
    );
    let late = rig
        .login
        .await_callback(begun.attempt, Language::En, || {})
        .await;
    assert_eq!(
        code_of(&late),
        Some(ErrorCode::LoginCancelled),
        "a wait after cancel ends at once"
    );
    Ok(())
}

#[tokio::test]
async fn a_deep_link_while_loopback_waits_is_refused_and_the_wait_goes_on() -> TestResult {
    let port = free_port().await?;
    let (setup, _) = Setup::loopback(port);
    let rig = Rig::with(setup).await?;
    let begun = rig.begin().await?;
    let location = rig.authorize(&begun.authorize_url).await?;
    let waiting = rig.wait(begun.attempt);
    assert_eq!(
        code_of(
            &rig.login
                .complete_login(&deep_link(&bridge_link(&location))?)
        ),
        Some(ErrorCode::InvalidCallback),
        "the right state on the wrong channel is refused"
    );
    http()?.get(&location).send().await?;
    waiting
        .await?
        .map_err(|e| format!("the loopback callback still completes the login: {e}"))?;
    Ok(())
}

#[tokio::test]
async fn every_fixture_user_logs_in() -> TestResult {
    for id in kakao_emulator::Users::default_fixtures().ids() {
        let rig = Rig::with(Setup {
            emulator: EmulatorConfig {
                auto_consent: Some(id),
                ..Setup::default().emulator
            },
            ..Setup::default()
        })
        .await?;
        let profile = rig.log_in().await?;
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
    Ok(())
}

/// A key source on a machine without a keychain.
#[derive(Debug)]
struct NoKeychain;

impl KeySource for NoKeychain {
    fn load_or_create(&self) -> Result<(VaultKey, KeyOrigin), KeyError> {
        Err(KeyError::KeychainUnavailable("no Secret Service".into()))
    }
}

#[tokio::test]
async fn without_a_keychain_the_session_lives_in_memory_only() -> TestResult {
    let rig = Rig::new().await?;
    let login = rig.open_login_with(Box::new(NoKeychain))?;
    assert_eq!(
        login.keychain_problem(),
        Some(ErrorCode::KeychainUnavailable),
        "the shell must say so"
    );
    let begun = rig.begin_on(&login).await?;
    let location = rig.authorize(&begun.authorize_url).await?;
    login.complete_login(&deep_link(&bridge_link(&location))?)?;
    login
        .await_callback(begun.attempt, Language::En, || {})
        .await?;
    assert!(login.is_signed_in(), "signed in for this run");
    assert!(
        files_under(&rig.vault_dir())?.is_empty(),
        "nothing of the session reaches the disk, sealed or not"
    );
    Ok(())
}

#[tokio::test]
async fn the_shell_can_spawn_every_async_call() -> TestResult {
    fn assert_send<T: Send>(_: &T) {}
    let rig = Rig::new().await?;
    let login: &KakaoLogin = &rig.login;
    let attempt = login.begin_login(&Default::default()).await?;
    assert_send(&login.begin_login(&Default::default()));
    assert_send(&login.await_callback(attempt, Language::En, || {}));
    assert_send(&login.restore_session());
    assert_send(&login.refresh_if_needed());
    assert_send(&login.check_session());
    assert_send(&login.verify_session());
    assert_send(&login.logout());
    assert_send(&login.unlink());
    Ok(())
}

/// Paths of the requests so far, oldest answer first.
fn answered(rig: &Rig) -> Vec<String> {
    rig.emulator
        .requests()
        .all()
        .into_iter()
        .map(|r| r.path)
        .collect()
}

#[tokio::test]
async fn discovery_and_keys_are_fetched_while_the_user_is_in_the_browser() -> TestResult {
    let rig = Rig::new().await?;
    let begun = rig.begin().await?;
    let waiting = rig.wait(begun.attempt);
    // The user reads Kakao's page; meanwhile the app gets what it needs to
    // verify the id_token.
    for _ in 0..250 {
        if !rig.requests("/.well-known/jwks.json").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        rig.requests("/.well-known/jwks.json").len(),
        1,
        "the keys were fetched before any link: {:?}",
        answered(&rig)
    );
    let location = rig.authorize(&begun.authorize_url).await?;
    rig.login
        .complete_login(&deep_link(&bridge_link(&location))?)?;
    waiting.await??;
    let paths = answered(&rig);
    let token = paths
        .iter()
        .position(|p| p == "/oauth/token")
        .ok_or("a token request")?;
    assert!(
        paths[token..]
            .iter()
            .all(|p| p != "/.well-known/openid-configuration" && p != "/.well-known/jwks.json"),
        "after the link only the token exchange stands before the first paint: {paths:?}"
    );
    Ok(())
}

#[tokio::test]
async fn the_profile_and_its_picture_are_fetched_at_once() -> TestResult {
    let mut setup = Setup::default();
    setup.emulator.hang_for = Duration::from_millis(1500);
    let rig = Rig::with(setup).await?;
    let (attempt, link) = rig.browser_callback().await?;
    // /v2/user/me answers late; the picture the id_token names does not
    // wait for it.
    rig.emulator
        .faults()
        .inject("/v2/user/me", Fault::Hang, FaultMode::Once);
    let profile = rig.finish(attempt, &link).await??;
    assert!(
        profile.thumbnail_data_url.is_some(),
        "the picture is cached"
    );
    let paths = answered(&rig);
    let me = paths
        .iter()
        .position(|p| p == "/v2/user/me")
        .ok_or("a profile request")?;
    let images: Vec<usize> = paths
        .iter()
        .enumerate()
        .filter(|(_, p)| p.starts_with("/images/"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(images.len(), 1, "one picture download: {paths:?}");
    assert!(
        images[0] < me,
        "the picture was answered while /v2/user/me was still out: {paths:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_link_that_comes_before_the_keys_are_fetched_completes_the_login() -> TestResult {
    let mut setup = Setup::default();
    setup.emulator.hang_for = Duration::from_millis(800);
    let rig = Rig::with(setup).await?;
    // Discovery is slow: the link arrives while it is still being fetched
    // ahead of the login.
    rig.emulator.faults().inject(
        "/.well-known/openid-configuration",
        Fault::Hang,
        FaultMode::Once,
    );
    let begun = rig.begin().await?;
    let waiting = rig.wait(begun.attempt);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let location = rig.authorize(&begun.authorize_url).await?;
    rig.login
        .complete_login(&deep_link(&bridge_link(&location))?)?;
    let profile = tokio::time::timeout(Duration::from_secs(20), waiting)
        .await
        .map_err(
            |_| "the login never completed: the dropped prefetch must release the key cache",
        )???;
    assert_eq!(profile.kakao_id.to_string(), NINETEEN);
    Ok(())
}
