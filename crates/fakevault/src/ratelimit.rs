//! The rate limiter of the recorded 2024 build (`@fastify/rate-limit`, no
//! licence): fixed 60 s windows counted per method + route pattern + client
//! IP, where the client IP is the first `X-Forwarded-For` entry. Limits by
//! route class, as recorded: 40/min on the raw secrets routes and on folder
//! and import writes, 60/min on other reads, 200/min on login, token and
//! identity-management writes. Failed authentication is answered before the
//! limiter and not counted. Off unless [`crate::FakeVault::rate_limits`]
//! turns it on: tests share one client address.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::Method;

use super::lock;

const WINDOW: Duration = Duration::from_secs(60);
const SECRETS: u32 = 40;
const READS: u32 = 60;
const WRITES: u32 = 200;

/// What a counted request is told in its `x-ratelimit-*` headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RateInfo {
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    pub(crate) reset_secs: u64,
    pub(crate) refused: bool,
}

#[derive(Default)]
pub(crate) struct Limiter {
    buckets: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Limiter {
    /// Counts a request of `method` on `path` from `client_ip`; `None` for a
    /// route the limiter does not cover.
    pub(crate) fn hit(&self, method: &Method, path: &str, client_ip: &str) -> Option<RateInfo> {
        let (pattern, limit) = route_limit(method, path)?;
        let key = format!("{method}{pattern}-{client_ip}");
        let now = Instant::now();
        let mut buckets = lock(&self.buckets);
        let bucket = buckets.entry(key).or_insert((now, 0));
        if now.duration_since(bucket.0) >= WINDOW {
            *bucket = (now, 0);
        }
        bucket.1 = bucket.1.saturating_add(1);
        let left = WINDOW.saturating_sub(now.duration_since(bucket.0));
        Some(RateInfo {
            limit,
            remaining: limit.saturating_sub(bucket.1),
            reset_secs: left.as_secs() + u64::from(left.subsec_nanos() > 0),
            refused: bucket.1 > limit,
        })
    }
}

/// The bucket's route pattern and per-minute limit of a request.
pub(crate) fn route_limit(method: &Method, path: &str) -> Option<(String, u32)> {
    let path = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    let read_or = |write: u32| if method == Method::GET { READS } else { write };
    let limit = match segs.as_slice() {
        ["api", "v3", "secrets", "raw"] | ["api", "v3", "secrets", "raw", _] => SECRETS,
        ["api", "v3", "secrets", "tags", _] => WRITES,
        ["api", "v1", "folders", ..] | ["api", "v1", "secret-imports", ..] => read_or(SECRETS),
        ["api", "v1", "auth", "universal-auth", "login"]
        | ["api", "v1", "auth", "token", "renew" | "revoke"] => WRITES,
        ["api", "v1" | "v2", "workspace", _] => READS,
        ["api", "v1", "workspace", _, "tags", ..]
        | ["api", "v1", "identities", ..]
        | ["api", "v1", "auth", "universal-auth", "identities", ..]
        | ["api", "v2", "workspace", _, "identity-memberships", ..]
        | ["api", "v1", "additional-privilege", ..]
        | ["api", "v2", "organizations", _, "identity-memberships", ..] => read_or(WRITES),
        _ => return None,
    };
    // One bucket per route pattern: the last segment of an item route is a
    // parameter (a secret name, an id).
    let pattern = match segs.as_slice() {
        ["api", "v3", "secrets", "raw", _] => "/api/v3/secrets/raw/:secretName".to_owned(),
        ["api", "v1", "folders", _] => "/api/v1/folders/:id".to_owned(),
        _ => path.to_owned(),
    };
    Some((pattern, limit))
}

/// The caller's address as this build sees it: the first `X-Forwarded-For`
/// entry, else the peer.
pub(crate) fn client_ip(forwarded_for: Option<&str>, peer: &str) -> String {
    forwarded_for
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or(peer)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bucket_per_method_route_pattern_and_ip() {
        let limiter = Limiter::default();
        let get = |path: &str, ip: &str| limiter.hit(&Method::GET, path, ip);
        for _ in 0..40 {
            assert_eq!(
                get("/api/v3/secrets/raw/A", "ip1").map(|i| i.refused),
                Some(false)
            );
        }
        assert_eq!(get("/api/v3/secrets/raw/B", "ip1").map(|i| i.refused), Some(true));
        assert_eq!(
            get("/api/v3/secrets/raw/A", "ip2").map(|i| i.refused),
            Some(false)
        );
        assert_eq!(
            get("/api/v3/secrets/raw", "ip1").map(|i| (i.limit, i.refused)),
            Some((40, false))
        );
        let post = limiter.hit(&Method::POST, "/api/v3/secrets/raw/A", "ip1");
        assert_eq!(post.map(|i| i.refused), Some(false));
        assert_eq!(get("/api/v1/folders", "ip1").map(|i| i.limit), Some(60));
        assert_eq!(get("/api/status", "ip1"), None);
    }

    #[test]
    fn the_first_forwarded_address_is_the_client() {
        assert_eq!(client_ip(Some("10.0.0.1, 10.0.0.2"), "127.0.0.1"), "10.0.0.1");
        assert_eq!(client_ip(None, "127.0.0.1"), "127.0.0.1");
    }
}
