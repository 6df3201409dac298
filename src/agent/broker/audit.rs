//! One audit line per brokered request: time, rule, method, path with query
//! parameter names but no values, status, body bytes returned, latency,
//! outcome, and whether the value was re-read and the request retried.
//! Nothing here can hold a header, a body or a secret.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::audit::AuditLog;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    time: String,
    tool: &'static str,
    rule: &'a str,
    method: &'a str,
    path: &'a str,
    status: u16,
    bytes: u64,
    latency_ms: u64,
    outcome: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    retried: bool,
}

/// `path?a=&b=`: the query's parameter names only.
pub fn path_for_audit(path: &str, query: Option<&str>) -> String {
    match query.filter(|q| !q.is_empty()) {
        None => path.to_string(),
        Some(q) => {
            let names: Vec<String> = q
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let name = p.split('=').next().unwrap_or("");
                    format!(
                        "{}=",
                        percent_encoding::percent_decode_str(name).decode_utf8_lossy()
                    )
                })
                .collect();
            format!("{path}?{}", names.join("&"))
        }
    }
}

/// What is known of a request once its answer starts; written when the
/// body ends.
pub struct Pending {
    pub audit: Option<Arc<AuditLog>>,
    pub rule: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub retried: bool,
}

impl Pending {
    pub fn record(self, bytes: u64, outcome: &str, started: Instant) {
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::info!(
            rule = %self.rule,
            method = %self.method,
            path = %self.path,
            status = self.status,
            bytes,
            latency_ms,
            outcome,
            retried = self.retried,
            "brokered"
        );
        if let Some(audit) = &self.audit {
            audit.record(&Line {
                time: crate::audit::now(),
                tool: "broker",
                rule: &self.rule,
                method: &self.method,
                path: &self.path,
                status: self.status,
                bytes,
                latency_ms,
                outcome,
                retried: self.retried,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_never_reach_the_audit_path() {
        assert_eq!(path_for_audit("/a", None), "/a");
        assert_eq!(path_for_audit("/a", Some("")), "/a");
        assert_eq!(
            path_for_audit("/a", Some("page=2&api%5Fkey=s3cret&flag")),
            "/a?page=&api_key=&flag="
        );
    }
}
