//! End-to-end tests of Kakao Desk: the real app in a real WebKitGTK window
//! (under `scripts/desktop-session.sh`'s headless desktop), driven through
//! WebDriver, and the installed Linux packages. One binary, one [`support`]
//! harness; nextest runs these tests one at a time (test group `desktop`).
//!
//! Linux only: the harness needs Xvfb, WebKitWebDriver and the Linux
//! packages, and uses Unix process groups. On Windows and macOS this binary
//! is empty, so `cargo test` and `cargo clippy --all-targets` work there.
#![cfg(target_os = "linux")]

mod accounts;
mod backend;
mod bridge;
mod check;
mod crash;
mod day_two;
mod installed;
mod login;
mod shell;
mod support;
