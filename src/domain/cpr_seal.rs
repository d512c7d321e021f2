//! CPR numbers at rest: sealed with AES-256-GCM under a key from configuration, so a copy
//! of the database (a backup, a dump) does not reveal them. Citizens are found by a keyed
//! hash instead (`secret::keyed_hash`), never by the sealed value.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use super::secret::random_bytes;

/// Marks a sealed value (and its format version, for a later key or algorithm change).
const PREFIX: &str = "v1.";
/// Binds the ciphertext to its purpose: a sealed CPR number cannot pass for anything else.
const AAD: &[u8] = b"budbringer:cpr";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the CPR encryption key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("a sealed CPR number does not open with this key (wrong key, or damaged data)")]
    WontOpen,
}

pub struct CprSealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for CprSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CprSealer(..)")
    }
}

impl CprSealer {
    pub fn new(key: &[u8]) -> Result<Self, SealError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| SealError::BadKey)?;
        Ok(Self { key: LessSafeKey::new(unbound) })
    }

    /// A key given as base64 (standard or URL-safe, padding optional).
    pub fn from_base64(text: &str) -> Result<Self, SealError> {
        let text = text.trim().trim_end_matches('=');
        let bytes = URL_SAFE_NO_PAD.decode(text.replace('+', "-").replace('/', "_")).map_err(|_| SealError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        Self::new(&bytes)
    }

    /// `v1.` + base64url(nonce ‖ ciphertext ‖ tag); a fresh random nonce each time.
    pub fn seal(&self, cpr: &str) -> String {
        let nonce_bytes = random_bytes::<NONCE_LEN>();
        let mut buffer = cpr.as_bytes().to_vec();
        // sealing only fails for inputs beyond GCM's limit (~64 GiB); a CPR number is 10 bytes
        if self
            .key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_bytes), Aad::from(AAD), &mut buffer)
            .is_err()
        {
            buffer.clear();
        }
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&buffer);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// The CPR number in a stored value. Values from before encryption (plain digits) are
    /// returned as they are, so an upgraded database keeps working.
    pub fn open(&self, stored: &str) -> Result<String, SealError> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else { return Ok(stored.to_owned()) };
        let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| SealError::WontOpen)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealError::WontOpen);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::WontOpen)?;
        let mut buffer = sealed.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(AAD), &mut buffer).map_err(|_| SealError::WontOpen)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError::WontOpen)
    }

    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_numbers_open_only_with_their_key_and_reveal_nothing() {
        let sealer = CprSealer::new(&[7u8; 32]).unwrap();
        let a = sealer.seal("0101901234");
        let b = sealer.seal("0101901234");
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("0101901234") && !a.contains("010190"));
        assert_eq!(sealer.open(&a).unwrap(), "0101901234");
        let other = CprSealer::new(&[8u8; 32]).unwrap();
        assert_eq!(other.open(&a), Err(SealError::WontOpen));
        // tampering is detected
        let mut damaged = a.clone().into_bytes();
        let last = damaged.len() - 2;
        damaged[last] = if damaged[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(sealer.open(&String::from_utf8(damaged).unwrap()), Err(SealError::WontOpen));
        // numbers stored before encryption still read
        assert_eq!(sealer.open("0101901234").unwrap(), "0101901234");
    }

    #[test]
    fn keys_come_as_base64_of_32_bytes() {
        let key = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        assert!(CprSealer::from_base64(&key).is_ok());
        assert_eq!(CprSealer::from_base64("c2hvcnQ=").unwrap_err(), SealError::BadKey);
        assert_eq!(CprSealer::from_base64("not base64!").unwrap_err(), SealError::BadKey);
    }
}
