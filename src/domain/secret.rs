//! API keys, keyed hashes and webhook signatures: small, pure crypto helpers.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Prefix that makes a leaked key recognisable to secret scanners.
pub const API_KEY_PREFIX: &str = "bb_";

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// A new API key: 256 random bits. Only its hash is stored.
pub fn new_api_key() -> String {
    format!("{API_KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

/// A key of 256 random bits needs no slow hash: SHA-256 cannot be brute-forced back.
pub fn hash_api_key(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// The first characters of a key, stored to help an administrator tell keys apart.
pub fn api_key_hint(key: &str) -> String {
    key.chars().take(API_KEY_PREFIX.len() + 6).collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Keyed hash used to find a citizen by CPR without a plain index on the number.
pub fn keyed_hash(key: &[u8], value: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac());
    mac.update(value.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// A webhook secret in the Standard Webhooks form: `whsec_` + base64 of 32 random bytes.
pub fn new_webhook_secret() -> String {
    format!("whsec_{}", STANDARD.encode(random_bytes::<32>()))
}

#[derive(Debug, thiserror::Error)]
#[error("a webhook secret is `whsec_` followed by base64 of 24 to 64 bytes")]
pub struct BadWebhookSecret;

/// The signing key inside a `whsec_…` secret.
pub fn webhook_key(secret: &str) -> Result<Vec<u8>, BadWebhookSecret> {
    let encoded = secret.strip_prefix("whsec_").ok_or(BadWebhookSecret)?;
    let key = STANDARD.decode(encoded).map_err(|_| BadWebhookSecret)?;
    if (24..=64).contains(&key.len()) { Ok(key) } else { Err(BadWebhookSecret) }
}

/// `webhook-signature` per the Standard Webhooks spec: `v1,` + base64(HMAC-SHA256(id.ts.body)).
pub fn sign_webhook(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac());
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// `webhook-signature` for a message signed with several keys — during a secret rotation's
/// overlap, the new and the old — one `v1,…` entry per key, separated by spaces, as the
/// Standard Webhooks spec allows: a receiver that knows either secret can verify it.
pub fn sign_webhook_with_keys(keys: &[Vec<u8>], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter().map(|key| sign_webhook(key, msg_id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

/// HMAC accepts keys of any length, so construction cannot fail.
fn unreachable_hmac() -> HmacSha256 {
    unreachable!("HMAC-SHA256 takes keys of any length")
}

/// Compare secrets without leaking, through timing, how much of them matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_are_long_random_and_hash_stably() {
        let a = new_api_key();
        let b = new_api_key();
        assert_ne!(a, b);
        assert!(a.len() >= API_KEY_PREFIX.len() + 43); // 32 bytes in base64url
        assert_eq!(hash_api_key(&a), hash_api_key(&a));
        assert_ne!(hash_api_key(&a), hash_api_key(&b));
    }

    #[test]
    fn webhook_signature_matches_the_standard_webhooks_example() {
        // Test vector from the Standard Webhooks reference libraries.
        let key = webhook_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = sign_webhook(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn several_keys_give_one_signature_each() {
        let (old, new) = (webhook_key(&new_webhook_secret()).unwrap(), webhook_key(&new_webhook_secret()).unwrap());
        let both = sign_webhook_with_keys(&[new.clone(), old.clone()], "msg_1", 1614265330, b"{}");
        let entries: Vec<&str> = both.split(' ').collect();
        assert_eq!(
            entries,
            [sign_webhook(&new, "msg_1", 1614265330, b"{}"), sign_webhook(&old, "msg_1", 1614265330, b"{}")]
        );
        let single = sign_webhook_with_keys(std::slice::from_ref(&new), "msg_1", 1, b"{}");
        assert_eq!(single, sign_webhook(&new, "msg_1", 1, b"{}"));
    }

    #[test]
    fn bad_webhook_secrets_are_refused() {
        assert!(webhook_key("nope").is_err());
        assert!(webhook_key("whsec_!!!").is_err());
        assert!(webhook_key(&new_webhook_secret()).is_ok());
    }
}
