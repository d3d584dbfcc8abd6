//! Binding, serving and stopping an emulator.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::{EmulatorConfig, RedirectUriError};
use crate::router::app;
use crate::state::{BRIDGE_PATH, EmulatorState, SIGNED_OUT_PATH, StartError};
use crate::{Clock, Faults, RequestLog};

/// A serving emulator. Dropping it stops the server too (without waiting).
#[derive(Debug)]
pub struct RunningEmulator {
    state: EmulatorState,
    addr: SocketAddr,
    server: Option<JoinHandle<()>>,
}

/// Binds `config.host:config.port` (loopback only; default `127.0.0.1:0`)
/// and serves the emulator in a background task.
///
/// # Errors
/// [`StartError`] when the host is not loopback, the port cannot be bound or
/// the configuration is one Kakao would refuse (see [`EmulatorState::new`]).
pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, StartError> {
    if !config.host.is_loopback() {
        return Err(StartError::NotLoopback(config.host));
    }
    let listener = TcpListener::bind((config.host, config.port))
        .await
        .map_err(StartError::Bind)?;
    let addr = listener.local_addr().map_err(StartError::Bind)?;
    let base_url = format!("http://{addr}");
    // Key generation is CPU work; keep it off the async workers.
    let state = tokio::task::spawn_blocking(move || EmulatorState::new(config, &base_url))
        .await
        .map_err(|e| StartError::SigningKey(e.to_string()))??;
    let router = app(state.clone());
    let mut stop = state.shared().shutdown.subscribe();
    let server = tokio::spawn(async move {
        let serving = axum::serve(listener, router).with_graceful_shutdown(async move {
            // An Err means the sender is gone, which also means "stop".
            let _ = stop.wait_for(|stopping| *stopping).await;
        });
        if let Err(e) = serving.await {
            tracing::error!(error = %e, "emulator server failed");
        }
    });
    tracing::info!(%addr, "kakao emulator listening");
    Ok(RunningEmulator {
        state,
        addr,
        server: Some(server),
    })
}

impl RunningEmulator {
    /// `http://127.0.0.1:PORT`, no trailing slash. Both the kauth and the kapi
    /// base URL, and the OIDC issuer.
    pub fn base_url(&self) -> &str {
        self.state.base_url()
    }

    /// `base_url() + path`, e.g. `url("/oauth/token")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The emulated app's `client_id`.
    pub fn client_id(&self) -> &str {
        &self.state.shared().client_id
    }

    /// `{base}/bridge/kakao/callback`: the bridge page, always a registered
    /// redirect URI. It forwards to `{bridge_scheme}://oauth/callback?...`.
    pub fn bridge_redirect_uri(&self) -> String {
        self.url(BRIDGE_PATH)
    }

    /// The emulator's own "signed out of Kakao" page, registered as a logout
    /// redirect URI (`/oauth/logout` sends the browser there).
    pub fn signed_out_uri(&self) -> String {
        self.url(SIGNED_OUT_PATH)
    }

    /// Registers one more redirect URI (exact match; http/https only).
    ///
    /// # Errors
    /// [`RedirectUriError`] if Kakao's console would refuse the URI.
    pub fn register_redirect_uri(&self, uri: &str) -> Result<(), RedirectUriError> {
        self.state.register_redirect_uri(uri)
    }

    /// The request log.
    pub fn requests(&self) -> &RequestLog {
        self.state.requests()
    }

    /// The fault table.
    pub fn faults(&self) -> &Faults {
        self.state.faults()
    }

    /// The emulator's clock (shared with `config.clock`).
    pub fn clock(&self) -> &Clock {
        self.state.clock()
    }

    /// Sets the latency added before every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.state.set_latency(latency);
    }

    /// Every authorization code, access token, refresh token and id_token
    /// issued so far, oldest first: what a test scans files, logs and pages
    /// for.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.state.issued_secrets()
    }

    /// Ends the life of every access token now (the next kapi call answers
    /// -401), without moving the clock that id_tokens follow.
    pub fn expire_access_tokens(&self) {
        self.state.expire_access_tokens();
    }

    /// Sets the user `GET /oauth/authorize` logs in without a page (`None`:
    /// show the consent page).
    ///
    /// # Errors
    /// [`StartError::UnknownAutoConsentUser`] if the id is not a fixture user.
    pub fn set_auto_consent(&self, user: Option<i64>) -> Result<(), StartError> {
        self.state.set_auto_consent(user)
    }

    /// The state behind the router.
    pub fn state(&self) -> &EmulatorState {
        &self.state
    }

    /// A JWT with exactly `claims`, signed with the key the emulator's JWKS
    /// publishes (header `{"alg":"RS256","typ":"JWT","kid":…}`): for tests of
    /// how a client treats a token Kakao's key signed but whose claims are
    /// wrong.
    ///
    /// # Errors
    /// The signer's message if signing fails.
    pub fn sign_jwt(&self, claims: &serde_json::Value) -> Result<String, String> {
        self.state.shared().key.sign(claims)
    }

    /// Stops accepting connections, ends hung requests and waits for the
    /// server task (at most a few seconds, then it is aborted).
    pub async fn shutdown(mut self) {
        self.state.signal_shutdown();
        if let Some(mut server) = self.server.take() {
            // Keep-alive connections normally close at once; a client that
            // holds one open must not hold up a test suite.
            if tokio::time::timeout(Duration::from_secs(5), &mut server)
                .await
                .is_err()
            {
                server.abort();
            }
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.state.signal_shutdown();
    }
}
