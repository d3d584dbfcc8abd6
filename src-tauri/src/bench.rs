//! Timing marks for the whole-app benchmark (`benches/app/bench.py`), and for
//! a headless `scripts/run.sh`, which takes its screenshot at
//! `screen-rendered`.
//!
//! With `KAKAO_DESK_BENCH=1` the app prints `bench-mark <name> <unix ns>` to
//! stderr at a few fixed points; without it, nothing. Marks carry a name and a
//! wall-clock time only, never data.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The variable that turns the marks on.
pub const VARIABLE: &str = "KAKAO_DESK_BENCH";

/// Marks the page may report (it reports what it has drawn):
/// `ui-answered` when `ui_ready`'s answer reaches the page's script,
/// `screen-rendered` once its first screen is on display with its fonts and
/// images, the other two when the id_token's nickname and the full profile
/// are.
pub const PAGE_MARKS: [&str; 4] = [
    "ui-answered",
    "screen-rendered",
    "first-paint-rendered",
    "profile-rendered",
];

/// Whether marks are printed.
pub fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var(VARIABLE).as_deref() == Ok("1"))
}

/// Prints one mark, if enabled.
pub fn mark(name: &str) {
    if enabled() {
        let ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        eprintln!("bench-mark {name} {ns}");
    }
}
