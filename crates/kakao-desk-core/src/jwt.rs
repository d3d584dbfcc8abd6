//! The JWT library's crypto backend: `ring`, chosen once for the process.
//!
//! jsonwebtoken 11 delegates signatures to a process-wide
//! [`CryptoProvider`]. Its bundled RustCrypto provider links every algorithm
//! it knows (RSA signing and PSS with their bignum code, P-256, P-384,
//! Ed25519), about half a mebibyte of a release binary, for the two things
//! the app does with JWTs: verify Kakao's RS256 id_tokens, sign and verify
//! its own HS256 session token, and (backend mode) verify the EdDSA access
//! tokens of a `kakao-desk-server`, which signs them with the same code.
//! `ring` is already linked for TLS (rustls), so this provider does exactly
//! those with it and refuses every other algorithm (BENCHMARKS.md, "Size").
//!
//! RS256 verification takes ring's `RSA_PKCS1_2048_8192_SHA256`: keys
//! shorter than 2048 bits are refused, as Kakao's are 2048.
//!
//! Everything in the core that signs or verifies a JWT calls
//! [`install_crypto`] first. Another crate in the same process that installs
//! a provider before us (or lets jsonwebtoken pick one) wins; the core's own
//! tests check that this one is in use.

use std::sync::Once;

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::signature::{Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::{hmac, signature as ring_signature};

/// Installs the crate's `ring` JWT provider for the process, once: HS256,
/// RS256 (verification) and EdDSA (Ed25519); every other algorithm is
/// refused. The core calls it before any JWT work; another crate that signs
/// or verifies JWTs in the same process (the backend server) calls it first.
pub fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if RING_PROVIDER.install_default().is_err() {
            tracing::warn!("another JWT crypto provider was installed first");
        }
    });
}

/// HS256, RS256 and EdDSA on `ring`; every other algorithm is refused.
pub(crate) static RING_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: |_| Err(unsupported()),
        rsa_pub_components_from_public_key: |_| Err(unsupported()),
        ec_pub_components_from_private_key: |_, _| {
            Err::<(EllipticCurve, Vec<u8>, Vec<u8>), _>(unsupported())
        },
        ed_pub_components_from_private_key: |_, _| Err(unsupported()),
        compute_digest,
    },
};

fn unsupported() -> Error {
    ErrorKind::InvalidAlgorithm.into()
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>, Error> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &ring::digest::SHA256,
        ThumbprintHash::SHA384 => &ring::digest::SHA384,
        ThumbprintHash::SHA512 => &ring::digest::SHA512,
        _ => return Err(unsupported()),
    };
    Ok(ring::digest::digest(algorithm, data).as_ref().to_vec())
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    match algorithm {
        Algorithm::HS256 if key.family() == AlgorithmFamily::Hmac => Ok(Box::new(Hs256(
            hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes()),
        ))),
        Algorithm::HS256 => Err(ErrorKind::InvalidKeyFormat.into()),
        // `EncodingKey::from_ed_der`: a PKCS#8 (v1 or v2) Ed25519 private key.
        Algorithm::EdDSA if key.family() == AlgorithmFamily::Ed => {
            ring_signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(key.as_bytes())
                .map(|pair| Box::new(Ed25519Signer(pair)) as Box<dyn JwtSigner>)
                .map_err(|_| ErrorKind::InvalidKeyFormat.into())
        }
        Algorithm::EdDSA => Err(ErrorKind::InvalidKeyFormat.into()),
        _ => Err(unsupported()),
    }
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    match (algorithm, key.family(), key.kind()) {
        (Algorithm::HS256, AlgorithmFamily::Hmac, DecodingKeyKind::SecretOrDer(secret)) => {
            Ok(Box::new(Hs256(hmac::Key::new(hmac::HMAC_SHA256, secret))))
        }
        (Algorithm::RS256, AlgorithmFamily::Rsa, kind) => Ok(Box::new(Rs256(kind.clone()))),
        // `DecodingKey::from_ed_components(x)` (a JWK) and `from_ed_der`
        // both hold the raw 32-byte public key.
        (Algorithm::EdDSA, AlgorithmFamily::Ed, DecodingKeyKind::SecretOrDer(public)) => {
            Ok(Box::new(Ed25519Verifier(public.clone())))
        }
        (Algorithm::HS256 | Algorithm::RS256 | Algorithm::EdDSA, _, _) => {
            Err(ErrorKind::InvalidKeyFormat.into())
        }
        _ => Err(unsupported()),
    }
}

/// HMAC-SHA256, both ways.
struct Hs256(hmac::Key);

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, jsonwebtoken::signature::Error> {
        Ok(hmac::sign(&self.0, msg).as_ref().to_vec())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(
        &self,
        msg: &[u8],
        signature: &Vec<u8>,
    ) -> Result<(), jsonwebtoken::signature::Error> {
        // Constant time (ring compares the tags with its own routine).
        hmac::verify(&self.0, msg, signature).map_err(|_| jsonwebtoken::signature::Error::new())
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

/// RSASSA-PKCS1-v1_5 with SHA-256, verification only: a public key as JWK
/// components or as PKCS#1 DER.
struct Rs256(DecodingKeyKind);

impl Verifier<Vec<u8>> for Rs256 {
    fn verify(
        &self,
        msg: &[u8],
        signature: &Vec<u8>,
    ) -> Result<(), jsonwebtoken::signature::Error> {
        let params = &ring_signature::RSA_PKCS1_2048_8192_SHA256;
        let verified = match &self.0 {
            DecodingKeyKind::RsaModulusExponent { n, e } => {
                // ring wants the minimal big-endian form RFC 7518 asks for;
                // a JWKS with leading zero octets was accepted before, so it
                // still is.
                let (n, e) = (without_leading_zeros(n), without_leading_zeros(e));
                ring_signature::RsaPublicKeyComponents { n, e }.verify(params, msg, signature)
            }
            DecodingKeyKind::SecretOrDer(der) => {
                ring_signature::UnparsedPublicKey::new(params, der).verify(msg, signature)
            }
        };
        verified.map_err(|_| jsonwebtoken::signature::Error::new())
    }
}

fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

impl JwtVerifier for Rs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

/// Ed25519 signatures (RFC 8032) for `alg: EdDSA` (RFC 8037).
struct Ed25519Signer(ring_signature::Ed25519KeyPair);

impl Signer<Vec<u8>> for Ed25519Signer {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, jsonwebtoken::signature::Error> {
        Ok(self.0.sign(msg).as_ref().to_vec())
    }
}

impl JwtSigner for Ed25519Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

/// Ed25519 verification with a raw 32-byte public key.
struct Ed25519Verifier(Vec<u8>);

impl Verifier<Vec<u8>> for Ed25519Verifier {
    fn verify(
        &self,
        msg: &[u8],
        signature: &Vec<u8>,
    ) -> Result<(), jsonwebtoken::signature::Error> {
        ring_signature::UnparsedPublicKey::new(&ring_signature::ED25519, &self.0)
            .verify(msg, signature)
            .map_err(|_| jsonwebtoken::signature::Error::new())
    }
}

impl JwtVerifier for Ed25519Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

#[cfg(test)]
mod tests {
    //! The provider against known answers: RFC 4231's HMAC-SHA256 vector, and
    //! an RS256 signature made by the RustCrypto `rsa` crate (the emulator's
    //! signer), so the two implementations are checked against each other.

    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{Header, Validation};
    use rsa::pkcs1v15::SigningKey;
    use rsa::signature::SignatureEncoding;
    use rsa::traits::PublicKeyParts;

    #[test]
    fn hs256_matches_rfc_4231_and_refuses_a_changed_tag() {
        // RFC 4231, test case 2.
        let key = EncodingKey::from_secret(b"Jefe");
        let signer = new_signer(&Algorithm::HS256, &key).expect("signer");
        let tag = signer
            .try_sign(b"what do ya want for nothing?")
            .expect("sign");
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let verifier =
            new_verifier(&Algorithm::HS256, &DecodingKey::from_secret(b"Jefe")).expect("verifier");
        assert!(
            verifier
                .verify(b"what do ya want for nothing?", &tag)
                .is_ok()
        );
        let mut changed = tag.clone();
        changed[0] ^= 1;
        assert!(
            verifier
                .verify(b"what do ya want for nothing?", &changed)
                .is_err()
        );
        assert!(
            verifier
                .verify(b"what do ya want for something?", &tag)
                .is_err()
        );
    }

    fn rsa_key(bits: usize) -> rsa::RsaPrivateKey {
        rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).expect("rsa key")
    }

    fn components(key: &rsa::RsaPrivateKey) -> DecodingKey {
        DecodingKey::from_rsa_components(
            &URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            &URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        )
        .expect("components")
    }

    #[test]
    fn rs256_verifies_what_rustcrypto_signed_and_nothing_else() {
        let private = rsa_key(2048);
        let signature = SigningKey::<sha2::Sha256>::new(private.clone())
            .sign(b"header.claims")
            .to_vec();
        let verifier = new_verifier(&Algorithm::RS256, &components(&private)).expect("verifier");
        assert!(verifier.verify(b"header.claims", &signature).is_ok());
        assert!(verifier.verify(b"header.claimz", &signature).is_err());
        let mut changed = signature.clone();
        changed[10] ^= 1;
        assert!(verifier.verify(b"header.claims", &changed).is_err());
        // Another key's signature.
        let other = new_verifier(&Algorithm::RS256, &components(&rsa_key(2048))).expect("other");
        assert!(other.verify(b"header.claims", &signature).is_err());
    }

    #[test]
    fn rs256_accepts_a_modulus_with_a_leading_zero_octet() {
        let private = rsa_key(2048);
        let signature = SigningKey::<sha2::Sha256>::new(private.clone())
            .sign(b"header.claims")
            .to_vec();
        let mut n = vec![0];
        n.extend(private.n().to_bytes_be());
        let key = DecodingKey::from_rsa_components(
            &URL_SAFE_NO_PAD.encode(n),
            &URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        )
        .expect("components");
        let verifier = new_verifier(&Algorithm::RS256, &key).expect("verifier");
        assert!(verifier.verify(b"header.claims", &signature).is_ok());
    }

    #[test]
    fn rs256_refuses_a_key_shorter_than_2048_bits() {
        let private = rsa_key(1024);
        let signature = SigningKey::<sha2::Sha256>::new(private.clone())
            .sign(b"header.claims")
            .to_vec();
        let verifier = new_verifier(&Algorithm::RS256, &components(&private)).expect("verifier");
        assert!(verifier.verify(b"header.claims", &signature).is_err());
    }

    #[test]
    fn every_other_algorithm_and_mixed_up_keys_are_refused() {
        let secret = DecodingKey::from_secret(b"secret");
        for algorithm in [
            Algorithm::HS384,
            Algorithm::HS512,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::ES256,
            Algorithm::ES384,
        ] {
            assert!(new_verifier(&algorithm, &secret).is_err(), "{algorithm:?}");
            assert!(
                new_signer(&algorithm, &EncodingKey::from_secret(b"secret")).is_err(),
                "{algorithm:?}"
            );
        }
        assert!(
            new_verifier(&Algorithm::EdDSA, &secret).is_err(),
            "an HMAC secret is no Ed25519 key"
        );
        // An HMAC secret offered as an RSA key and the reverse (the classic
        // algorithm confusion) are refused before any signature is checked.
        assert!(new_verifier(&Algorithm::RS256, &secret).is_err());
        let rsa = components(&rsa_key(2048));
        assert!(new_verifier(&Algorithm::HS256, &rsa).is_err());
        // The app never signs with RSA.
        assert!(new_signer(&Algorithm::RS256, &EncodingKey::from_secret(b"s")).is_err());
    }

    /// RFC 8037, appendix A.1 and A.4: the Ed25519 key (`d`, `x`) and the
    /// JWS over "Example of Ed25519 signing".
    const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    #[test]
    fn eddsa_matches_rfc_8037_and_refuses_a_changed_signature() {
        // PKCS#8 v1 around the 32-byte seed (RFC 8410 §7).
        let mut pkcs8 = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        pkcs8.extend(URL_SAFE_NO_PAD.decode(RFC8037_D).expect("d"));
        let (input, signature) = RFC8037_JWS.rsplit_once('.').expect("a JWS");
        let signature = URL_SAFE_NO_PAD.decode(signature).expect("signature");
        let signer =
            new_signer(&Algorithm::EdDSA, &EncodingKey::from_ed_der(&pkcs8)).expect("signer");
        assert_eq!(
            signer.try_sign(input.as_bytes()).expect("sign"),
            signature,
            "Ed25519 is deterministic: the RFC's signature, byte for byte"
        );
        let public = DecodingKey::from_ed_components(RFC8037_X).expect("x");
        let verifier = new_verifier(&Algorithm::EdDSA, &public).expect("verifier");
        assert!(verifier.verify(input.as_bytes(), &signature).is_ok());
        let mut changed = signature.clone();
        changed[10] ^= 1;
        assert!(verifier.verify(input.as_bytes(), &changed).is_err());
        assert!(
            verifier.verify(b"another message", &signature).is_err(),
            "the signature covers the message"
        );
        // An Ed25519 key is not an HMAC secret, nor the reverse.
        assert!(new_verifier(&Algorithm::HS256, &public).is_err());
        assert!(new_signer(&Algorithm::EdDSA, &EncodingKey::from_ed_der(b"not a key")).is_err());
    }

    #[test]
    fn the_core_installs_this_provider_and_jsonwebtoken_uses_it() {
        install_crypto();
        // A token signed with HS384 under the same secret: the RustCrypto
        // provider would verify it, this one refuses the algorithm. (It is
        // signed here with ring directly, not through the library.)
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS384","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(br#"{"sub":"1"}"#);
        let message = format!("{header}.{claims}");
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA384, b"secret"),
            message.as_bytes(),
        );
        let token = format!("{message}.{}", URL_SAFE_NO_PAD.encode(tag));
        let mut validation = Validation::new(Algorithm::HS384);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let refused = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &DecodingKey::from_secret(b"secret"),
            &validation,
        );
        assert!(
            matches!(refused, Err(ref e) if *e.kind() == ErrorKind::InvalidAlgorithm),
            "{refused:?}"
        );
        // And HS256 round-trips through the library.
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("JWT".to_owned());
        let token = jsonwebtoken::encode(
            &header,
            &serde_json::json!({"sub": "1"}),
            &EncodingKey::from_secret(b"secret"),
        )
        .expect("encode");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        assert!(
            jsonwebtoken::decode::<serde_json::Value>(
                &token,
                &DecodingKey::from_secret(b"secret"),
                &validation
            )
            .is_ok()
        );
    }
}
