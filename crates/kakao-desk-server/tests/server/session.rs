//! What a session does with Kakao: the profile (Kakao's tokens refreshed on
//! the server, once for concurrent callers), logout and deletion reaching
//! Kakao.

use kakao_desk_server::store::Store;
use kakao_emulator::fixture_ids::{LUNAR_LEAP_MONTH, SOLAR_BIRTHDAY_WITH_YEAR};
use kakao_emulator::{Fault, FaultMode};
use reqwest::Method;

use crate::rig::{Backend, Rig, both, code, text};

both!(
    logout_ends_the_session_and_reaches_kakao,
    |backend: Backend| async move {
        let rig = Rig::start(backend).await?;
        let login = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        let access = text(&login, "access_token");
        let (status, body) = rig.authed(Method::POST, "/v1/auth/logout", access).await?;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["kakao_logged_out"], true);
        assert_eq!(
            rig.kakao_calls("/v1/user/logout", 200),
            1,
            "Kakao's logout was called"
        );
        let (status, body) = rig.authed(Method::GET, "/v1/me", access).await?;
        assert_eq!((status, code(&body)), (401, "session_ended"), "{body}");
        let (status, body) = rig.refresh(text(&login, "refresh_token")).await?;
        assert_eq!((status, code(&body)), (401, "session_ended"), "{body}");
        assert_eq!(
            rig.server.state().store.count_users().await?,
            1,
            "logout keeps the account"
        );

        // Kakao down at logout: the service session still ends.
        let login = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        rig.emulator
            .faults()
            .inject("/v1/user/logout", Fault::ServerError, FaultMode::Always);
        let access = text(&login, "access_token");
        let (status, body) = rig.authed(Method::POST, "/v1/auth/logout", access).await?;
        assert_eq!(
            (status, body["kakao_logged_out"].as_bool()),
            (200, Some(false)),
            "{body}"
        );
        let (status, _) = rig.authed(Method::GET, "/v1/me", access).await?;
        assert_eq!(status, 401);
        rig.stop().await;
        Ok(())
    }
);

both!(
    delete_unlinks_at_kakao_and_removes_the_user,
    |backend: Backend| async move {
        let rig = Rig::start(backend).await?;
        let keep = rig.login(LUNAR_LEAP_MONTH).await?;
        let login = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        let other_device = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        let access = text(&login, "access_token");

        // Kakao down: nothing is deleted, so the user can try again.
        rig.emulator
            .faults()
            .inject("/v1/user/unlink", Fault::ServerError, FaultMode::Always);
        let (status, body) = rig.authed(Method::DELETE, "/v1/me", access).await?;
        assert_eq!((status, code(&body)), (503, "kakao_unavailable"), "{body}");
        assert_eq!(rig.server.state().store.count_users().await?, 2);
        rig.emulator.faults().clear_all();

        let (status, body) = rig.authed(Method::DELETE, "/v1/me", access).await?;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["deleted"], true);
        assert_eq!(
            rig.kakao_calls("/v1/user/unlink", 200),
            1,
            "Kakao's unlink was called"
        );
        let store = &rig.server.state().store;
        assert!(
            store
                .user_by_kakao_id(SOLAR_BIRTHDAY_WITH_YEAR)
                .await?
                .is_none()
        );
        assert_eq!(store.count_users().await?, 1, "only that user");
        for tokens in [&login, &other_device] {
            let (status, body) = rig.refresh(text(tokens, "refresh_token")).await?;
            assert_eq!(status, 401, "every session of the user is gone: {body}");
            let (status, _) = rig
                .authed(Method::GET, "/v1/me", text(tokens, "access_token"))
                .await?;
            assert_eq!(status, 401);
        }
        let (status, _) = rig
            .authed(Method::GET, "/v1/me", text(&keep, "access_token"))
            .await?;
        assert_eq!(status, 200, "another user's session is untouched");
        rig.stop().await;
        Ok(())
    }
);

both!(
    kakao_tokens_refresh_on_the_server_once_for_concurrent_calls,
    |backend: Backend| async move {
        let rig = Rig::start(backend).await?;
        let login = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        let access = text(&login, "access_token").to_owned();
        let (status, body) = rig.authed(Method::GET, "/v1/me", &access).await?;
        assert_eq!(
            (status, body["stale"].as_bool()),
            (200, Some(false)),
            "{body}"
        );
        assert_eq!(
            rig.kakao_refreshes(),
            0,
            "a live Kakao token needs no refresh"
        );

        // Kakao ends the access token's life: the next calls answer -401 and
        // the server refreshes, once, however many calls arrive together.
        rig.emulator.expire_access_tokens();
        let answers = rig.get_all("/v1/me", vec![access.clone(); 4]).await?;
        for (status, body) in &answers {
            assert_eq!(*status, 200, "{body}");
            assert_eq!(body["user"]["nickname"], "박양력");
        }
        assert_eq!(rig.kakao_refreshes(), 1, "single-flight refresh at Kakao");

        // Kakao's refresh answer without a refresh token (it had over a month
        // left): the old one is kept and works again later.
        rig.emulator.expire_access_tokens();
        let (status, body) = rig.authed(Method::GET, "/v1/me", &access).await?;
        assert_eq!(status, 200, "{body}");
        assert_eq!(rig.kakao_refreshes(), 2);
        rig.stop().await;
        Ok(())
    }
);

both!(
    with_kakao_down_the_profile_is_the_stored_one,
    |backend: Backend| async move {
        let rig = Rig::start(backend).await?;
        let login = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        rig.emulator
            .faults()
            .inject("/v2/user/me", Fault::ServerError, FaultMode::Always);
        let (status, body) = rig
            .authed(Method::GET, "/v1/me", text(&login, "access_token"))
            .await?;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["stale"], true);
        assert_eq!(body["user"]["nickname"], "박양력");
        rig.stop().await;
        Ok(())
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_refresh_a_session_once() -> crate::rig::TestResult {
    if !crate::rig::postgres_available() {
        return Ok(());
    }
    let rig = Rig::start(Backend::Postgres).await?;
    let other = rig.second_instance().await?;
    let login = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
    let access = text(&login, "access_token").to_owned();
    rig.emulator.expire_access_tokens();
    // Three calls to each instance at once, all needing a Kakao refresh.
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let url = if i % 2 == 0 {
                rig.url("/v1/me")
            } else {
                format!("{other}/v1/me")
            };
            let (http, access) = (rig.http.clone(), access.clone());
            tokio::spawn(async move {
                let response = http.get(url).bearer_auth(access).send().await?;
                let status = response.status().as_u16();
                let body: serde_json::Value = response.json().await?;
                Ok::<_, reqwest::Error>((status, body))
            })
        })
        .collect();
    for task in tasks {
        let (status, body) = task.await??;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["stale"], false);
    }
    assert_eq!(
        rig.kakao_refreshes(),
        1,
        "one refresh at Kakao across both instances"
    );
    let (status, _) = rig.refresh(text(&login, "refresh_token")).await?;
    assert_eq!(status, 200, "the session lives on");
    rig.stop().await;
    Ok(())
}
