//! Which address a request comes from, for rate limits on logins and codes. Behind a reverse
//! proxy every request seems to come from the proxy, and `X-Forwarded-For` can be sent by
//! anyone; so only a trusted proxy's word is taken. The middleware leaves exactly one
//! `X-Forwarded-For` value on the request: the client address it believes.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};

use crate::app::AppState;

const FORWARDED_FOR: &str = "x-forwarded-for";

/// A trusted proxy: one address or a CIDR block (`10.0.0.0/8`, `fd00::/8`).
fn in_block(ip: IpAddr, block: &str) -> bool {
    let (base, bits) = match block.split_once('/') {
        Some((base, bits)) => (base, bits.parse::<u32>().ok()),
        None => (block, None),
    };
    let Ok(base) = base.trim().parse::<IpAddr>() else { return false };
    let to_bits = |ip: IpAddr| -> (u128, u32) {
        match ip {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
            IpAddr::V6(v6) => (u128::from(v6), 128),
        }
    };
    let (ip, ip_width) = to_bits(ip.to_canonical());
    let (base, base_width) = to_bits(base.to_canonical());
    if ip_width != base_width {
        return false;
    }
    let bits = bits.unwrap_or(base_width).min(base_width);
    let shift = base_width - bits;
    shift >= 128 || (ip >> shift) == (base >> shift)
}

/// The client's address: the peer itself, unless the peer is a trusted proxy — then the
/// nearest hop in `X-Forwarded-For` that is not one of our proxies.
pub fn client_address(peer: Option<IpAddr>, forwarded_for: Option<&str>, trusted: &[String]) -> String {
    let trusted_ip = |ip: IpAddr| trusted.iter().any(|block| in_block(ip, block));
    let Some(peer) = peer else { return "unknown".to_owned() };
    if !trusted_ip(peer) {
        return peer.to_canonical().to_string();
    }
    let hops: Vec<&str> = forwarded_for.unwrap_or("").split(',').map(str::trim).filter(|h| !h.is_empty()).collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted_ip(ip) => continue,
            Ok(ip) => return ip.to_canonical().to_string(),
            // not an address: the chain cannot be followed further back
            Err(_) => break,
        }
    }
    peer.to_canonical().to_string()
}

pub async fn normalise_forwarded_for(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    let forwarded: Vec<String> =
        request.headers().get_all(FORWARDED_FOR).iter().filter_map(|v| v.to_str().ok().map(str::to_owned)).collect();
    let joined = forwarded.join(",");
    let client = client_address(peer, Some(&joined), &state.settings.web.trusted_proxies);
    let headers = request.headers_mut();
    headers.remove(FORWARDED_FOR);
    if let Ok(value) = HeaderValue::from_str(&client) {
        headers.insert(FORWARDED_FOR, value);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn only_trusted_proxies_are_believed() {
        let trusted = vec!["127.0.0.1".to_owned(), "10.0.0.0/8".to_owned()];
        // a client talking to us directly cannot claim another address
        assert_eq!(client_address(ip("203.0.113.9"), Some("1.2.3.4"), &trusted), "203.0.113.9");
        // behind our proxy: the proxy's appended hop counts, not what the client sent before it
        assert_eq!(client_address(ip("10.1.2.3"), Some("1.2.3.4, 198.51.100.7"), &trusted), "198.51.100.7");
        // several of our proxies in a row are skipped
        assert_eq!(client_address(ip("127.0.0.1"), Some("198.51.100.7, 10.0.0.5"), &trusted), "198.51.100.7");
        // a proxy that forwarded nothing: the proxy is all we know
        assert_eq!(client_address(ip("127.0.0.1"), None, &trusted), "127.0.0.1");
        assert_eq!(client_address(None, Some("1.2.3.4"), &trusted), "unknown");
    }

    #[test]
    fn blocks_match_by_prefix() {
        assert!(in_block("10.200.0.1".parse().unwrap(), "10.0.0.0/8"));
        assert!(!in_block("11.0.0.1".parse().unwrap(), "10.0.0.0/8"));
        assert!(in_block("::ffff:10.0.0.1".parse().unwrap(), "10.0.0.0/8"));
        assert!(in_block("fd00::1".parse().unwrap(), "fd00::/8"));
        assert!(!in_block("fe80::1".parse().unwrap(), "fd00::/8"));
        assert!(in_block("192.0.2.1".parse().unwrap(), "0.0.0.0/0"));
        assert!(!in_block("192.0.2.1".parse().unwrap(), "not-an-ip"));
    }
}
