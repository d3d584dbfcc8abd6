//! Build script of the Kakao Desk app.
//!
//! The package root is the repository root (see the root `Cargo.toml`), so
//! `tauri.conf.json` is found where Tauri looks for it; only the capabilities and
//! the app's permission files live under `src-tauri/` and are pointed at here.
//!
//! Debug builds get their own identifier and deep-link scheme, merged into the
//! configuration through `TAURI_CONFIG` (the variable the Tauri CLI itself uses
//! for config overrides, read by both this build script and
//! `generate_context!()`): a developer's `tauri dev` or `cargo run` then never
//! steals links, single-instance hand-offs, data or keychain entries from an
//! installed release build.
//!
//! The publisher's Kakao settings come from `kakao.toml` at the root, with
//! the same-named `KAKAO_*` variables of the build environment taking
//! precedence (a CI job sets them from repository variables and secrets).
//! They reach the app as `KAKAO_DESK_BUILD_*` compile-time variables, read by
//! `src-tauri/src/publisher.rs`. Debug builds read `[debug]`, release builds
//! `[release]`, so each build kind has its own redirect URI (its own scheme
//! behind the bridge page). See ARCHITECTURE.md, "Publisher configuration".
//!
//! `cfg(demo_emulator)` is set for debug builds and for release builds with
//! the `demo` feature: a build without a key then runs against the bundled
//! emulator, so `cargo run` and `npx tauri dev` work on a fresh clone.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

/// Appended to the release identifier and scheme in debug builds.
const DEBUG_SUFFIX: &str = ".debug";

fn main() {
    println!("cargo:rerun-if-env-changed=PROFILE");
    // tauri-build does not watch capability and permission files found through
    // custom path patterns: without these lines an edited capability would be
    // left out of the binary until some other build input changed.
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    println!("cargo:rerun-if-changed=src-tauri/permissions");
    let debug = std::env::var("PROFILE").as_deref() == Ok("debug");
    if debug {
        apply_debug_identity();
    }
    println!("cargo::rustc-check-cfg=cfg(demo_emulator)");
    if std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some()
        || std::env::var_os("CARGO_FEATURE_DEMO").is_some()
    {
        println!("cargo:rustc-cfg=demo_emulator");
    }
    if let Err(message) = publisher_config(if debug { "debug" } else { "release" }) {
        panic!("kakao.toml: {message}");
    }

    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(
            tauri_build::AppManifest::new()
                .permissions_path_pattern("./src-tauri/permissions/**/*"),
        );
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {error:#}");
    }
}

/// Merges the debug identifier and scheme into `TAURI_CONFIG`, on top of any
/// override the Tauri CLI already passed.
fn apply_debug_identity() {
    let config: Value = serde_json::from_str(
        &std::fs::read_to_string("tauri.conf.json").expect("tauri.conf.json at the package root"),
    )
    .expect("tauri.conf.json is valid JSON");
    let identifier = config["identifier"]
        .as_str()
        .expect("tauri.conf.json has an identifier");
    let debug_id = format!("{identifier}{DEBUG_SUFFIX}");

    let mut merged: Value = std::env::var("TAURI_CONFIG")
        .ok()
        .and_then(|raw| serde_json::from_str(&raw).ok())
        .unwrap_or_else(|| json!({}));
    let overrides = json!({
        "identifier": debug_id,
        "plugins": { "deep-link": { "desktop": { "schemes": [debug_id] } } }
    });
    merge(&mut merged, overrides);
    let merged = merged.to_string();

    // SAFETY: the build script is single-threaded at this point; tauri-build
    // reads the variable from this process's environment.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("TAURI_CONFIG", &merged);
    }
    // `generate_context!()` runs inside rustc and reads the same variable.
    println!("cargo:rustc-env=TAURI_CONFIG={merged}");
}

/// JSON merge patch (RFC 7396) of `patch` into `target`.
fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(&key);
                } else {
                    merge(target.entry(key).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch,
    }
}

/// The publisher's file, `kakao.toml`. Unknown keys are refused, so a typo
/// does not silently fall back to a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublisherFile {
    client_id: Option<String>,
    scopes: Option<Vec<String>>,
    oidc: Option<bool>,
    /// Present only to refuse it with a clear message.
    client_secret: Option<toml::Value>,
    release: Option<BuildKind>,
    debug: Option<BuildKind>,
    /// A session ends this many days after its login at the latest, however
    /// often it is used (README, "Staying signed in").
    session_max_days: Option<u32>,
    /// Where Kakao sends the browser after "also sign out of Kakao in the
    /// browser" (registered under 로그아웃 리다이렉트 URI).
    logout_redirect_uri: Option<String>,
    /// Backend mode: the publisher's kakao-desk-server (README, "Backend
    /// mode"), and the audience its tokens name.
    backend_url: Option<String>,
    backend_audience: Option<String>,
}

/// The settings of one build kind.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuildKind {
    redirect_uri: Option<String>,
    redirect_mode: Option<String>,
}

/// The variables a build may set, as the core names them. The Kakao hosts
/// and the issuer are for test builds against the emulator; they have no
/// place in `kakao.toml`.
const BUILD_VARIABLES: [&str; 12] = [
    "KAKAO_CLIENT_ID",
    "KAKAO_CLIENT_SECRET",
    "KAKAO_REDIRECT_URI",
    "KAKAO_REDIRECT_MODE",
    "KAKAO_SCOPES",
    "KAKAO_OIDC",
    "KAKAO_AUTH_BASE_URL",
    "KAKAO_API_BASE_URL",
    "KAKAO_OIDC_ISSUER",
    "KAKAO_LOGOUT_REDIRECT_URI",
    "KAKAO_BACKEND_URL",
    "KAKAO_BACKEND_AUDIENCE",
];

/// Resolves the build's Kakao settings (environment over `kakao.toml`) and
/// hands them to the app's compilation as `KAKAO_DESK_BUILD_<NAME>`; also
/// records where each came from (`KAKAO_DESK_BUILD_SOURCES`) for
/// `--check-config`.
fn publisher_config(kind: &str) -> Result<(), String> {
    println!("cargo:rerun-if-changed=kakao.toml");
    for variable in BUILD_VARIABLES {
        println!("cargo:rerun-if-env-changed={variable}");
    }
    let file: PublisherFile = match std::fs::read_to_string("kakao.toml") {
        Ok(text) => toml::from_str(&text).map_err(|e| e.to_string())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => PublisherFile::default(),
        Err(e) => return Err(e.to_string()),
    };
    if file.client_secret.is_some() {
        return Err(
            "client_secret does not belong in a file that is committed: set \
             KAKAO_CLIENT_SECRET in the build environment instead (and read the README \
             on why a desktop app should not have one)"
                .to_owned(),
        );
    }
    let (section, other) = match kind {
        "debug" => (
            file.debug.unwrap_or_default(),
            file.release.unwrap_or_default(),
        ),
        _ => (
            file.release.unwrap_or_default(),
            file.debug.unwrap_or_default(),
        ),
    };
    // The other build kind's redirect URI, so --check-config can list both
    // values to register and notice when they are one page.
    if let Some(uri) = other.redirect_uri.filter(|u| !u.trim().is_empty()) {
        println!(
            "cargo:rustc-env=KAKAO_DESK_BUILD_OTHER_REDIRECT_URI={}",
            uri.trim()
        );
    }
    let from_file: BTreeMap<&str, Option<String>> = BTreeMap::from([
        ("KAKAO_CLIENT_ID", file.client_id),
        ("KAKAO_REDIRECT_URI", section.redirect_uri),
        ("KAKAO_REDIRECT_MODE", section.redirect_mode),
        ("KAKAO_SCOPES", file.scopes.map(|s| s.join(","))),
        ("KAKAO_OIDC", file.oidc.map(|on| on.to_string())),
        ("KAKAO_LOGOUT_REDIRECT_URI", file.logout_redirect_uri),
        ("KAKAO_BACKEND_URL", file.backend_url),
        ("KAKAO_BACKEND_AUDIENCE", file.backend_audience),
    ]);
    let mut sources = Vec::new();
    for variable in BUILD_VARIABLES {
        let env = std::env::var(variable)
            .ok()
            .filter(|v| !v.trim().is_empty());
        let (value, source) = match env {
            Some(value) => (value, "environment".to_owned()),
            None => match from_file.get(variable).cloned().flatten() {
                Some(value) if !value.trim().is_empty() => {
                    let table =
                        if variable == "KAKAO_REDIRECT_URI" || variable == "KAKAO_REDIRECT_MODE" {
                            format!("kakao.toml [{kind}]")
                        } else {
                            "kakao.toml".to_owned()
                        };
                    (value, table)
                }
                _ => continue,
            },
        };
        if value.chars().any(char::is_control) {
            return Err(format!("{variable} must be one line"));
        }
        if variable == "KAKAO_CLIENT_SECRET" {
            println!(
                "cargo:warning=KAKAO_CLIENT_SECRET is baked into this build: anyone with the binary can read it (README, \"Client secret\")"
            );
        }
        let name = variable.trim_start_matches("KAKAO_");
        println!("cargo:rustc-env=KAKAO_DESK_BUILD_{name}={}", value.trim());
        sources.push(format!("{variable}={source}"));
    }
    println!("cargo:rerun-if-env-changed=KAKAO_SESSION_MAX_DAYS");
    let max_days = match std::env::var("KAKAO_SESSION_MAX_DAYS")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        Some(days) => Some(
            days.trim()
                .parse::<u32>()
                .map_err(|_| "KAKAO_SESSION_MAX_DAYS must be a number of days".to_owned())?,
        ),
        None => file.session_max_days,
    };
    if let Some(days) = max_days {
        if !(1..=3650).contains(&days) {
            return Err(format!(
                "session_max_days must be from 1 to 3650 (ten years), not {days}"
            ));
        }
        println!("cargo:rustc-env=KAKAO_DESK_BUILD_SESSION_MAX_DAYS={days}");
    }
    println!("cargo:rustc-env=KAKAO_DESK_BUILD_KIND={kind}");
    println!(
        "cargo:rustc-env=KAKAO_DESK_BUILD_SOURCES={}",
        sources.join(";")
    );
    Ok(())
}
