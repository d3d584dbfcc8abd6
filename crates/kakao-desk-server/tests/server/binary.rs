//! The `kakao-desk-server` binary itself: one command with an embedded
//! SQLite file, `--help`, a clean stop on SIGTERM, and nothing secret in
//! its log or its database files.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};
use std::time::Duration;

use kakao_emulator::fixture_ids::SOLAR_BIRTHDAY_WITH_YEAR;
use reqwest::Method;

use crate::rig::{CLIENT_SECRET, TestResult, grant_from, http, text};

const BINARY: &str = env!("CARGO_BIN_EXE_kakao-desk-server");

#[test]
fn help_documents_every_setting() -> TestResult {
    let output = Command::new(BINARY).arg("--help").output()?;
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout)?;
    let source = include_str!("../../src/config.rs");
    let mut count = 0;
    for name in source
        .split("env = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
    {
        count += 1;
        assert!(help.contains(name), "--help names {name}");
    }
    assert!(count >= 20, "found the settings ({count})");
    assert!(help.contains("rotate-signing-key") && help.contains("migrate"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_command_serves_stops_cleanly_and_keeps_secrets_out_of_logs_and_files() -> TestResult {
    let emulator = kakao_emulator::start(kakao_emulator::EmulatorConfig {
        client_secret: Some(CLIENT_SECRET.to_owned()),
        ..Default::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let settings = dir.path().join("server.env");
    std::fs::write(
        &settings,
        format!(
            "KDS_KAKAO_CLIENT_ID={}\nKDS_KAKAO_CLIENT_SECRET={CLIENT_SECRET}\nKDS_KAKAO_AUTH_URL={base}\nKDS_KAKAO_API_URL={base}\nKDS_LISTEN=127.0.0.1:0\n",
            emulator.client_id(),
            base = emulator.base_url()
        ),
    )?;
    let mut child = Command::new(BINARY)
        .current_dir(dir.path())
        .args(["--config", "server.env"])
        .env("RUST_LOG", "debug")
        .env_remove("KDS_KAKAO_CLIENT_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or("stdout")?);
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("the ready line, not {line:?}"))?
        .to_owned();

    // The app's part, against the real binary.
    let rig_http = http();
    let grant = grant_from(&rig_http, &emulator, SOLAR_BIRTHDAY_WITH_YEAR)
        .await?
        .body();
    let login: serde_json::Value = rig_http
        .post(format!("{base}/v1/auth/kakao"))
        .json(&grant)
        .send()
        .await?
        .json()
        .await?;
    let refreshed: serde_json::Value = rig_http
        .post(format!("{base}/v1/auth/refresh"))
        .json(&serde_json::json!({"refresh_token": text(&login, "refresh_token")}))
        .send()
        .await?
        .json()
        .await?;
    let access = text(&refreshed, "access_token");
    emulator.expire_access_tokens();
    let me = rig_http
        .request(Method::GET, format!("{base}/v1/me"))
        .bearer_auth(access)
        .send()
        .await?;
    assert_eq!(me.status(), 200, "a Kakao refresh on the server too");
    let out = rig_http
        .post(format!("{base}/v1/auth/logout"))
        .bearer_auth(access)
        .send()
        .await?;
    assert_eq!(out.status(), 200);

    // SIGTERM: a clean, successful stop.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    assert!(killed.success());
    let mut waited = None;
    for _ in 0..100 {
        if let Some(status) = child.try_wait()? {
            waited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = waited.ok_or("the server stops within 5 s of SIGTERM")?;
    assert!(status.success(), "{status:?}");
    let mut log = String::new();
    child
        .stderr
        .take()
        .ok_or("stderr")?
        .read_to_string(&mut log)?;
    assert!(
        log.contains("signed in with Kakao"),
        "the log is there: {log}"
    );
    assert!(log.contains("shutting down"));

    // Nothing secret in the log, the database, its WAL, or the key file's
    // neighbours: every token Kakao issued, the service's tokens, the
    // client secret and the verifier.
    let mut secrets = emulator.issued_secrets();
    secrets.extend(
        [
            text(&login, "access_token"),
            text(&login, "refresh_token"),
            text(&refreshed, "refresh_token"),
            access,
            CLIENT_SECRET,
            grant["code_verifier"].as_str().unwrap_or_default(),
        ]
        .map(str::to_owned),
    );
    assert!(secrets.len() >= 8, "{}", secrets.len());
    let mut places = vec![("log".to_owned(), log.into_bytes())];
    for entry in std::fs::read_dir(dir.path())? {
        let path = entry?.path();
        if path.file_name().is_some_and(|n| n != "server.env") {
            places.push((path.display().to_string(), std::fs::read(&path)?));
        }
    }
    assert!(
        places.len() >= 3,
        "the log, the database and its key: {}",
        places.len()
    );
    for (place, bytes) in &places {
        for secret in &secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a secret ({}…) is in {place}",
                &secret[..secret.len().min(6)]
            );
        }
    }
    emulator.shutdown().await;
    Ok(())
}
