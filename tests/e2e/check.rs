//! `kakao-desk --check-config`: the configuration doctor on the command
//! line, on the debug binary the other end-to-end tests run (the build
//! `cargo run` and `npx tauri dev` make), against the emulator.

use std::process::{Command, Output};

use kakao_emulator::{EmulatorConfig, RunningEmulator};

use crate::login::kakao_env;
use crate::support::{APP, app_scheme};

/// Runs the check with only `env` as Kakao settings (the runtime layer).
fn check(args: &[&str], env: &[(String, String)]) -> (i32, String) {
    let mut command = Command::new(APP);
    command.arg("--check-config").args(args);
    for variable in kakao_desk_core::config::VARIABLES {
        command.env_remove(variable);
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("the app runs");
    let text = String::from_utf8_lossy(&stdout).into_owned();
    assert!(
        stderr.is_empty() || !String::from_utf8_lossy(&stderr).contains("panicked"),
        "no panic: {}",
        String::from_utf8_lossy(&stderr)
    );
    (status.code().unwrap_or(-1), text)
}

async fn emulator() -> RunningEmulator {
    kakao_emulator::start(EmulatorConfig {
        bridge_scheme: app_scheme(),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts")
}

#[test]
fn without_a_key_the_dev_build_reports_demo_mode_and_opens_no_window() {
    // No DISPLAY is needed: the check runs before Tauri starts.
    let (status, text) = check(&["--lang", "en"], &[]);
    assert_eq!(status, 0, "demo mode is no error in a debug build:\n{text}");
    assert!(text.contains("(debug build, "), "{text}");
    assert!(text.contains("info [no_client_id]"), "{text}");
    assert!(
        text.contains("KAKAO_REDIRECT_URI") && text.contains("/kakao/callback/debug/"),
        "the debug build carries the debug bridge page from kakao.toml:\n{text}"
    );
    let (_, korean) = check(&["--lang", "ko"], &[]);
    assert!(
        korean.contains("설정 점검") && korean.contains("데모 모드"),
        "{korean}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_right_configuration_passes_and_lists_what_to_register() {
    let emulator = emulator().await;
    let env = kakao_env(&emulator, &emulator.bridge_redirect_uri(), "bridge");
    let (status, text) = check(&["--lang", "en"], &env);
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("No findings."), "{text}");
    for value in [
        emulator.client_id().to_owned(),
        emulator.bridge_redirect_uri(),
    ] {
        assert!(text.contains(&value), "{value} is listed:\n{text}");
    }
    assert!(
        !text.contains("(offline checks only)"),
        "the online checks ran:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_configuration_names_the_fix_and_fails() {
    let emulator = emulator().await;
    let unregistered = format!("{}/kakao/callback/", emulator.base_url());
    let mut env = kakao_env(&emulator, &unregistered, "bridge");
    env.push(("KAKAO_SCOPES".into(), "talk_message".into()));
    let (status, text) = check(&["--lang", "en"], &env);
    assert_eq!(status, 1, "an error fails the check:\n{text}");
    assert!(
        text.contains("error [redirect_not_registered] KOE006"),
        "{text}"
    );
    let (status, text) = check(&["--lang", "ko", "--offline"], &env);
    assert_eq!(status, 0, "offline, nothing is known to be wrong:\n{text}");
    assert!(text.contains("(오프라인 점검만 했습니다)"), "{text}");
}
