//! Refresh tokens: each use rotates; a used one coming back ends the whole
//! session (reuse detection), also when two uses race.

use kakao_emulator::fixture_ids::SOLAR_BIRTHDAY_WITH_YEAR;
use reqwest::Method;

use crate::rig::{Backend, Rig, both, code, text};

both!(
    refresh_rotates_and_a_reused_token_ends_the_session,
    |backend: Backend| async move {
        let rig = Rig::start(backend).await?;
        let login = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        let first = text(&login, "refresh_token").to_owned();

        let (status, rotated) = rig.refresh(&first).await?;
        assert_eq!(status, 200, "{rotated}");
        let second = text(&rotated, "refresh_token").to_owned();
        assert_ne!(second, first, "a new refresh token each time");
        let access = text(&rotated, "access_token").to_owned();
        let (status, me) = rig.authed(Method::GET, "/v1/me", &access).await?;
        assert_eq!(status, 200, "the new access token works: {me}");

        // The first token again: someone kept a copy. The session ends.
        let (status, body) = rig.refresh(&first).await?;
        assert_eq!((status, code(&body)), (401, "refresh_reused"), "{body}");
        let (status, body) = rig.refresh(&second).await?;
        assert_eq!(
            (status, code(&body)),
            (401, "session_ended"),
            "the whole family is revoked, the newest token too: {body}"
        );
        let (status, body) = rig.authed(Method::GET, "/v1/me", &access).await?;
        assert_eq!((status, code(&body)), (401, "session_ended"), "{body}");

        // Another device's session is untouched.
        let other = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        let (status, _) = rig.refresh(text(&other, "refresh_token")).await?;
        assert_eq!(status, 200);
        rig.stop().await;
        Ok(())
    }
);

both!(
    two_concurrent_refreshes_with_one_token_end_the_session,
    |backend: Backend| async move {
        let rig = Rig::start(backend).await?;
        let login = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        let token = text(&login, "refresh_token").to_owned();
        let body = serde_json::json!({ "refresh_token": token });
        let answers = rig
            .post_all("/v1/auth/refresh", vec![body.clone(), body])
            .await?;
        let winners: Vec<_> = answers
            .iter()
            .filter(|(status, _)| *status == 200)
            .collect();
        let reused: Vec<_> = answers
            .iter()
            .filter(|(status, body)| *status == 401 && code(body) == "refresh_reused")
            .collect();
        assert_eq!(
            (winners.len(), reused.len()),
            (1, 1),
            "one rotation wins, the other is reuse: {answers:?}"
        );
        let (status, body) = rig.refresh(text(&winners[0].1, "refresh_token")).await?;
        assert_eq!(
            (status, code(&body)),
            (401, "session_ended"),
            "the winner's token dies with its family: {body}"
        );
        rig.stop().await;
        Ok(())
    }
);

both!(
    junk_unknown_and_expired_refresh_tokens_are_refused,
    |backend: Backend| async move {
        let mut setup = crate::rig::Setup::new(backend);
        let clock = std::sync::Arc::new(kakao_desk_core::clock::ManualClock::new(
            std::time::SystemTime::now(),
        ));
        setup.clock = Some(clock.clone());
        setup.flags.extend(["--refresh-ttl".into(), "3600".into()]);
        let rig = Rig::with(setup).await?;
        for junk in [
            "",
            "not-a-token",
            "kdr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            let (status, body) = rig.refresh(junk).await?;
            assert_eq!(
                (status, code(&body)),
                (401, "refresh_invalid"),
                "{junk:?}: {body}"
            );
        }
        let login = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        clock.advance(std::time::Duration::from_secs(3601));
        let (status, body) = rig.refresh(text(&login, "refresh_token")).await?;
        assert_eq!(
            (status, code(&body)),
            (401, "refresh_invalid"),
            "expired: {body}"
        );
        rig.stop().await;
        Ok(())
    }
);
