//! End-to-end tests of Kakao Desk: the real app in a real WebKitGTK window
//! (under `scripts/desktop-session.sh`'s headless desktop), driven through
//! WebDriver, and the installed Linux packages. One binary, one [`support`]
//! harness; nextest runs these tests one at a time (test group `desktop`).

mod bridge;
mod check;
mod crash;
mod installed;
mod login;
mod shell;
mod support;
