//! The binary's command-line contract, which other tools rely on.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Stdio};

use crate::rig::*;

const BIN: &str = env!("CARGO_BIN_EXE_kakao-emulator");

/// Starts the binary and reads its ready line.
fn spawn(args: &[&str]) -> TestResult<(Child, String, BufReader<std::process::ChildStdout>)> {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("spawn {BIN}: {e}"))?;
    let stdout = child.stdout.take().ok_or("stdout is piped")?;
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| format!("read: {e}"))?;
    Ok((child, line, reader))
}

#[test]
fn help_documents_every_flag() -> TestResult {
    let output = Command::new(BIN).arg("--help").output()?;
    assert!(output.status.success(), "--help exits 0");
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--host",
        "--port",
        "--client-id",
        "--client-secret",
        "--redirect-uri",
        "--users",
        "--auto-consent",
        "--access-ttl",
        "--refresh-ttl",
        "--latency-ms",
        "--bridge-scheme",
        "--log",
        "--no-openid",
        "--consent-items",
        "--issuer",
    ] {
        assert!(help.contains(flag), "--help must document {flag}:\n{help}");
    }
    Ok(())
}

#[tokio::test]
async fn binary_prints_one_ready_line_and_serves_auto_consent() -> TestResult {
    let dir = tempfile::tempdir()?;
    let log = dir.path().join("log.jsonl");
    let users = dir.path().join("users.json");
    std::fs::write(
        &users,
        r#"[{"id":9223372036854775807,"kakao_account":{"profile_nickname_needs_agreement":false,"profile":{"nickname":"최대"}}}]"#,
    )?;
    let log_arg = log.display().to_string();
    let users_arg = users.display().to_string();
    let (mut child, line, mut rest) = spawn(&[
        "--client-id",
        "0123456789abcdef0123456789abcdef",
        "--redirect-uri",
        REDIRECT_URI,
        "--redirect-uri",
        "https://example.com/kakao/callback",
        "--users",
        &users_arg,
        "--auto-consent",
        "9223372036854775807",
        "--access-ttl",
        "7200",
        "--log",
        &log_arg,
    ])?;
    let base = line
        .strip_suffix('\n')
        .and_then(|l| l.strip_prefix("listening on "))
        .ok_or_else(|| format!("the ready line is `listening on URL`: {line:?}"))?
        .to_owned();
    let port: u16 = base
        .strip_prefix("http://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("the URL is http://127.0.0.1:PORT: {base}"))?;
    assert_ne!(port, 0, "port 0 means a real port was picked");

    let http = client()?;
    let authorize = format!(
        "{base}/oauth/authorize?client_id=0123456789abcdef0123456789abcdef&redirect_uri={}&response_type=code",
        enc(REDIRECT_URI)
    );
    let response = http.get(authorize).send().await?;
    assert_eq!(
        response.status(),
        302,
        "--auto-consent answers authorize with a redirect"
    );
    let code = query_param(&location(response.headers())?, "code").unwrap_or_default();
    let tokens: serde_json::Value = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "0123456789abcdef0123456789abcdef"),
            ("redirect_uri", REDIRECT_URI),
            ("code", &code),
        ])
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(
        tokens["expires_in"], 7199,
        "--access-ttl sets the lifetime: {tokens}"
    );
    let me = http
        .get(format!("{base}/v2/user/me"))
        .bearer_auth(str_field(&tokens, "access_token")?)
        .send()
        .await?
        .text()
        .await
        .unwrap_or_default();
    assert!(
        me.contains("\"id\":9223372036854775807"),
        "--users fixtures are served exactly, i64::MAX included: {me}"
    );

    child.kill()?;
    child.wait()?;
    let mut more = String::new();
    rest.read_to_string(&mut more)?;
    assert_eq!(
        more, "",
        "stdout carries exactly one line; diagnostics go to stderr"
    );
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        logged.lines().count(),
        3,
        "--log has one JSON line per request:\n{logged}"
    );
    assert!(!logged.contains(&code), "the log masks the code");
    Ok(())
}

#[test]
fn custom_scheme_redirect_uri_and_non_loopback_host_are_refused() -> TestResult {
    for args in [
        vec![
            "--client-id",
            "x",
            "--redirect-uri",
            "dev.kakaodesk.desktop://oauth/callback",
        ],
        vec![
            "--client-id",
            "x",
            "--redirect-uri",
            REDIRECT_URI,
            "--host",
            "0.0.0.0",
        ],
    ] {
        let output = Command::new(BIN).args(&args).output()?;
        assert!(!output.status.success(), "{args:?} must fail to start");
        assert!(
            output.stdout.is_empty(),
            "a failed start never prints the ready line"
        );
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("kakao-emulator:"),
            "the reason goes to stderr"
        );
    }
    Ok(())
}
