//! Fault injection, latency and the request log.

use std::time::Duration;

use crate::rig::*;
use kakao_emulator::{EmulatorConfig, Fault, FaultMode, MASK};
use serde_json::json;

#[tokio::test]
async fn server_error_once_then_normal() -> TestResult {
    let emulator = emulator().await?;
    emulator
        .faults()
        .inject("/oauth/token", Fault::ServerError, FaultMode::Once);
    let code = authorize_code(&emulator).await?;
    let (status, _, body) = exchange(&emulator, &code).await?;
    assert_eq!(
        (status, body),
        (
            500,
            json!({"error": "server_error", "error_description": "temporary server error", "error_code": "KOE003"})
        ),
        "the injected 500 has kauth's error shape"
    );
    let (status, _, _) = exchange(&emulator, &code).await?;
    assert_eq!(
        status, 200,
        "a Once fault fires once; the faulted request never reached the handler, so the code is intact"
    );
    let log = emulator.requests().to_path("/oauth/token");
    assert_eq!(
        log.iter().map(|r| (r.status, r.fault)).collect::<Vec<_>>(),
        [(500, Some(Fault::ServerError)), (200, None)],
        "the log records which answer was a fault"
    );
    Ok(())
}

#[tokio::test]
async fn kapi_faults_always_until_cleared() -> TestResult {
    let emulator = emulator().await?;
    let tokens = login(&emulator).await?;
    let access = str_field(&tokens, "access_token")?;
    emulator
        .faults()
        .inject("/v2/user/me", Fault::KapiInternalError, FaultMode::Always);
    for _ in 0..2 {
        let (status, headers, body) = kapi_get(&emulator, "/v2/user/me", access).await?;
        assert_eq!(
            (status, json(&body)?),
            (400, json!({"msg": "internal error", "code": -1})),
            "kapi -1 is HTTP 400 as documented, on every request while Always"
        );
        assert_eq!(
            content_type(&headers),
            JSON_UTF8,
            "with the usual content type"
        );
    }
    emulator
        .faults()
        .inject("/v2/user/me", Fault::ServerError, FaultMode::Once);
    let (status, _, body) = kapi_get(&emulator, "/v2/user/me", access).await?;
    assert_eq!(
        (status, json(&body)?),
        (
            503,
            json!({"msg": "service is under maintenance", "code": -9798})
        ),
        "an outage on kapi is Kakao's 503 -9798 in kapi's error shape"
    );
    emulator.faults().clear("/v2/user/me");
    let (status, _, _) = kapi_get(&emulator, "/v2/user/me", access).await?;
    assert_eq!(status, 200, "cleared faults stop");
    Ok(())
}

#[tokio::test]
async fn insufficient_scope_is_minus_402_with_the_required_scopes() -> TestResult {
    let emulator = emulator().await?;
    let tokens = login(&emulator).await?;
    let access = str_field(&tokens, "access_token")?;
    emulator
        .faults()
        .inject("/v2/user/me", Fault::InsufficientScope, FaultMode::Once);
    let (status, headers, body) = kapi_get(&emulator, "/v2/user/me", access).await?;
    assert_eq!(
        (status, json(&body)?),
        (
            403,
            json!({
                "msg": "insufficient scopes.",
                "code": -402,
                "api_type": "USER_ME",
                "required_scopes": ["account_email"],
                "allowed_scopes": ["profile_nickname", "profile_image"],
            })
        ),
        "-402 is HTTP 403 with the fields the SDKs read (docs/kakao-api.md §6)"
    );
    assert_eq!(
        content_type(&headers),
        JSON_UTF8,
        "with the usual content type"
    );
    let (status, _, _) = kapi_get(&emulator, "/v2/user/me", access).await?;
    assert_eq!(status, 200, "a Once fault fires once");
    Ok(())
}

#[tokio::test]
async fn truncated_json_is_half_a_body_with_a_matching_length() -> TestResult {
    let emulator = emulator().await?;
    emulator.faults().inject(
        "/.well-known/jwks.json",
        Fault::TruncatedJson,
        FaultMode::Once,
    );
    let response = get(emulator.url("/.well-known/jwks.json")).await?;
    assert_eq!(response.status(), 200, "truncation keeps the status");
    let length: usize = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let body = response
        .text()
        .await
        .map_err(|e| format!("the transport must still succeed: {e}"))?;
    assert_eq!(
        body.len(),
        length,
        "Content-Length matches the cut body, so only JSON parsing fails"
    );
    assert!(
        body.starts_with("{\"keys\":["),
        "it is the start of the real answer: {body}"
    );
    assert!(
        serde_json::from_str::<serde_json::Value>(&body).is_err(),
        "and it is not valid JSON"
    );
    Ok(())
}

#[tokio::test]
async fn hang_outlives_the_client_timeout_and_ends_at_shutdown() -> TestResult {
    let emulator = emulator().await?;
    emulator
        .faults()
        .inject("/oauth/token", Fault::Hang, FaultMode::Always);
    let impatient = client_builder()
        .timeout(Duration::from_millis(300))
        .build()?;
    let error = impatient
        .post(emulator.url("/oauth/token"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .err()
        .unwrap_or_else(|| {
            panic!("a hung request must not be answered within the client's timeout")
        });
    assert!(error.is_timeout(), "the client sees a timeout: {error}");
    // Shutdown must not wait the 10 minutes of the hang.
    emulator.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn latency_delays_every_answer() -> TestResult {
    let emulator = emulator().await?;
    emulator.set_latency(Duration::from_secs(600));
    let impatient = client_builder()
        .timeout(Duration::from_millis(300))
        .build()?;
    let slow = impatient
        .get(emulator.url("/.well-known/jwks.json"))
        .send()
        .await;
    assert!(
        slow.is_err_and(|e| e.is_timeout()),
        "with 10 minutes of latency nothing answers within the timeout"
    );
    emulator.set_latency(Duration::ZERO);
    let fast = impatient
        .get(emulator.url("/.well-known/jwks.json"))
        .send()
        .await;
    assert!(
        fast.is_ok_and(|r| r.status() == 200),
        "latency can be set back to zero"
    );
    Ok(())
}

#[tokio::test]
async fn log_file_has_one_masked_json_line_per_request() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("requests.jsonl");
    let emulator = start(EmulatorConfig {
        log_file: Some(path.clone()),
        ..config()
    })
    .await?;
    let code = authorize_code(&emulator).await?;
    let (_, _, tokens) = exchange(&emulator, &code).await?;
    let access = str_field(&tokens, "access_token")?.to_owned();
    kapi_get(&emulator, "/v2/user/me", &access).await?;
    let text = std::fs::read_to_string(&path)?;
    let lines: Vec<serde_json::Value> = text.lines().map(json).collect::<TestResult<_>>()?;
    assert_eq!(
        lines.len(),
        3,
        "authorize, token, user/me: one line each:\n{text}"
    );
    for secret in [
        code.as_str(),
        access.as_str(),
        VERIFIER,
        str_field(&tokens, "refresh_token")?,
    ] {
        assert!(
            !text.contains(secret),
            "no code, token or verifier may be written to the log"
        );
    }
    assert_eq!(lines[1]["path"], "/oauth/token", "lines name the path");
    assert_eq!(lines[1]["status"], 200, "and the status");
    assert!(
        lines[1]["params"]
            .as_array()
            .is_some_and(|p| p.contains(&json!(["code", MASK]))),
        "the code parameter is present but masked: {}",
        lines[1]
    );
    assert_eq!(
        lines[2]["authorization"],
        format!("Bearer {MASK}"),
        "bearer credentials are masked"
    );
    Ok(())
}
