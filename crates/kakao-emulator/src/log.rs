//! The request log: every request the emulator answered, with secrets masked,
//! so a test can prove what reached which endpoint (for example that a forged
//! callback sent nothing to `/oauth/token`).

use std::fs::File;
use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

use crate::faults::Fault;

/// Parameters whose values never appear in the log.
const MASKED_PARAMS: &[&str] = &[
    "code",
    "code_verifier",
    "client_secret",
    "access_token",
    "refresh_token",
    "id_token",
    "agt",
];

/// What replaces a masked value.
pub const MASK: &str = "[masked]";

/// Largest request body the log reads (token requests are a few hundred bytes).
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

/// One answered request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    /// Emulated time of arrival, milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// HTTP method, e.g. `"POST"`.
    pub method: String,
    /// Path without the query, e.g. `"/oauth/token"`.
    pub path: String,
    /// Query parameters, then form-body parameters, in order; the values of
    /// `code`, `code_verifier`, `client_secret`, tokens and `agt` are [`MASK`].
    pub params: Vec<(String, String)>,
    /// The `Authorization` scheme with the credential masked
    /// (`"Bearer [masked]"`), if the header was sent.
    pub authorization: Option<String>,
    /// Status code of the answer.
    pub status: u16,
    /// The injected fault that shaped the answer, if any.
    pub fault: Option<Fault>,
}

impl RecordedRequest {
    /// The first value of a parameter (masked values read as [`MASK`]).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The shared log of a running emulator. Clones see the same log.
#[derive(Clone, Debug, Default)]
pub struct RequestLog {
    entries: Arc<Mutex<Vec<RecordedRequest>>>,
    file: Option<Arc<Mutex<File>>>,
}

impl RequestLog {
    pub(crate) fn with_file(file: Option<File>) -> Self {
        Self {
            entries: Arc::default(),
            file: file.map(|f| Arc::new(Mutex::new(f))),
        }
    }

    /// Every request so far, oldest first.
    pub fn all(&self) -> Vec<RecordedRequest> {
        self.lock().clone()
    }

    /// The requests whose path is exactly `path`, oldest first.
    pub fn to_path(&self, path: &str) -> Vec<RecordedRequest> {
        self.lock()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Forgets everything recorded so far (the file keeps its lines).
    pub fn clear(&self) {
        self.lock().clear();
    }

    pub(crate) fn record(&self, entry: RecordedRequest) {
        if let Some(file) = &self.file {
            let line = serde_json::to_string(&entry).unwrap_or_default();
            let mut file = file.lock().unwrap_or_else(PoisonError::into_inner);
            // The log file is a diagnostic aid; a full disk must not fail requests.
            if let Err(e) = writeln!(file, "{line}").and_then(|()| file.flush()) {
                tracing::warn!(error = %e, "cannot write the request log file");
            }
        }
        self.lock().push(entry);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RecordedRequest>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn masked(name: &str, value: String) -> String {
    if MASKED_PARAMS.contains(&name) {
        MASK.to_owned()
    } else {
        value
    }
}

pub(crate) fn parse_pairs(text: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text)
        .map(|(k, v)| {
            let value = masked(&k, v.into_owned());
            (k.into_owned(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_the_rest_kept() {
        let pairs = parse_pairs(b"grant_type=authorization_code&code=abc&code_verifier=v&client_secret=s&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb");
        assert_eq!(
            pairs,
            [
                ("grant_type".to_owned(), "authorization_code".to_owned()),
                ("code".to_owned(), MASK.to_owned()),
                ("code_verifier".to_owned(), MASK.to_owned()),
                ("client_secret".to_owned(), MASK.to_owned()),
                ("redirect_uri".to_owned(), "http://127.0.0.1/cb".to_owned()),
            ],
            "codes, verifiers and secrets must never reach a log; other parameters stay for assertions"
        );
    }
}
