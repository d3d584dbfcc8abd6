//! Fault injection and added latency, for tests and benchmarks of a client's
//! failure handling.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

/// A failure to inject on one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// A server-side outage in the host's error shape: kauth `500`
    /// `{"error":"server_error",…,"error_code":"KOE003"}` (KOE003 is Kakao's
    /// "temporary server error"), kapi `503 {"msg":…,"code":-9798}` (Kakao's
    /// maintenance answer; a kapi `-1` is a 400, [`Fault::KapiInternalError`]).
    ServerError,
    /// No answer until `hang_for` has passed (then the normal answer) or the
    /// emulator shuts down: a server that outlives the client's timeout.
    Hang,
    /// The normal answer with its body cut in half (and a matching
    /// `Content-Length`), so the client reads invalid JSON.
    TruncatedJson,
    /// `400 {"msg":"internal error","code":-1}`: kapi's documented temporary
    /// fault, after which a client must not log the user out.
    KapiInternalError,
    /// `403 {"msg":"insufficient scopes.","code":-402,"api_type":…,
    /// "required_scopes":["account_email"],"allowed_scopes":[…]}`: the user
    /// has not agreed to an item the call needs (`docs/kakao-api.md` §6; the field names
    /// come from the SDKs' models, the exact body is UNCONFIRMED).
    InsufficientScope,
    /// The normal token answer without its `id_token` (the rest untouched):
    /// a downgrade a client that asked for OpenID Connect must refuse.
    DropIdToken,
}

/// How often an injected fault fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultMode {
    /// On the next request to the path only.
    Once,
    /// On every request to the path until cleared.
    Always,
}

/// The per-path fault table of a running emulator. Clones share the table.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    table: Arc<Mutex<HashMap<String, (Fault, FaultMode)>>>,
}

impl Faults {
    /// Makes requests to exactly `path` (e.g. `"/oauth/token"`) fail with
    /// `fault`, once or always. Replaces an earlier fault on that path.
    pub fn inject(&self, path: &str, fault: Fault, mode: FaultMode) {
        self.lock().insert(path.to_owned(), (fault, mode));
    }

    /// Removes the fault on `path`.
    pub fn clear(&self, path: &str) {
        self.lock().remove(path);
    }

    /// Removes every fault.
    pub fn clear_all(&self) {
        self.lock().clear();
    }

    /// Takes the fault for `path`, consuming it if it was `Once`.
    pub(crate) fn take(&self, path: &str) -> Option<Fault> {
        let mut table = self.lock();
        let (fault, mode) = *table.get(path)?;
        if mode == FaultMode::Once {
            table.remove(path);
        }
        Some(fault)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Fault, FaultMode)>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Marks a response shaped by a fault, for the request log.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AppliedFault(pub Fault);
