//! Secrets at rest: identity secrets and webhook secrets are sealed with
//! XChaCha20-Poly1305 under the deployment's `secrets_key` when one is set.
//!
//! A sealed value is `enc:v1:` + base64(24-byte random nonce ‖ ciphertext ‖ tag), bound
//! to what it belongs to (`site:<id>:identity_secret`, `webhook:<site>:<id>`) as
//! associated data, so a value copied to another row does not open. Values without
//! the prefix are plaintext from before a key was set: they still read, and
//! [`Sealer::needs_sealing`] tells the start-up pass to seal them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;

use super::StoreError;

/// The prefix of a sealed value (format version 1).
pub const SEALED_PREFIX: &str = "enc:v1:";
const NONCE_BYTES: usize = 24;

/// The 32-byte key secrets are sealed with. `Debug` does not show it.
#[derive(Clone)]
pub struct SecretsKey([u8; 32]);

impl SecretsKey {
    /// Reads a key written as 64 hex digits or as base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<SecretsKey, StoreError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).ok()
        } else {
            BASE64.decode(text).ok()
        };
        bytes
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(SecretsKey)
            .ok_or_else(|| {
                StoreError::Secrets(
                    "secrets_key must be 32 bytes written as 64 hex digits or as base64 \
                     (e.g. the output of `openssl rand -base64 32`)"
                        .into(),
                )
            })
    }
}

impl fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretsKey(***)")
    }
}

/// Seals and opens stored secrets; without a key it stores plaintext, as before.
#[derive(Clone, Default)]
pub struct Sealer {
    cipher: Option<XChaCha20Poly1305>,
}

impl Sealer {
    /// A sealer with `key`, or a plaintext one.
    pub fn new(key: Option<&SecretsKey>) -> Sealer {
        Sealer {
            cipher: key.map(|k| XChaCha20Poly1305::new(&k.0.into())),
        }
    }

    /// The stored form of `secret` belonging to `owner` (plaintext without a key).
    pub fn seal(&self, owner: &str, secret: &str) -> String {
        let Some(cipher) = &self.cipher else {
            return secret.to_owned();
        };
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: owner.as_bytes(),
        };
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .expect("XChaCha20-Poly1305 seals any message of this size");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", BASE64.encode(bytes))
    }

    /// The secret behind a stored value of `owner`; a clear error when it is sealed and
    /// there is no key, or the key is not the one it was sealed with.
    pub fn open(&self, owner: &str, stored: &str) -> Result<String, StoreError> {
        let Some(encoded) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(stored.to_owned());
        };
        let Some(cipher) = &self.cipher else {
            return Err(StoreError::Secrets(format!(
                "the secret of {owner} is encrypted but no secrets_key is configured: set \
                 secrets_key (TRICKLE_SECRETS_KEY) to the key it was encrypted with"
            )));
        };
        let wrong_key = || {
            StoreError::Secrets(format!(
                "the configured secrets_key does not decrypt the secret of {owner}: it is not \
                 the key the secret was encrypted with (or the stored value was altered)"
            ))
        };
        let bytes = BASE64.decode(encoded).map_err(|_| wrong_key())?;
        if bytes.len() < NONCE_BYTES {
            return Err(wrong_key());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let payload = Payload {
            msg: sealed,
            aad: owner.as_bytes(),
        };
        let plain = cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| wrong_key())?;
        String::from_utf8(plain).map_err(|_| wrong_key())
    }

    /// Whether a stored value is plaintext that this sealer would encrypt.
    pub fn needs_sealing(&self, stored: &str) -> bool {
        self.cipher.is_some() && !stored.starts_with(SEALED_PREFIX)
    }
}

/// Whom a site's identity secret (current or previous) belongs to, for sealing.
pub fn identity_secret_owner(site_id: &str) -> String {
    format!("site:{site_id}:identity_secret")
}

/// Whom a webhook secret belongs to, for sealing.
pub fn webhook_secret_owner(site_id: &str, subscription_id: &str) -> String {
    format!("webhook:{site_id}:{subscription_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretsKey {
        SecretsKey([byte; 32])
    }

    #[test]
    fn sealed_values_open_with_their_key_and_owner_only() {
        let sealer = Sealer::new(Some(&key(1)));
        let sealed = sealer.seal("site:a:identity_secret", "s3cret");
        assert!(sealed.starts_with(SEALED_PREFIX) && !sealed.contains("s3cret"));
        assert_ne!(
            sealed,
            sealer.seal("site:a:identity_secret", "s3cret"),
            "random nonce"
        );
        assert_eq!(
            sealer.open("site:a:identity_secret", &sealed).unwrap(),
            "s3cret"
        );
        let moved = sealer.open("site:b:identity_secret", &sealed).unwrap_err();
        assert!(moved.to_string().contains("does not decrypt"), "{moved}");
        let wrong = Sealer::new(Some(&key(2)));
        let error = wrong.open("site:a:identity_secret", &sealed).unwrap_err();
        assert!(
            error.to_string().contains("secrets_key does not decrypt"),
            "{error}"
        );
        let keyless = Sealer::new(None)
            .open("site:a:identity_secret", &sealed)
            .unwrap_err();
        assert!(keyless.to_string().contains("no secrets_key"), "{keyless}");
    }

    #[test]
    fn plaintext_reads_as_before_and_is_marked_for_sealing() {
        let keyed = Sealer::new(Some(&key(1)));
        assert_eq!(keyed.open("o", "plain").unwrap(), "plain");
        assert!(keyed.needs_sealing("plain"));
        assert!(!keyed.needs_sealing(&keyed.seal("o", "plain")));
        let keyless = Sealer::new(None);
        assert_eq!(keyless.seal("o", "plain"), "plain");
        assert!(!keyless.needs_sealing("plain"));
    }

    #[test]
    fn keys_parse_from_hex_or_base64_and_nothing_else() {
        let hex = "00".repeat(31) + "ff";
        assert_eq!(SecretsKey::parse(&hex).unwrap().0[31], 0xff);
        let b64 = BASE64.encode([7u8; 32]);
        assert_eq!(SecretsKey::parse(&b64).unwrap().0, [7u8; 32]);
        for bad in ["", "short", &"00".repeat(31), &BASE64.encode([7u8; 16])] {
            let error = SecretsKey::parse(bad).unwrap_err().to_string();
            assert!(error.contains("32 bytes"), "{bad}: {error}");
        }
        assert!(!format!("{:?}", key(9)).contains('9'));
    }
}
