//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>): the signed content is
//! `{webhook-id}.{webhook-timestamp}.{body}`, signed with HMAC-SHA256 under the secret's
//! base64-decoded bytes, sent as `webhook-signature: v1,<base64>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Prefix of subscription secrets.
pub const SECRET_PREFIX: &str = "whsec_";

/// A fresh `whsec_…` secret with 24 random bytes.
pub fn generate_secret() -> String {
    let mut key = [0u8; 24];
    rand::rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The `webhook-signature` header value for one message.
pub fn sign(secret: &str, message_id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .expect("secrets are generated as base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC accepts keys of any length");
    mac.update(message_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Why a delivery did not verify.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the timestamp is more than {0} s away from now")]
    Stale(i64),
    #[error("no v1 signature matches")]
    NoMatch,
}

/// Checks a delivery as a receiver should: one of the space-separated `v1,…` signatures
/// must match (compared in constant time) and the timestamp must be within
/// `tolerance_secs` of `now` (against replays).
pub fn verify(
    secret: &str,
    message_id: &str,
    timestamp: i64,
    signatures: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    if (now - timestamp).abs() > tolerance_secs {
        return Err(VerifyError::Stale(tolerance_secs));
    }
    let expected = sign(secret, message_id, timestamp, body);
    let matches = signatures.split_whitespace().any(|candidate| {
        subtle::ConstantTimeEq::ct_eq(candidate.as_bytes(), expected.as_bytes()).into()
    });
    if matches {
        Ok(())
    } else {
        Err(VerifyError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_webhooks_reference_vector() {
        // From the Standard Webhooks reference libraries' test suite.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn verification_needs_a_matching_signature_and_a_fresh_timestamp() {
        let secret = generate_secret();
        let signature = sign(&secret, "msg_1", 1_000, b"{}");
        let both = format!("v1,bm90LWl0 {signature}");
        assert_eq!(
            verify(&secret, "msg_1", 1_000, &both, b"{}", 1_100, 300),
            Ok(())
        );
        assert_eq!(
            verify(&secret, "msg_1", 1_000, &signature, b"{ }", 1_000, 300),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify(&secret, "msg_2", 1_000, &signature, b"{}", 1_000, 300),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify(&secret, "msg_1", 1_000, &signature, b"{}", 2_000, 300),
            Err(VerifyError::Stale(300))
        );
        let other = generate_secret();
        assert_eq!(
            verify(&other, "msg_1", 1_000, &signature, b"{}", 1_000, 300),
            Err(VerifyError::NoMatch)
        );
    }

    #[test]
    fn secrets_are_fresh_and_prefixed() {
        let (a, b) = (generate_secret(), generate_secret());
        assert!(a.starts_with(SECRET_PREFIX) && a != b);
    }
}
