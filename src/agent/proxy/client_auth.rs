//! The client token non-loopback clients present when the proxy runs with
//! `--allow-remote` (`INFISICAL_PROXY_TOKEN`): without it, anyone who can
//! reach the port would borrow the Cloudflare Access service token.
//!
//! Both sides are hashed (SHA-256) and the digests compared without an early
//! exit, so neither the position of the first wrong byte nor the token's
//! length shows in the time an answer takes.

use ring::digest::{SHA256, digest};
use secrecy::{ExposeSecret, SecretString};

/// The variable holding the token; environment only, so that it never
/// shows in `ps` or a shell history.
pub const CLIENT_TOKEN_VAR: &str = "INFISICAL_PROXY_TOKEN";

/// Shorter tokens are refused at start-up: guessable over the network.
pub const MIN_TOKEN_LEN: usize = 16;

/// Whether `presented` is the configured token.
pub fn same_token(presented: &str, expected: &SecretString) -> bool {
    let a = digest(&SHA256, presented.as_bytes());
    let b = digest(&SHA256, expected.expose_secret().as_bytes());
    a.as_ref()
        .iter()
        .zip(b.as_ref())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The token a client presented: in `own_header` (the proxy's
/// `X-Proxy-Token`, the broker's `X-Broker-Token`), else as
/// `Proxy-Authorization: Bearer …`, trimmed; `None` when neither is there.
pub fn presented_token<'h>(headers: &'h hyper::HeaderMap, own_header: &str) -> Option<&'h str> {
    headers
        .get(own_header)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .or_else(|| {
            headers
                .get(hyper::header::PROXY_AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    let (scheme, rest) = v.trim().split_once(' ')?;
                    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_matches() {
        let t = SecretString::from("proxy-token-0123456789abcdef");
        assert!(same_token("proxy-token-0123456789abcdef", &t));
        for wrong in [
            "",
            "proxy-token-0123456789abcde",
            "proxy-token-0123456789abcdef0",
            "Proxy-token-0123456789abcdef",
        ] {
            assert!(!same_token(wrong, &t), "{wrong}");
        }
    }
}
