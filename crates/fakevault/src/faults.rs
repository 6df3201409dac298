//! Runtime-injectable faults: added latency, failed requests (5xx), rate
//! limiting, and connections closed without a response. Each "next N" fault
//! is a budget consumed by matching requests, optionally only those whose
//! path starts with a prefix, so a test can fail the secret read but not the
//! login before it. A failure *rate* instead fails each matching request
//! independently with a given probability, drawn from a seeded generator so
//! that a run can be replayed.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::lock;

/// Shared, thread-safe fault settings of one running vault.
#[derive(Default)]
pub struct Faults {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    latency: Duration,
    budgets: Vec<Budget>,
    rate: Option<Rate>,
}

/// Every matching request fails with `status` with probability `fraction`.
struct Rate {
    fraction: f64,
    status: u16,
    path_prefix: String,
    rng: StdRng,
}

struct Budget {
    kind: Fault,
    remaining: usize,
    path_prefix: Option<String>,
}

/// What a consumed budget does to the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    Fail(u16),
    RateLimit { retry_after: u64 },
    Drop,
}

impl Faults {
    /// Delay every request (before it is answered) by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.state).latency = latency;
    }

    /// Answer the next `n` requests with `status`. A 500 comes from the vault
    /// (Infisical's JSON body, only for requests past the gate); any other
    /// status comes from the edge, before the gate, as an HTML page.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.push(Fault::Fail(status), n, None);
    }

    /// Like [`Faults::fail_next`], counting only requests under `path_prefix`.
    pub fn fail_next_on(&self, path_prefix: &str, n: usize, status: u16) {
        self.push(Fault::Fail(status), n, Some(path_prefix));
    }

    /// Rate-limit the next `n` requests with `Retry-After: 60`.
    pub fn rate_limit_next(&self, n: usize) {
        self.rate_limit_next_with(n, 60, None);
    }

    /// Rate-limit the next `n` requests (under `path_prefix` if given).
    pub fn rate_limit_next_with(&self, n: usize, retry_after_secs: u64, path_prefix: Option<&str>) {
        self.push(
            Fault::RateLimit {
                retry_after: retry_after_secs,
            },
            n,
            path_prefix,
        );
    }

    /// Close the connection of the next `n` requests without answering.
    pub fn drop_next(&self, n: usize) {
        self.push(Fault::Drop, n, None);
    }

    pub fn drop_next_on(&self, path_prefix: &str, n: usize) {
        self.push(Fault::Drop, n, Some(path_prefix));
    }

    /// From now on, fail each request under `path_prefix` with `status`
    /// with probability `fraction` (0.0 to 1.0), independently, drawing from
    /// a generator seeded with `seed`. Replaces any earlier rate.
    pub fn fail_fraction_on(&self, path_prefix: &str, fraction: f64, status: u16, seed: u64) {
        lock(&self.state).rate = Some(Rate {
            fraction: fraction.clamp(0.0, 1.0),
            status,
            path_prefix: path_prefix.to_owned(),
            rng: StdRng::seed_from_u64(seed),
        });
    }

    /// Remove every fault and the latency.
    pub fn clear(&self) {
        *lock(&self.state) = State::default();
    }

    fn push(&self, kind: Fault, n: usize, path_prefix: Option<&str>) {
        if n > 0 {
            lock(&self.state).budgets.push(Budget {
                kind,
                remaining: n,
                path_prefix: path_prefix.map(str::to_owned),
            });
        }
    }

    pub(crate) fn latency(&self) -> Duration {
        lock(&self.state).latency
    }

    /// Consumes one unit of the first budget of a `wanted` kind that applies
    /// to `path`. `/api/status` is exempt from rate limiting, as Infisical
    /// allow-lists it.
    pub(crate) fn take(&self, path: &str, wanted: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let mut state = lock(&self.state);
        if let Some(rate) = state.rate.as_mut()
            && path.starts_with(&rate.path_prefix)
            && wanted(&Fault::Fail(rate.status))
            && rate.rng.random_bool(rate.fraction)
        {
            return Some(Fault::Fail(rate.status));
        }
        let pos = state.budgets.iter().position(|b| {
            wanted(&b.kind)
                && b.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
                && !(matches!(b.kind, Fault::RateLimit { .. }) && path == "/api/status")
        })?;
        let budget = &mut state.budgets[pos];
        budget.remaining -= 1;
        let kind = budget.kind;
        if budget.remaining == 0 {
            state.budgets.remove(pos);
        }
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_consumed_in_order_and_by_prefix() {
        let f = Faults::default();
        f.fail_next_on("/api/v4", 1, 503);
        f.drop_next(1);
        assert_eq!(
            f.take("/api/v1/auth/universal-auth/login", |_| true),
            Some(Fault::Drop)
        );
        assert_eq!(f.take("/api/v1/x", |_| true), None);
        assert_eq!(f.take("/api/v4/secrets", |_| true), Some(Fault::Fail(503)));
        assert_eq!(f.take("/api/v4/secrets", |_| true), None);
        f.rate_limit_next(1);
        assert_eq!(f.take("/api/status", |_| true), None);
        assert_eq!(
            f.take("/api/v4/secrets", |_| true),
            Some(Fault::RateLimit { retry_after: 60 })
        );
    }

    #[test]
    fn a_failure_rate_is_seeded_and_applies_by_prefix() {
        let draw = |seed| {
            let f = Faults::default();
            f.fail_fraction_on("/api/v3/secrets", 0.3, 500, seed);
            (0..200)
                .map(|_| f.take("/api/v3/secrets/raw/K", |_| true).is_some())
                .collect::<Vec<_>>()
        };
        let a = draw(7);
        assert_eq!(a, draw(7), "the same seed fails the same requests");
        let failed = a.iter().filter(|x| **x).count();
        assert!((30..=90).contains(&failed), "{failed}/200 at 30 %");
        let f = Faults::default();
        f.fail_fraction_on("/api/v3/secrets", 1.0, 500, 1);
        assert_eq!(f.take("/api/v1/auth/universal-auth/login", |_| true), None);
        // Only taken where a 500 is wanted (past the edge).
        assert_eq!(f.take("/api/v3/secrets/raw", |f| *f == Fault::Drop), None);
    }
}
