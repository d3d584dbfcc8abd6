//! # kakao-desk-server
//!
//! The backend half of Kakao Desk's **backend mode**: a service that has a
//! server of its own finishes the Kakao login there. The app still runs the
//! login in the system browser (PKCE, `state`, `nonce`), then hands the code
//! and its PKCE verifier to this server, which
//!
//! 1. exchanges the code with Kakao as a *confidential* client (the client
//!    secret lives here, never in a desktop binary), verifies the id_token
//!    (issuer, audience, nonce, signature by Kakao's cached JWKS) and reads
//!    `/v2/user/me` ([`kakao`]);
//! 2. creates or updates the user in one transaction, with the core's
//!    profile and birthday rules ([`store`]);
//! 3. answers with the service's own tokens: a short-lived EdDSA access JWT
//!    and an opaque rotating refresh token with reuse detection
//!    ([`tokens`]). Kakao's tokens stay here, sealed ([`seal`]), refreshed
//!    by Kakao's rules when a call needs them.
//!
//! [`api`] has the routes, [`config`] every setting, [`Server`] puts the
//! parts together. Storage is SQLite by default (one file, no other
//! service) or PostgreSQL for several instances, behind one interface
//! ([`store::Store`]).
#![warn(missing_docs)]

pub mod api;
pub mod config;
pub mod error;
pub mod kakao;
pub mod limit;
pub mod seal;
pub mod store;
pub mod tokens;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kakao_desk_core::clock::{Clock, SystemClock};
use kakao_desk_core::kakao::ClientOptions;
use thiserror::Error;
use tokio::net::TcpListener;

use crate::api::AppState;
use crate::config::Settings;
use crate::kakao::{Kakao, KakaoSettings};
use crate::limit::RateLimiter;
use crate::seal::{Purpose, SealingKey};
use crate::store::Database;
use crate::tokens::Signer;

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// A setting is wrong.
    #[error("{0}")]
    Settings(String),
    /// The database.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The sealing key.
    #[error(transparent)]
    Seal(#[from] seal::SealError),
    /// The signing keys.
    #[error(transparent)]
    Keys(#[from] tokens::KeyError),
    /// The listening socket.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A configured server, ready to serve.
#[derive(Debug, Clone)]
pub struct Server {
    state: Arc<AppState>,
    body_limit: usize,
    timeout: Duration,
}

/// The sealing key: the setting, else `DATABASE.key` beside an SQLite file
/// (made on first start); PostgreSQL needs the setting.
///
/// # Errors
/// [`StartError`].
pub fn sealing_key(settings: &Settings, database: &Database) -> Result<SealingKey, StartError> {
    if let Some(path) = &settings.sealing_key_file {
        return Ok(SealingKey::read(path)?);
    }
    match database {
        Database::Sqlite(store) => {
            let mut path = store.path().as_os_str().to_owned();
            path.push(".key");
            Ok(SealingKey::read_or_create(&PathBuf::from(path))?)
        }
        Database::Postgres(_) => Err(StartError::Settings(
            "KDS_SEALING_KEY_FILE is required with PostgreSQL: every instance must seal with the same key".into(),
        )),
    }
}

impl Server {
    /// Opens the database (migrating it), loads the keys and builds the
    /// Kakao client, on the system clock.
    ///
    /// # Errors
    /// [`StartError`].
    pub async fn new(settings: &Settings) -> Result<Self, StartError> {
        Self::with_clock(settings, Arc::new(SystemClock), ClientOptions::default()).await
    }

    /// [`Self::new`] with a given clock and Kakao client pacing (tests).
    ///
    /// # Errors
    /// [`StartError`].
    pub async fn with_clock(
        settings: &Settings,
        clock: Arc<dyn Clock>,
        options: ClientOptions,
    ) -> Result<Self, StartError> {
        let client_secret = settings
            .client_secret()
            .map_err(|e| StartError::Settings(e.to_string()))?;
        if client_secret.is_none() {
            tracing::warn!(
                "no Kakao client secret: the server is not a confidential client (set KDS_KAKAO_CLIENT_SECRET_FILE)"
            );
        }
        let kakao = Kakao::new(&KakaoSettings {
            client_id: settings.kakao_client_id.clone(),
            client_secret,
            auth_url: settings.kakao_auth_url.clone(),
            api_url: settings.kakao_api_url.clone(),
            issuer: settings.kakao_issuer.clone(),
            options,
        })
        .map_err(StartError::Settings)?;
        let store = Database::open(&settings.database_url, settings.database_pool).await?;
        let key = sealing_key(settings, &store)?;
        let signer = Signer::load(
            store.clone(),
            key.sealer(Purpose::SigningKeys),
            settings.issuer(),
            settings.audience.clone(),
            settings.access_ttl(),
            clock.unix_now(),
        )
        .await?;
        let state = AppState {
            store,
            kakao,
            signer,
            sealer: key.sealer(Purpose::KakaoTokens),
            clock,
            redirect_uris: settings.redirect_uris.clone(),
            refresh_ttl: settings.refresh_ttl(),
            limiter: RateLimiter::new(settings.rate_limit, settings.rate_burst),
            trusted_proxies: settings.trusted_proxies.clone(),
        };
        Ok(Self {
            state: Arc::new(state),
            body_limit: settings.body_limit,
            timeout: Duration::from_secs(settings.request_timeout.max(1)),
        })
    }

    /// The shared state (tests read the store through it).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// The router.
    pub fn router(&self) -> axum::Router {
        api::router(self.state.clone(), self.body_limit, self.timeout)
    }

    /// Serves on `listener` until `shutdown` resolves, then lets requests in
    /// flight finish (the caller bounds how long). Reloads the signing keys
    /// every minute meanwhile.
    ///
    /// # Errors
    /// The listener failed.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = self.state.clone();
        let reloader = tokio::spawn(async move {
            let mut every = tokio::time::interval(tokens::RELOAD_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                if let Err(error) = state.signer.reload(state.clock.unix_now()).await {
                    tracing::warn!(%error, "could not reload the signing keys");
                }
            }
        });
        let served = axum::serve(
            listener,
            self.router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        reloader.abort();
        served
    }

    /// Binds `addr`.
    ///
    /// # Errors
    /// [`StartError::Listen`].
    pub async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
        TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Listen { addr, source })
    }
}
