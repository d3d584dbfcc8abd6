//! Every way a login can fail, each with its stable code, and none leaving
//! a user or a session behind.

use kakao_desk_server::store::Store;
use kakao_emulator::fixture_ids::{EMOJI_NICKNAME, SOLAR_BIRTHDAY_WITH_YEAR};
use kakao_emulator::{Fault, FaultMode};

use crate::rig::{Backend, Rig, Setup, both, code};

both!(
    an_email_registered_through_another_provider_is_a_clear_error,
    |backend: Backend| async move {
        let rig = Rig::start(backend).await?;
        let store = &rig.server.state().store;
        // Kakao's verified email for this fixture user, registered before
        // through the service's own email sign-up.
        let existing = store
            .insert_user("email", "Solar.Park@example.com", true, 1)
            .await?;
        let grant = rig.grant(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        let (status, body) = rig.post("/v1/auth/kakao", &grant.body()).await?;
        assert_eq!((status, code(&body)), (409, "email_taken"), "{body}");
        assert_eq!(store.count_users().await?, 1, "no second account");
        assert_eq!(
            rig.kakao_calls("/v1/user/logout", 200),
            1,
            "the refused login's Kakao tokens are ended at Kakao"
        );
        assert!(
            store
                .user_by_kakao_id(SOLAR_BIRTHDAY_WITH_YEAR)
                .await?
                .is_none()
        );
        assert_eq!(
            store.user(existing).await?.and_then(|u| u.kakao_id),
            None,
            "and the existing account is not taken over"
        );
        // An unverified email claims nothing: this user's is unverified.
        store
            .insert_user("email", "ryan.unverified@example.com", true, 1)
            .await?;
        rig.login(EMOJI_NICKNAME).await?;
        assert_eq!(store.count_users().await?, 3);
        rig.stop().await;
        Ok(())
    }
);

both!(
    a_replayed_forged_or_mismatched_code_is_refused,
    |backend: Backend| async move {
        let rig = Rig::start(backend).await?;
        let grant = rig.grant(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        let (status, _) = rig.post("/v1/auth/kakao", &grant.body()).await?;
        assert_eq!(status, 200);
        let (status, body) = rig.post("/v1/auth/kakao", &grant.body()).await?;
        assert_eq!(
            (status, code(&body)),
            (400, "code_rejected"),
            "replayed: {body}"
        );

        let mut forged = rig.grant(SOLAR_BIRTHDAY_WITH_YEAR).await?.body();
        forged["code"] = "forged-code-0000000000".into();
        let (status, body) = rig.post("/v1/auth/kakao", &forged).await?;
        assert_eq!(
            (status, code(&body)),
            (400, "code_rejected"),
            "forged: {body}"
        );

        let mut stolen = rig.grant(SOLAR_BIRTHDAY_WITH_YEAR).await?.body();
        stolen["code_verifier"] = "x".repeat(43).into();
        let (status, body) = rig.post("/v1/auth/kakao", &stolen).await?;
        assert_eq!(
            (status, code(&body)),
            (400, "code_rejected"),
            "a code without its PKCE verifier is useless: {body}"
        );

        let mut replayed_nonce = rig.grant(SOLAR_BIRTHDAY_WITH_YEAR).await?.body();
        replayed_nonce["nonce"] = "another-login".into();
        let (status, body) = rig.post("/v1/auth/kakao", &replayed_nonce).await?;
        assert_eq!((status, code(&body)), (400, "nonce_mismatch"), "{body}");

        for (field, value) in [
            ("code_verifier", "short"),
            ("nonce", ""),
            ("code", "has spaces in it"),
            ("redirect_uri", "not a uri"),
        ] {
            let mut body = rig.grant(SOLAR_BIRTHDAY_WITH_YEAR).await?.body();
            body[field] = value.into();
            let (status, answer) = rig.post("/v1/auth/kakao", &body).await?;
            assert_eq!(
                (status, code(&answer)),
                (400, "invalid_request"),
                "{field}: {answer}"
            );
        }
        assert_eq!(rig.server.state().store.count_users().await?, 1);
        rig.stop().await;
        Ok(())
    }
);

both!(
    a_malformed_kakao_answer_is_kakao_bad_answer,
    |backend: Backend| async move {
        let rig = Rig::start(backend).await?;
        for path in ["/oauth/token", "/v2/user/me"] {
            rig.emulator
                .faults()
                .inject(path, Fault::TruncatedJson, FaultMode::Always);
            let grant = rig.grant(SOLAR_BIRTHDAY_WITH_YEAR).await?;
            let (status, body) = rig.post("/v1/auth/kakao", &grant.body()).await?;
            assert_eq!(
                (status, code(&body)),
                (502, "kakao_bad_answer"),
                "{path}: {body}"
            );
            rig.emulator.faults().clear_all();
        }
        let grant = rig.grant(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        rig.emulator
            .faults()
            .inject("/oauth/token", Fault::DropIdToken, FaultMode::Once);
        let (status, body) = rig.post("/v1/auth/kakao", &grant.body()).await?;
        assert_eq!(
            (status, code(&body)),
            (502, "kakao_config"),
            "no id_token is a downgrade, refused: {body}"
        );
        assert_eq!(
            rig.server.state().store.count_users().await?,
            0,
            "nothing stored"
        );
        rig.stop().await;
        Ok(())
    }
);

both!(
    kakao_down_is_kakao_unavailable,
    |backend: Backend| async move {
        let rig = Rig::start(backend).await?;
        let grant = rig.grant(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        rig.emulator
            .faults()
            .inject("/oauth/token", Fault::ServerError, FaultMode::Always);
        let (status, body) = rig.post("/v1/auth/kakao", &grant.body()).await?;
        assert_eq!((status, code(&body)), (503, "kakao_unavailable"), "{body}");

        // Kakao gone entirely (connection refused): the emulator the server
        // talks to stops; another takes its place in the rig.
        let grant = rig.grant(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        let mut rig = rig;
        let emulator = std::mem::replace(
            &mut rig.emulator,
            kakao_emulator::start(kakao_emulator::EmulatorConfig::default()).await?,
        );
        emulator.shutdown().await;
        let (status, body) = rig.post("/v1/auth/kakao", &grant.body()).await?;
        assert_eq!((status, code(&body)), (503, "kakao_unavailable"), "{body}");
        assert_eq!(rig.server.state().store.count_users().await?, 0);
        rig.stop().await;
        Ok(())
    }
);

both!(
    only_the_configured_redirect_uris_are_accepted,
    |backend: Backend| async move {
        let mut setup = Setup::new(backend);
        setup.flags.extend([
            "--redirect-uris".into(),
            "https://app.example/kakao/callback".into(),
        ]);
        let rig = Rig::with(setup).await?;
        let grant = rig.grant(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        let (status, body) = rig.post("/v1/auth/kakao", &grant.body()).await?;
        assert_eq!(
            (status, code(&body)),
            (400, "redirect_uri_not_allowed"),
            "{body}"
        );
        assert_eq!(
            rig.kakao_calls("/oauth/token", 200),
            0,
            "Kakao was not asked"
        );
        rig.stop().await;
        Ok(())
    }
);
