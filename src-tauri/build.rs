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
    if std::env::var("PROFILE").as_deref() == Ok("debug") {
        apply_debug_identity();
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
