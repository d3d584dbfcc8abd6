//! `kakao-desk-server`: see `--help`, and README, "Backend mode".
//!
//! Prints `listening on http://ADDR` to stdout when ready (scripts wait for
//! it); logs go to stderr (`RUST_LOG` filters them, default `info`). Stops
//! on Ctrl-C or SIGTERM, letting requests in flight finish for up to
//! `--shutdown-grace` seconds.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use kakao_desk_core::clock::{Clock as _, SystemClock};
use kakao_desk_server::config::{Command, Settings, SettingsError, parse_settings};
use kakao_desk_server::seal::Purpose;
use kakao_desk_server::store::Database;
use kakao_desk_server::{Server, StartError, sealing_key, tokens};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let settings = match parse_settings(std::env::args_os().collect()) {
        Ok(settings) => settings,
        Err(SettingsError::Flags(error)) => error.exit(),
        Err(error) => {
            eprintln!("kakao-desk-server: {error}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kakao-desk-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "kakao-desk-server stopped");
            eprintln!("kakao-desk-server: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings) -> Result<(), StartError> {
    match settings.command {
        Some(Command::Migrate) => {
            let database = Database::open(&settings.database_url, 1).await?;
            tracing::info!(database = database.kind(), "migrations applied");
            return Ok(());
        }
        Some(Command::RotateSigningKey) => {
            let database = Database::open(&settings.database_url, 1).await?;
            let key = sealing_key(&settings, &database)?;
            let kid = tokens::rotate(
                &database,
                &key.sealer(Purpose::SigningKeys),
                SystemClock.unix_now(),
            )
            .await?;
            println!("new signing key {kid}");
            return Ok(());
        }
        None => {}
    }
    let server = Server::new(&settings).await?;
    let listener = Server::bind(settings.listen).await?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: settings.listen,
        source,
    })?;
    tracing::info!(%addr, database = server.state().store.kind(), issuer = %settings.issuer(), "kakao-desk-server listening");
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
    let grace = Duration::from_secs(settings.shutdown_grace);
    let serving = tokio::spawn(server.serve(listener, async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = stopped_tx.send(());
    }));
    tokio::pin!(serving);
    tokio::select! {
        result = &mut serving => return finish(result, settings.listen),
        _ = stopped_rx => {}
    }
    match tokio::time::timeout(grace, &mut serving).await {
        Ok(result) => finish(result, settings.listen),
        Err(_) => {
            tracing::warn!(
                ?grace,
                "requests still in flight after the grace period; stopping"
            );
            Ok(())
        }
    }
}

fn finish(
    result: Result<std::io::Result<()>, tokio::task::JoinError>,
    addr: std::net::SocketAddr,
) -> Result<(), StartError> {
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(source)) => Err(StartError::Listen { addr, source }),
        Err(error) => Err(StartError::Settings(error.to_string())),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
