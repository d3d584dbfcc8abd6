//! The vault key in a **real** OS keychain (Linux Secret Service).
//!
//! Each case runs the keychain code in a child process (this test binary,
//! re-executed to run only the `#[ignore]`d child step), with `HOME` and
//! `XDG_*` in a fresh temporary directory, so the user's own keyring is never
//! touched. The sessions with a bus come from `scripts/desktop-session.sh`,
//! the headless desktop every test shares:
//!
//! - with an unlocked gnome-keyring on the session's private bus, a first
//!   process creates the key and seals a value; later processes find the
//!   same key (they open that value) and report it as existing, so nothing
//!   was overwritten; the same keyring left locked is "unavailable", and the
//!   key is still there once it is unlocked again;
//! - with a bus address that leads nowhere, with no bus address at all, and
//!   with a bus that has no Secret Service (`--no-keyring`), the key source
//!   answers `keychain_unavailable` and no file is written anywhere in the
//!   child's home.
//!
//! If `dbus-daemon` or `gnome-keyring-daemon` is missing, the cases that need
//! them print why and pass without running.

#![cfg(target_os = "linux")]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kakao_desk_core::ErrorCode;
use kakao_desk_core::vault::{
    FileVaultStorage, KEYCHAIN_ACCOUNT, KeyError, KeyOrigin, KeySource, KeychainKeySource, Vault,
};

const APP: &str = "dev.kakaodesk.test.keychain";
const APP_MALFORMED: &str = "dev.kakaodesk.test.keychain.malformed";
const STEP: &str = "KAKAO_DESK_KEYCHAIN_STEP";
const VAULT_DIR: &str = "KAKAO_DESK_KEYCHAIN_VAULT_DIR";
const SEALED: &[u8] = b"sealed by the first process";

/// The child: one step of a scenario, chosen by the environment.
#[test]
#[ignore = "child process of the keychain tests; not a test on its own"]
fn keychain_child_step() {
    let Ok(step) = std::env::var(STEP) else {
        return;
    };
    let source = KeychainKeySource::for_app(APP);
    match step.as_str() {
        "create" => {
            let (key, origin) = source
                .load_or_create()
                .expect("the keychain must work here");
            assert_eq!(
                origin,
                KeyOrigin::Created,
                "a fresh keyring holds no key yet"
            );
            let vault = Vault::new(APP, key, Box::new(storage()));
            vault.save(SEALED).expect("seal with the new key");
            println!("STEP-OK create");
        }
        "reuse" => {
            let (key, origin) = source
                .load_or_create()
                .expect("the keychain must work here");
            assert_eq!(
                origin,
                KeyOrigin::Existing,
                "the key stored by the first process must be found, not replaced"
            );
            let vault = Vault::new(APP, key, Box::new(storage()));
            let opened = vault
                .load()
                .expect("the second process's key must open the first one's vault")
                .expect("the sealed value");
            assert_eq!(
                &opened[..],
                SEALED,
                "identical key, read back by another process"
            );
            println!("STEP-OK reuse");
        }
        "malformed" => {
            // Something else stored a non-key under our name: it must be
            // reported and left alone, never replaced by a fresh key.
            let entry = keyring::Entry::new(APP_MALFORMED, KEYCHAIN_ACCOUNT).expect("entry");
            entry.set_secret(b"short").expect("store a non-key");
            let error = KeychainKeySource::for_app(APP_MALFORMED)
                .load_or_create()
                .expect_err("a 5-byte secret is not a vault key");
            assert!(matches!(error, KeyError::KeychainKeyMalformed), "{error:?}");
            assert_eq!(error.code(), ErrorCode::KeychainUnavailable);
            assert_eq!(
                entry.get_secret().expect("still there"),
                b"short",
                "the existing entry must not be overwritten"
            );
            println!("STEP-OK malformed");
        }
        "unavailable" => {
            let error = source
                .load_or_create()
                .expect_err("there is no keychain in this environment");
            assert_eq!(
                error.code(),
                ErrorCode::KeychainUnavailable,
                "the app must learn that the keychain is unavailable: {error}"
            );
            println!("STEP-OK unavailable");
        }
        other => panic!("unknown step {other}"),
    }
}

fn storage() -> FileVaultStorage {
    FileVaultStorage::new(std::env::var(VAULT_DIR).expect("vault dir for the child"))
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// A private home for a child: `HOME`, `XDG_DATA_HOME`, `XDG_CONFIG_HOME`,
/// `XDG_CACHE_HOME`, `XDG_RUNTIME_DIR` all inside `root`, and no display, so
/// nothing can reach the user's own session or pop up a prompt.
fn private_env(command: &mut Command, root: &Path) {
    let home = root.join("home");
    let runtime = root.join("runtime");
    for dir in [&home, &runtime] {
        fs::create_dir_all(dir).expect("child dirs");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&runtime, fs::Permissions::from_mode(0o700)).expect("runtime mode");
    }
    command
        .env("HOME", &home)
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_RUNTIME_DIR", &runtime)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
}

fn assert_ok(output: &Output, marker: &str, why: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(marker),
        "{why}\nstatus: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
}

/// The child step's test name, as this binary knows it.
const CHILD: &str = "keychain::keychain_child_step";

/// `scripts/desktop-session.sh`: the headless desktop of the repository.
fn desktop_session() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/desktop-session.sh")
}

#[test]
fn the_key_lives_in_a_real_secret_service_and_is_never_replaced() {
    let (Some(_), Some(_)) = (
        find_in_path("dbus-daemon"),
        find_in_path("gnome-keyring-daemon"),
    ) else {
        println!(
            "SKIPPED: dbus-daemon or gnome-keyring-daemon is not installed \
             (apt-get install dbus gnome-keyring); the real-keychain test did not run"
        );
        return;
    };
    let temp = tempfile::tempdir().expect("temp dir");
    // One private bus and one unlocked keyring (password "pw", a throwaway
    // login keyring in the temporary home) for all four processes.
    let script = r#"
        KAKAO_DESK_KEYCHAIN_STEP=create "$0" "$@" || exit 1
        KAKAO_DESK_KEYCHAIN_STEP=reuse "$0" "$@" || exit 1
        KAKAO_DESK_KEYCHAIN_STEP=reuse "$0" "$@" || exit 1
        KAKAO_DESK_KEYCHAIN_STEP=malformed "$0" "$@"
    "#;
    let output = keyring_session(script, "pw", temp.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_ok(
        &output,
        "STEP-OK create",
        "a first process must create and store the key in the Secret Service",
    );
    assert_eq!(
        stdout.matches("STEP-OK reuse").count(),
        2,
        "later processes must find the same key, twice, never replacing it\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("STEP-OK malformed"),
        "a malformed entry must be reported and left alone\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let keyrings = super::files_under(&temp.path().join("home/.local/share/keyrings"));
    assert!(
        !keyrings.is_empty(),
        "the key went to gnome-keyring's own (encrypted) store in the private home"
    );

    // The same keyring, now left locked (unlocked with the wrong password,
    // and no display for a prompt): the key cannot be read, and that must
    // not be taken for "no key" and answered with a new one.
    let locked = r#"KAKAO_DESK_KEYCHAIN_STEP=unavailable "$0" "$@""#;
    let output = keyring_session(locked, "wrong", temp.path());
    assert_ok(
        &output,
        "STEP-OK unavailable",
        "a locked keyring → keychain_unavailable",
    );
    // Unlocked properly again: the original key is still there.
    let again = r#"KAKAO_DESK_KEYCHAIN_STEP=reuse "$0" "$@""#;
    let output = keyring_session(again, "pw", temp.path());
    assert_ok(
        &output,
        "STEP-OK reuse",
        "after a locked start the original key must still open the vault: nothing was replaced",
    );
}

/// Runs `script` (with the test binary as `$0` and the child arguments as
/// `$@`) in a headless desktop session without a display, whose home is
/// `root/home` and whose keyring is unlocked with `password`.
fn keyring_session(script: &str, password: &str, root: &Path) -> Output {
    let exe = std::env::current_exe().expect("test binary");
    Command::new(desktop_session())
        .args(["--no-display", "--keyring-password", password, "--home"])
        .arg(root.join("home"))
        .args(["--", "sh", "-c", script])
        .arg(exe)
        .args(super::child_test(CHILD))
        .env(VAULT_DIR, root.join("vault"))
        .output()
        .expect("run scripts/desktop-session.sh")
}

#[test]
fn no_keychain_is_keychain_unavailable_and_nothing_is_written() {
    let temp = tempfile::tempdir().expect("temp dir");
    let exe = std::env::current_exe().expect("test binary");

    // 1. A session bus address that leads nowhere.
    let nowhere = temp.path().join("nowhere");
    let mut command = Command::new(&exe);
    command
        .args(super::child_test(CHILD))
        .env(STEP, "unavailable");
    private_env(&mut command, &nowhere);
    command.env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", nowhere.join("no-such-bus").display()),
    );
    let output = command.output().expect("run the child");
    assert_ok(
        &output,
        "STEP-OK unavailable",
        "no bus → keychain_unavailable",
    );
    assert_eq!(
        super::files_under(&nowhere),
        Vec::<PathBuf>::new(),
        "no key, plaintext or otherwise, may be written when the keychain is missing"
    );

    // 2. No bus address at all, but a display: libdbus would autolaunch a
    //    bus (and a locked keyring daemon that lingers); the key source must
    //    say "unavailable" before trying.
    let no_address = temp.path().join("no-address");
    let mut command = Command::new(&exe);
    command
        .args(super::child_test(CHILD))
        .env(STEP, "unavailable");
    private_env(&mut command, &no_address);
    command.env("DISPLAY", ":97");
    let output = command.output().expect("run the child");
    assert_ok(
        &output,
        "STEP-OK unavailable",
        "no bus address → keychain_unavailable",
    );
    assert_eq!(
        super::files_under(&no_address),
        Vec::<PathBuf>::new(),
        "nothing may be written when the keychain is missing"
    );

    // 3. A real bus that has no Secret Service and cannot start one.
    if find_in_path("dbus-daemon").is_none() {
        println!("SKIPPED (part 3): dbus-daemon is not installed");
        return;
    }
    let bare = temp.path().join("bare");
    let output = Command::new(desktop_session())
        .args(["--no-display", "--no-keyring", "--home"])
        .arg(bare.join("home"))
        .arg("--")
        .arg(&exe)
        .args(super::child_test(CHILD))
        .env(STEP, "unavailable")
        .output()
        .expect("run scripts/desktop-session.sh");
    assert_ok(
        &output,
        "STEP-OK unavailable",
        "a bus without org.freedesktop.secrets → keychain_unavailable",
    );
    assert_eq!(
        super::files_under(&bare),
        Vec::<PathBuf>::new(),
        "nothing may be written in the child's home when the keychain is missing"
    );
}
