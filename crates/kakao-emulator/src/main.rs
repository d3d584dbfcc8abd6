//! `kakao-emulator`: run the local Kakao Login emulator on a loopback port.
//!
//! Prints exactly one line, `listening on http://127.0.0.1:PORT`, to stdout when
//! ready (scripts wait for it), then serves until Ctrl-C or SIGTERM. Diagnostics
//! go to stderr (`RUST_LOG` filters them).

use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use kakao_emulator::{EmulatorConfig, Users};

/// A faithful local Kakao Login server (kauth + kapi on one loopback port) for
/// tests, benchmarks and demo mode.
#[derive(Debug, Parser)]
#[command(name = "kakao-emulator", version)]
struct Cli {
    /// Loopback address to bind (anything else is refused).
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to bind; 0 picks a free port (read it from the "listening on" line).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The app's REST API key (`client_id`).
    #[arg(long)]
    client_id: String,
    /// Client secret; when given, token requests must send it (else KOE010).
    #[arg(long)]
    client_secret: Option<String>,
    /// A registered redirect URI (exact match; http/https only). Repeatable.
    /// `{base}/bridge/kakao/callback` is always registered too.
    #[arg(long = "redirect-uri", required = true)]
    redirect_uris: Vec<String>,
    /// Fixture users: a JSON array of /v2/user/me objects (default: the
    /// shipped set). `{base_url}` in strings becomes the emulator's base URL.
    #[arg(long, value_name = "FILE.json")]
    users: Option<PathBuf>,
    /// Answer GET /oauth/authorize with an immediate 302 for this user id
    /// (no consent page), so scripts need no browser.
    #[arg(long, value_name = "KAKAO_ID")]
    auto_consent: Option<i64>,
    /// Access token (and id_token) lifetime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 21_600)]
    access_ttl: u64,
    /// Refresh token lifetime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5_184_000)]
    refresh_ttl: u64,
    /// Latency added before every answer, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    latency_ms: u64,
    /// Scheme the bridge page forwards to: SCHEME://oauth/callback?...
    #[arg(long, value_name = "SCHEME", default_value = kakao_emulator::DEFAULT_BRIDGE_SCHEME)]
    bridge_scheme: String,
    /// Play an app with "OpenID Connect 활성화" off: no id_token, and `openid`
    /// in a `scope` is KOE205.
    #[arg(long)]
    no_openid: bool,
    /// The app's consent items, comma-separated (default: every item some
    /// fixture user has configured, plus `openid`); an authorize `scope`
    /// naming anything else is KOE205.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    consent_items: Option<Vec<String>>,
    /// The issuer to claim in discovery and id_tokens (default: the base
    /// URL), e.g. Kakao's own `https://kauth.kakao.com`.
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// Append one JSON line per request here (codes, tokens, verifiers and
    /// secrets masked).
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kakao-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("kakao-emulator: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let users = match &cli.users {
        Some(path) => Users::from_file(path).map_err(|e| e.to_string())?,
        None => Users::default_fixtures(),
    };
    let config = EmulatorConfig {
        host: cli.host,
        port: cli.port,
        client_id: cli.client_id,
        client_secret: cli.client_secret,
        redirect_uris: cli.redirect_uris,
        users,
        auto_consent: cli.auto_consent,
        access_ttl: Duration::from_secs(cli.access_ttl),
        refresh_ttl: Duration::from_secs(cli.refresh_ttl),
        latency: Duration::from_millis(cli.latency_ms),
        bridge_scheme: cli.bridge_scheme,
        log_file: cli.log,
        openid: !cli.no_openid,
        consent_items: cli.consent_items,
        issuer: cli.issuer,
        ..EmulatorConfig::default()
    };
    let emulator = kakao_emulator::start(config)
        .await
        .map_err(|e| e.to_string())?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", emulator.base_url())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(stdout);
    wait_for_stop().await;
    emulator.shutdown().await;
    Ok(())
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    // Without a signal handler there is nothing to wait for but Ctrl-C.
    let _ = tokio::signal::ctrl_c().await;
}
