//! `kakao-desk --check-config [--offline] [--lang ko|en]`: the configuration
//! doctor on the configuration this binary would use, printed before any
//! window opens.
//!
//! It prints where each value came from (the run-time environment, the
//! build's `kakao.toml` or build environment, a default), the values to
//! register in the Kakao console, and the doctor's findings
//! ([`kakao_desk_core::doctor`]). Exit status: 0 with no error (warnings
//! allowed), 1 with an error. The release workflow runs it after building to
//! check what the binary carries.

use std::fmt::Write as _;

use kakao_desk_core::Language;
use kakao_desk_core::config::{HOST_VARIABLES, RuntimeOverrides, VARIABLES};
use kakao_desk_core::doctor::{Report, Setup, Severity};
use kakao_desk_core::kakao::ClientOptions;

use crate::publisher;
use crate::startup;

/// The flag that asks for the check.
pub const FLAG: &str = "--check-config";

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Skip the checks that need the network.
    pub offline: bool,
    /// The language of the report.
    pub lang: Language,
}

impl Request {
    /// The request in `args` (without the program name), when the first
    /// argument is [`FLAG`]. Only the first argument counts, so a login link
    /// (always the only argument) can never be taken for it.
    pub fn from_args(args: &[String]) -> Option<Self> {
        if args.first().map(String::as_str) != Some(FLAG) {
            return None;
        }
        let mut lang = sys_locale::get_locale()
            .map(|tag| Language::from_locale(&tag))
            .unwrap_or(Language::En);
        let mut rest = args[1..].iter();
        let mut offline = false;
        while let Some(arg) = rest.next() {
            match arg.as_str() {
                "--offline" => offline = true,
                "--lang" => {
                    if let Some(tag) = rest.next().and_then(|t| Language::from_tag(t)) {
                        lang = tag;
                    }
                }
                _ => {}
            }
        }
        Some(Self { offline, lang })
    }
}

/// What the doctor knows of this build besides its configuration.
pub fn setup(identifier: &str, scheme: &str) -> Setup {
    Setup {
        build_kind: publisher::BUILD_KIND.to_owned(),
        identifier: identifier.to_owned(),
        scheme: scheme.to_owned(),
        has_demo: publisher::HAS_DEMO,
        other_redirect_uri: publisher::other_redirect_uri().map(str::to_owned),
    }
}

/// Runs the check and prints the report; returns the exit status.
pub fn run(request: &Request, identifier: &str, scheme: &str) -> i32 {
    let setup = setup(identifier, scheme);
    let resolution = startup::resolve_config();
    let report = tauri::async_runtime::block_on(Report::run(
        &resolution,
        &setup,
        request.offline,
        ClientOptions::default(),
    ));
    let text = format!(
        "{}\n{}",
        header(request.lang, &setup),
        report.render(request.lang)
    );
    #[cfg(windows)]
    attach_parent_console();
    print!("{text}");
    i32::from(report.count(Severity::Error) > 0)
}

/// A Windows release build is a GUI program (no console of its own), so in
/// a terminal its output would go nowhere: when nothing is inherited as
/// stdout (no pipe, no file), it attaches to the console of the terminal it
/// was started from and points stdout and stderr at it. Rust's stdout writes
/// to a console with `WriteConsoleW`, so Korean reads right whatever the
/// console's code page. A pipe or file (`| more`, `> report.txt`, CI) is
/// used as it is.
#[cfg(windows)]
#[allow(unsafe_code)]
fn attach_parent_console() {
    use std::os::windows::io::{AsRawHandle, IntoRawHandle};
    use windows_sys::Win32::System::Console::{
        ATTACH_PARENT_PROCESS, AttachConsole, STD_ERROR_HANDLE, STD_OUTPUT_HANDLE, SetStdHandle,
    };
    if !std::io::stdout().as_raw_handle().is_null() {
        return;
    }
    // SAFETY: a plain Win32 call without pointers; it fails harmlessly when
    // the parent has no console (started from Explorer).
    if unsafe { AttachConsole(ATTACH_PARENT_PROCESS) } == 0 {
        return;
    }
    let Ok(console) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("CONOUT$")
    else {
        return;
    };
    // The handle stays open for the rest of the process (it exits after
    // printing).
    let handle = console.into_raw_handle();
    // SAFETY: `handle` is a valid console handle owned by nobody else from
    // here on; SetStdHandle only stores it.
    unsafe {
        SetStdHandle(STD_OUTPUT_HANDLE, handle);
        SetStdHandle(STD_ERROR_HANDLE, handle);
    }
}

/// The title and where each value came from.
fn header(lang: Language, setup: &Setup) -> String {
    let ko = lang == Language::Ko;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Kakao Desk {} — {} ({} {}, {})",
        env!("CARGO_PKG_VERSION"),
        if ko {
            "설정 점검"
        } else {
            "configuration check"
        },
        setup.build_kind,
        if ko { "빌드" } else { "build" },
        setup.identifier
    );
    let runtime_hosts = startup::runtime_overrides() == RuntimeOverrides::All;
    for variable in VARIABLES {
        let at_run_time = std::env::var(variable)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .filter(|_| runtime_hosts || !HOST_VARIABLES.contains(&variable));
        let (value, source) = match (at_run_time, publisher::build_time(variable)) {
            (Some(value), _) => (
                value,
                if ko {
                    "실행 환경".to_owned()
                } else {
                    "run-time environment".to_owned()
                },
            ),
            (None, Some(value)) => (
                value.to_owned(),
                match publisher::build_source(variable) {
                    Some("environment") if ko => "빌드 환경".to_owned(),
                    Some("environment") => "build environment".to_owned(),
                    Some(file) => file.to_owned(),
                    None => String::new(),
                },
            ),
            (None, None) => match kakao_desk_core::config::production_defaults(variable) {
                Some(value) => (
                    value.to_owned(),
                    if ko {
                        "기본값".to_owned()
                    } else {
                        "default".to_owned()
                    },
                ),
                None => continue,
            },
        };
        let shown = if variable == "KAKAO_CLIENT_SECRET" {
            if ko {
                "(설정됨)".to_owned()
            } else {
                "(set)".to_owned()
            }
        } else {
            value
        };
        let _ = writeln!(out, "  {variable:<22} {shown}  [{source}]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn only_a_first_argument_asks_for_the_check() {
        assert_eq!(Request::from_args(&args(&[])), None);
        assert_eq!(
            Request::from_args(&args(&["dev.kakaodesk.desktop://oauth/callback?code=x"])),
            None,
            "a login link is never a flag"
        );
        assert_eq!(
            Request::from_args(&args(&["dev.kakaodesk.desktop://x", FLAG])),
            None,
            "only the first argument counts"
        );
        assert_eq!(
            Request::from_args(&args(&[FLAG, "--offline", "--lang", "ko"])),
            Some(Request {
                offline: true,
                lang: Language::Ko
            })
        );
        assert!(
            !Request::from_args(&args(&[FLAG, "--lang", "en"])).is_some_and(|r| r.offline),
            "online unless asked"
        );
    }
}
