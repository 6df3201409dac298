//! Reading less from the vault: identical concurrent reads share one upstream
//! request (always on), and an optional in-memory cache answers repeats
//! within a TTL and, while the vault is rate limiting, answers from entries
//! up to a maximum staleness.
//!
//! Values stay `SecretString` in memory and are never written anywhere;
//! only successes are cached; entries are bounded in count and bytes.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::Instant;

pub use crate::config::CachePolicy;

/// How a cached value is weighed against the byte bound.
pub(crate) trait Weigh {
    fn weight(&self) -> usize;
}

/// Identical concurrent calls: the first runs, the rest wait for its result.
pub(crate) struct SingleFlight<K, V> {
    calls: Mutex<HashMap<K, broadcast::Sender<V>>>,
}

/// Removes the leader's entry even when its future is dropped mid-flight, so
/// followers notice (their channel closes) and take over.
struct Leader<'a, K: Eq + Hash, V> {
    flight: &'a SingleFlight<K, V>,
    key: Option<K>,
}

impl<K: Eq + Hash, V> Drop for Leader<'_, K, V> {
    fn drop(&mut self) {
        if let (Some(key), Ok(mut calls)) = (self.key.take(), self.flight.calls.lock()) {
            calls.remove(&key);
        }
    }
}

impl<K: Clone + Eq + Hash, V: Clone> SingleFlight<K, V> {
    pub fn new() -> Self {
        Self {
            calls: Mutex::new(HashMap::new()),
        }
    }

    pub async fn run<F, Fut>(&self, key: K, work: F) -> V
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = V>,
    {
        loop {
            // The guard must be gone before any await.
            let joined = self.calls.lock().ok().map(|mut calls| match calls.get(&key) {
                Some(leader) => Some(leader.subscribe()),
                None => {
                    calls.insert(key.clone(), broadcast::channel(1).0);
                    None
                }
            });
            // A poisoned map only loses sharing, never the call itself.
            let Some(waiting) = joined else {
                return work().await;
            };
            match waiting {
                Some(mut rx) => match rx.recv().await {
                    Ok(value) => return value,
                    // The leader was cancelled: try again, perhaps as leader.
                    Err(_) => continue,
                },
                None => {
                    let mut leader = Leader {
                        flight: self,
                        key: Some(key.clone()),
                    };
                    let value = work().await;
                    let sender = leader
                        .key
                        .take()
                        .and_then(|k| self.calls.lock().ok().and_then(|mut calls| calls.remove(&k)));
                    if let Some(sender) = sender {
                        let _ = sender.send(value.clone());
                    }
                    return value;
                }
            }
        }
    }
}

struct Entry<V> {
    value: V,
    stored: Instant,
    weight: usize,
}

/// What a lookup found.
pub(crate) enum Lookup<V> {
    Fresh(V, Duration),
    Stale(V, Duration),
    Miss,
}

pub(crate) struct Cache<K, V> {
    policy: CachePolicy,
    entries: Mutex<HashMap<K, Entry<V>>>,
}

impl<K: Clone + Eq + Hash, V: Clone + Weigh> Cache<K, V> {
    pub fn new(policy: CachePolicy) -> Self {
        Self {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.policy.ttl.is_some()
    }

    pub fn get(&self, key: &K) -> Lookup<V> {
        let Some(ttl) = self.policy.ttl else {
            return Lookup::Miss;
        };
        let Ok(entries) = self.entries.lock() else {
            return Lookup::Miss;
        };
        match entries.get(key) {
            Some(e) => {
                let age = e.stored.elapsed();
                if age < ttl {
                    Lookup::Fresh(e.value.clone(), age)
                } else if age < self.policy.max_stale {
                    Lookup::Stale(e.value.clone(), age)
                } else {
                    Lookup::Miss
                }
            }
            None => Lookup::Miss,
        }
    }

    pub fn put(&self, key: K, value: V) {
        let Some(ttl) = self.policy.ttl else { return };
        let weight = value.weight();
        if weight > self.policy.max_bytes {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let keep_for = ttl.max(self.policy.max_stale);
        entries.retain(|_, e| e.stored.elapsed() < keep_for);
        entries.remove(&key);
        // Oldest first out until the new entry fits both bounds.
        while entries.len() >= self.policy.max_entries
            || entries.values().map(|e| e.weight).sum::<usize>() + weight > self.policy.max_bytes
        {
            let oldest = entries
                .iter()
                .min_by_key(|(_, e)| e.stored)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    entries.remove(&k);
                }
                None => break,
            }
        }
        entries.insert(
            key,
            Entry {
                value,
                stored: Instant::now(),
                weight,
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    impl Weigh for String {
        fn weight(&self) -> usize {
            self.len()
        }
    }

    #[tokio::test]
    async fn concurrent_identical_calls_run_once() {
        let flight = Arc::new(SingleFlight::<&str, u32>::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let (release, gate) = tokio::sync::watch::channel(false);
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (flight, runs, gate) = (flight.clone(), runs.clone(), gate.clone());
                tokio::spawn(async move {
                    flight
                        .run("k", || {
                            let (runs, mut gate) = (runs.clone(), gate.clone());
                            async move {
                                runs.fetch_add(1, Ordering::SeqCst);
                                let _ = gate.wait_for(|open| *open).await;
                                7
                            }
                        })
                        .await
                })
            })
            .collect();
        // Single-threaded test runtime: one yield polls every task once, so
        // all of them have joined the flight before the leader is released.
        tokio::task::yield_now().await;
        release.send(true).unwrap();
        for task in tasks {
            assert_eq!(task.await.unwrap(), 7);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_cache_respects_its_entry_and_byte_bounds() {
        let cache = Cache::new(CachePolicy {
            ttl: Some(Duration::from_secs(60)),
            max_entries: 3,
            max_bytes: 10,
            ..CachePolicy::default()
        });
        for k in 0..5 {
            cache.put(k, "ab".to_string());
        }
        assert_eq!(cache.len(), 3);
        cache.put(9, "0123456789".to_string());
        assert_eq!(cache.len(), 1, "a 10-byte entry leaves room for nothing else");
        cache.put(10, "x".repeat(11));
        assert!(
            matches!(cache.get(&10), Lookup::Miss),
            "larger than the whole cache"
        );
    }

    #[test]
    fn a_disabled_cache_stores_nothing() {
        let cache = Cache::new(CachePolicy::default());
        cache.put(1, "v".to_string());
        assert!(matches!(cache.get(&1), Lookup::Miss));
    }
}
