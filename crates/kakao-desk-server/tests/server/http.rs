//! The HTTP surface: access tokens and their keys (rotation signs nobody
//! out), limits, error shapes, health.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kakao_desk_core::clock::ManualClock;
use kakao_desk_server::seal::{Purpose, SealingKey};
use kakao_emulator::fixture_ids::SOLAR_BIRTHDAY_WITH_YEAR;
use reqwest::Method;

use crate::rig::{Backend, Rig, Setup, both, code, text};

fn header_kid(token: &str) -> String {
    let header = token.split('.').next().unwrap_or_default();
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap_or_default())
            .unwrap_or_default();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    header["kid"].as_str().unwrap_or_default().to_owned()
}

async fn published_kids(rig: &Rig) -> crate::rig::TestResult<Vec<String>> {
    let jwks: serde_json::Value = rig
        .http
        .get(rig.url("/.well-known/jwks.json"))
        .send()
        .await?
        .json()
        .await?;
    Ok(jwks["keys"]
        .as_array()
        .ok_or("keys")?
        .iter()
        .map(|k| {
            assert_eq!(
                (k["kty"].as_str(), k["crv"].as_str()),
                (Some("OKP"), Some("Ed25519"))
            );
            k["kid"].as_str().unwrap_or_default().to_owned()
        })
        .collect())
}

both!(
    access_tokens_expire_and_forgeries_are_refused,
    |backend: Backend| async move {
        let mut setup = Setup::new(backend);
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        setup.clock = Some(clock.clone());
        let rig = Rig::with(setup).await?;
        let login = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        let access = text(&login, "access_token").to_owned();
        assert_eq!(login["expires_in"], 600);
        assert_eq!(published_kids(&rig).await?, vec![header_kid(&access)]);

        let mut forged = access.clone().into_bytes();
        let last = forged.len() - 3;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged)?;
        for token in [forged.as_str(), "", "a.b.c"] {
            let (status, body) = rig.authed(Method::GET, "/v1/me", token).await?;
            assert_eq!(
                (status, code(&body)),
                (401, "unauthorized"),
                "{token:?}: {body}"
            );
        }
        let response = rig.http.get(rig.url("/v1/me")).send().await?;
        assert_eq!(response.status(), 401, "no token at all");

        clock.advance(Duration::from_secs(601));
        let (status, body) = rig.authed(Method::GET, "/v1/me", &access).await?;
        assert_eq!((status, code(&body)), (401, "token_expired"), "{body}");
        let (status, refreshed) = rig.refresh(text(&login, "refresh_token")).await?;
        assert_eq!(
            status, 200,
            "an expired access token is what refresh is for: {refreshed}"
        );
        rig.stop().await;
        Ok(())
    }
);

both!(
    a_key_rotation_signs_nobody_out,
    |backend: Backend| async move {
        let mut setup = Setup::new(backend);
        let clock = Arc::new(ManualClock::new(SystemTime::now()));
        setup.clock = Some(clock.clone());
        let rig = Rig::with(setup).await?;
        let login = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        let old_access = text(&login, "access_token").to_owned();
        let old_kid = header_kid(&old_access);

        // `kakao-desk-server rotate-signing-key`, as another instance would run it.
        let key_file = rig.settings.sealing_key_file.clone().ok_or("key file")?;
        let sealer = SealingKey::read(&key_file)?.sealer(Purpose::SigningKeys);
        let now = kakao_desk_core::clock::Clock::unix_now(clock.as_ref());
        let new_kid =
            kakao_desk_server::tokens::rotate(&rig.server.state().store, &sealer, now).await?;
        assert_ne!(new_kid, old_kid);
        // This instance learns of it within a minute; a reload stands for that.
        rig.server.state().signer.reload(now).await?;

        let (status, body) = rig.authed(Method::GET, "/v1/me", &old_access).await?;
        assert_eq!(
            status, 200,
            "a token of the retired key still works: {body}"
        );
        let (status, refreshed) = rig.refresh(text(&login, "refresh_token")).await?;
        assert_eq!(status, 200);
        let new_access = text(&refreshed, "access_token");
        assert_eq!(
            header_kid(new_access),
            new_kid,
            "new tokens use the new key"
        );
        let mut kids = published_kids(&rig).await?;
        kids.sort();
        let mut both = vec![old_kid, new_kid];
        both.sort();
        assert_eq!(kids, both, "both keys are published while old tokens live");
        let (status, _) = rig.authed(Method::GET, "/v1/me", new_access).await?;
        assert_eq!(status, 200);

        // The retired key stays while a token it signed may live: the
        // access lifetime (600 s) plus two reload periods and a minute.
        let signer = &rig.server.state().signer;
        clock.advance(Duration::from_secs(600 + 120 + 50));
        signer.reload(now + 770).await?;
        assert_eq!(
            published_kids(&rig).await?.len(),
            2,
            "still within its time"
        );
        signer.reload(now + 790).await?;
        assert_eq!(
            published_kids(&rig).await?,
            vec![header_kid(new_access)],
            "then it is gone"
        );
        rig.stop().await;
        Ok(())
    }
);

both!(limits_and_error_shapes, |backend: Backend| async move {
    let mut setup = Setup::new(backend);
    setup.flags = vec![
        "--rate-limit".into(),
        "6".into(),
        "--rate-burst".into(),
        "3".into(),
    ];
    let rig = Rig::with(setup).await?;

    let huge = serde_json::json!({ "refresh_token": "x".repeat(20_000) });
    let (status, body) = rig.post("/v1/auth/refresh", &huge).await?;
    assert_eq!((status, code(&body)), (413, "payload_too_large"), "{body}");
    let response = rig
        .http
        .post(rig.url("/v1/auth/refresh"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await?;
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: serde_json::Value = response.json().await?;
    assert_eq!(code(&body), "invalid_request");
    let (status, body) = rig
        .post(
            "/v1/auth/refresh",
            &serde_json::json!({"refresh_token": "a", "extra": 1}),
        )
        .await?;
    assert_eq!(
        (status, code(&body)),
        (400, "invalid_request"),
        "unknown fields: {body}"
    );

    // The burst of 3 is spent; the auth routes now answer 429.
    let (status, body) = rig.refresh("kdr_x").await?;
    assert_eq!((status, code(&body)), (429, "rate_limited"), "{body}");
    let response = rig
        .http
        .post(rig.url("/v1/auth/kakao"))
        .json(&serde_json::json!({}))
        .send()
        .await?;
    assert_eq!(response.status(), 429);
    assert!(response.headers().get("retry-after").is_some());
    // Other routes are not limited.
    let health: serde_json::Value = rig
        .http
        .get(rig.url("/healthz"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(health["status"], "ok");
    assert_eq!(
        health["database"],
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    );
    let (status, body) = rig.authed(Method::GET, "/no/such/route", "x").await?;
    assert_eq!((status, code(&body)), (404, "not_found"));
    rig.stop().await;
    Ok(())
});
