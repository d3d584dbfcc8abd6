//! The RSA key that signs id_tokens, and its JWKS entry.
//!
//! The key is generated in memory once per process and never written anywhere:
//! committing a private key, even a test one, invites someone to mistake it for
//! a real secret, and generating per process keeps every run's tokens
//! unverifiable by anything but that run's JWKS.
//!
//! Signing and checking use the `rsa` crate directly, not jsonwebtoken:
//! jsonwebtoken's crypto backend is one per process, and in the tests the
//! emulator shares its process with the app's core, which installs a backend
//! that verifies RS256 but never signs it.

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1v15;
use rsa::signature::{Keypair as _, SignatureEncoding as _, Signer as _, Verifier as _};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// An RS256 signing key with its `kid`.
pub(crate) struct SigningKey {
    kid: String,
    signing: pkcs1v15::SigningKey<Sha256>,
    verifying: pkcs1v15::VerifyingKey<Sha256>,
    jwk: Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

static SHARED: OnceLock<Result<Arc<SigningKey>, String>> = OnceLock::new();

impl SigningKey {
    /// The process-wide key, generated on first use (a 2048-bit key takes a
    /// moment; sharing it keeps many in-process emulators cheap).
    pub(crate) fn shared() -> Result<Arc<SigningKey>, String> {
        SHARED
            .get_or_init(|| Self::generate().map(Arc::new))
            .clone()
    }

    fn generate() -> Result<Self, String> {
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .map_err(|e| format!("RSA key generation failed: {e}"))?;
        let n = private.n().to_bytes_be();
        let e = private.e().to_bytes_be();
        // Kakao's kids are 30 hex characters; derive ours from the modulus so
        // it is stable for the key and looks the same.
        let digest = Sha256::digest(&n);
        let kid: String = digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()[..30]
            .to_owned();
        let jwk = json!({
            "kid": kid,
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(&n),
            "e": URL_SAFE_NO_PAD.encode(&e),
        });
        let signing = pkcs1v15::SigningKey::<Sha256>::new(private);
        let verifying = signing.verifying_key();
        Ok(Self {
            kid,
            signing,
            verifying,
            jwk,
        })
    }

    /// The key's JWKS entry.
    pub(crate) fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// Signs `claims` as a compact JWS with header `{kid, typ:"JWT", alg:"RS256"}`.
    pub(crate) fn sign(&self, claims: &Value) -> Result<String, String> {
        let header = json!({"kid": self.kid, "typ": "JWT", "alg": "RS256"});
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .signing
            .try_sign(message.as_bytes())
            .map_err(|e| format!("RS256 signing failed: {e}"))?;
        Ok(format!(
            "{message}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }

    /// Checks the signature of a token this key signed and returns its
    /// claims. Time claims are left to the caller, who knows the emulated time.
    pub(crate) fn verify(&self, token: &str) -> Result<Value, String> {
        let mut parts = token.split('.');
        let (Some(header_part), Some(claims_part), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("not a compact JWS".to_owned());
        };
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| "a part is not base64url".to_owned())
        };
        let header: Value = serde_json::from_slice(&decode(header_part)?)
            .map_err(|_| "the header is not JSON".to_owned())?;
        if header["alg"] != "RS256" {
            return Err("the algorithm is not RS256".to_owned());
        }
        let signature = pkcs1v15::Signature::try_from(decode(signature)?.as_slice())
            .map_err(|_| "malformed signature".to_owned())?;
        let message = &token[..header_part.len() + 1 + claims_part.len()];
        self.verifying
            .verify(message.as_bytes(), &signature)
            .map_err(|_| "the signature does not match".to_owned())?;
        serde_json::from_slice(&decode(claims_part)?)
            .map_err(|_| "the claims are not JSON".to_owned())
    }
}
