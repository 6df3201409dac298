//! Whether the proxy's upstream is the proxy itself.
//!
//! The stock `infisical` CLI is pointed at the proxy with `INFISICAL_API_URL`
//! or `INFISICAL_DOMAIN`; a proxy that took its upstream from the same
//! variable, in the same shell, would forward every request to itself until
//! the call timeout. The upstream's host is resolved (a loopback name to both
//! loopback addresses, an IP literal as itself, any other name through the
//! system resolver, and only when its port is the proxy's) and compared with
//! the listening address, wildcard listeners included: `0.0.0.0` and `::`
//! accept what is sent to a loopback address too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use url::Url;

use super::policy::is_loopback_name;

/// Whether a connection to `upstream` reaches a listener on `listen`.
fn meets(upstream: SocketAddr, listen: SocketAddr) -> bool {
    if upstream.port() != listen.port() {
        return false;
    }
    let (to, on) = (upstream.ip().to_canonical(), listen.ip().to_canonical());
    to == on
        // A wildcard listener takes what is sent to this machine.
        || (on.is_unspecified() && (to.is_loopback() || to.is_unspecified()))
        // Connecting to the unspecified address reaches this machine.
        || (to.is_unspecified() && on.is_loopback())
}

/// The addresses a request to `url` may be sent to, as far as they can
/// matter to a listener on port `port`: names are resolved only when the
/// port is the same, so a vault elsewhere costs no lookup.
fn addresses(url: &Url, port: u16) -> Vec<SocketAddr> {
    let Some(upstream_port) = url.port_or_known_default() else {
        return Vec::new();
    };
    match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), upstream_port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), upstream_port)],
        Some(url::Host::Domain(name)) if is_loopback_name(name) => vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), upstream_port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), upstream_port),
        ],
        Some(url::Host::Domain(name)) if upstream_port == port => (name, upstream_port)
            .to_socket_addrs()
            .map(Iterator::collect)
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Whether sending to `upstream` would come back to a proxy listening on
/// `listen`. Port 0 (chosen when bound) is checked again once bound.
pub fn loops_back(upstream: &Url, listen: SocketAddr) -> bool {
    if listen.port() == 0 {
        return false;
    }
    addresses(upstream, listen.port())
        .into_iter()
        .any(|to| meets(to, listen))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn loops(upstream: &str, listen: &str) -> bool {
        loops_back(&Url::parse(upstream).unwrap(), listen.parse().unwrap())
    }

    #[test]
    fn the_same_address_in_any_spelling_is_a_loop() {
        for (upstream, listen) in [
            ("http://127.0.0.1:2019", "127.0.0.1:2019"),
            ("http://localhost:2019/api", "127.0.0.1:2019"),
            ("http://LOCALHOST.:2019", "[::1]:2019"),
            ("http://vault.localhost:2019", "127.0.0.1:2019"),
            ("http://[::1]:2019", "[::1]:2019"),
            ("http://[::ffff:127.0.0.1]:2019", "127.0.0.1:2019"),
            ("http://127.0.0.1:2019", "0.0.0.0:2019"),
            ("http://localhost:2019", "[::]:2019"),
            ("http://0.0.0.0:2019", "127.0.0.1:2019"),
            ("http://127.0.0.1", "127.0.0.1:80"),
            ("https://localhost", "127.0.0.1:443"),
        ] {
            assert!(loops(upstream, listen), "{upstream} vs {listen}");
        }
    }

    #[test]
    fn another_port_or_address_is_not() {
        for (upstream, listen) in [
            ("http://127.0.0.1:2019", "127.0.0.1:2020"),
            ("http://127.0.0.2:2019", "127.0.0.1:2019"),
            ("https://vault.example.com", "127.0.0.1:2019"),
            ("http://localhost:8080", "127.0.0.1:2019"),
            ("http://127.0.0.1:2019", "127.0.0.1:0"),
            ("http://10.0.0.5:2019", "127.0.0.1:2019"),
        ] {
            assert!(!loops(upstream, listen), "{upstream} vs {listen}");
        }
    }
}
