//! Personal reading links: `/l/<token>`, one per delivery. The token is the delivery id and an
//! HMAC of it under a per-installation key, so it cannot be guessed or altered, needs no
//! storage, and the same delivery always gets the same link (a resent message keeps working).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// Which instance key signs reading links.
pub const READING_KEY: &str = "reading-link";

fn mac(key: &[u8], delivery_id: Uuid) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(b"reading-link:");
    mac.update(delivery_id.as_bytes());
    mac
}

/// The token for a delivery's reading link.
pub fn token(key: &[u8], delivery_id: Uuid) -> String {
    format!("{}{}", delivery_id.simple(), URL_SAFE_NO_PAD.encode(mac(key, delivery_id).finalize().into_bytes()))
}

/// The delivery a token belongs to, if the token is genuine (checked in constant time).
pub fn verify(key: &[u8], token: &str) -> Option<Uuid> {
    let (id, tag) = (token.get(..32)?, token.get(32..)?);
    let delivery_id = Uuid::try_parse(id).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    mac(key, delivery_id).verify_slice(&tag).ok().map(|_| delivery_id)
}

/// Makes reading-link URLs for a channel that sends them.
#[derive(Clone, Default)]
pub struct ReadingLinks {
    pub public_url: String,
    pub key: Vec<u8>,
}

impl ReadingLinks {
    pub fn url(&self, delivery_id: Uuid) -> String {
        format!("{}/l/{}", self.public_url.trim_end_matches('/'), token(&self.key, delivery_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_cannot_be_altered() {
        let key = b"0123456789abcdef0123456789abcdef";
        let id = Uuid::now_v7();
        let t = token(key, id);
        assert_eq!(verify(key, &t), Some(id));
        assert_eq!(verify(b"another key", &t), None);
        let other = Uuid::now_v7();
        let forged = format!("{}{}", other.simple(), &t[32..]);
        assert_eq!(verify(key, &forged), None);
        assert_eq!(verify(key, "short"), None);
        assert_eq!(verify(key, &format!("{t}x")), None);
        let links = ReadingLinks { public_url: "https://b.example/".into(), key: key.to_vec() };
        assert_eq!(links.url(id), format!("https://b.example/l/{t}"));
    }
}
