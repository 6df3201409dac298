//! A rule's credential: read from the vault, placed into the upstream
//! request as the rule says, and the redactor that takes it back out.
//!
//! Values are read through the shared vault client (its login, cache and
//! coalescing of identical reads), or minted from a GitHub App bot's folder
//! ([`super::github`]); `fresh` skips the cache after an upstream refused
//! the value. The redactor is built once per value and reused while
//! the value stays the same (compared by SHA-256, never kept in clear
//! outside the `SecretString`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hyper::header::{self, HeaderMap, HeaderValue};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use ring::digest::{SHA256, digest};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::error::BrokerError;
use super::github::AppTokens;
use super::redact::{Redactor, Sensitive};
use super::rules::{BasicUser, Inject, Rule, SecretRef, Source};
use crate::vault::{ReadOptions, VaultClient};

/// The values of one rule at one moment.
pub struct Credential {
    /// The rule's secret, and the basic password secret if any.
    values: Vec<SecretString>,
    pub redactor: Arc<Redactor>,
    fingerprint: Vec<u8>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("values", &self.values.len())
            .finish()
    }
}

impl Credential {
    /// Whether `other` holds the same values (a re-read found no rotation).
    pub fn same_as(&self, other: &Credential) -> bool {
        self.fingerprint == other.fingerprint
    }
}

/// A rule's redactor and the fingerprint of the values it was built for.
type Built = (Vec<u8>, Arc<Redactor>);

/// Redactors by rule, kept while the rule's values stay the same.
#[derive(Default)]
pub struct Redactors {
    by_rule: Mutex<HashMap<String, Built>>,
}

async fn read_one(
    vault: &VaultClient,
    rule: &Rule,
    at: &SecretRef,
    fresh: bool,
) -> Result<SecretString, BrokerError> {
    let location = at.location();
    let options = ReadOptions::default();
    let read = if fresh {
        vault.read_secret_fresh(&location, &at.key, options).await
    } else {
        vault
            .read_secret(&location, &at.key, options)
            .await
            .map(|s| s.value)
    };
    let secret = read.map_err(|e| BrokerError::Vault {
        rule: rule.name.clone(),
        kind: e.kind(),
        hint: e.hint(),
    })?;
    if secret.secret_value_hidden || secret.secret_value.expose_secret().is_empty() {
        return Err(BrokerError::Vault {
            rule: rule.name.clone(),
            kind: "empty_value",
            hint: format!(
                "{at} is empty or its value is hidden from this identity; give the identity read access to the value"
            ),
        });
    }
    Ok(secret.secret_value)
}

/// `user:password` for a basic rule.
fn basic_pair(rule: &Rule, values: &[SecretString]) -> Option<Zeroizing<String>> {
    let Inject::Basic(user) = &rule.inject else {
        return None;
    };
    let first = values.first()?.expose_secret();
    Some(Zeroizing::new(match user {
        BasicUser::Fixed(name) => format!("{name}:{first}"),
        BasicUser::PasswordSecret(_) => format!("{first}:{}", values.get(1)?.expose_secret()),
    }))
}

impl Redactors {
    /// Reads (or mints) the rule's values and finds (or builds) their redactor.
    pub async fn read(
        &self,
        vault: &VaultClient,
        tokens: &AppTokens,
        rule: &Rule,
        fresh: bool,
    ) -> Result<Credential, BrokerError> {
        let mut values = Vec::new();
        match &rule.source {
            Source::GithubApp(app) => values.push(tokens.token(vault, rule, app, fresh).await?),
            Source::Secret(_) => {
                for at in rule.secrets() {
                    values.push(read_one(vault, rule, at, fresh).await?);
                }
            }
        }
        let mut joined = Zeroizing::new(Vec::new());
        for v in &values {
            joined.extend_from_slice(v.expose_secret().as_bytes());
            joined.push(0);
        }
        let fingerprint = digest(&SHA256, &joined).as_ref().to_vec();
        if let Some(redactor) = self.by_rule.lock().ok().and_then(|m| {
            m.get(&rule.name)
                .filter(|(f, _)| *f == fingerprint)
                .map(|(_, r)| r.clone())
        }) {
            return Ok(Credential {
                values,
                redactor,
                fingerprint,
            });
        }
        let keys = rule.value_labels();
        let sensitive: Vec<Sensitive<'_>> = values
            .iter()
            .zip(&keys)
            .map(|(v, key)| Sensitive {
                value: v.expose_secret(),
                key,
            })
            .collect();
        let pair = basic_pair(rule, &values);
        let redactor = Arc::new(Redactor::new(
            &sensitive,
            pair.as_ref()
                .map(|p| (p.as_str(), keys.first().copied().unwrap_or_default())),
        )?);
        if let Ok(mut m) = self.by_rule.lock() {
            m.insert(rule.name.clone(), (fingerprint.clone(), redactor.clone()));
        }
        Ok(Credential {
            values,
            redactor,
            fingerprint,
        })
    }
}

/// Puts the credential into the request: a header (replacing any of that
/// name the client sent, in any case), `Authorization: Basic`, or a query
/// parameter (replacing any the client sent). Returns the query to send.
pub fn apply(
    rule: &Rule,
    credential: &Credential,
    headers: &mut HeaderMap,
    query: Option<&str>,
) -> Result<Option<String>, BrokerError> {
    let bad = || BrokerError::BadValue(rule.name.clone());
    let first = credential.values.first().ok_or_else(bad)?.expose_secret();
    match &rule.inject {
        Inject::Header { name, prefix, suffix } => {
            let text = Zeroizing::new(format!("{prefix}{first}{suffix}"));
            let mut value = HeaderValue::from_str(&text).map_err(|_| bad())?;
            value.set_sensitive(true);
            headers.remove(name);
            headers.insert(name.clone(), value);
            Ok(query.map(str::to_string))
        }
        Inject::Basic(_) => {
            let pair = basic_pair(rule, &credential.values).ok_or_else(bad)?;
            let text = Zeroizing::new(format!("Basic {}", STANDARD.encode(pair.as_bytes())));
            let mut value = HeaderValue::from_str(&text).map_err(|_| bad())?;
            value.set_sensitive(true);
            headers.remove(header::AUTHORIZATION);
            headers.insert(header::AUTHORIZATION, value);
            Ok(query.map(str::to_string))
        }
        Inject::Query { param } => {
            let mut kept: Vec<&str> = query
                .unwrap_or("")
                .split('&')
                .filter(|pair| !pair.is_empty())
                .filter(|pair| {
                    let name = pair.split('=').next().unwrap_or("");
                    let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
                    !decoded.eq_ignore_ascii_case(param)
                })
                .collect();
            let injected = format!("{param}={}", utf8_percent_encode(first, NON_ALPHANUMERIC));
            kept.push(&injected);
            Ok(Some(kept.join("&")))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::agent::broker::rules::Rules;

    fn credential(values: &[&str]) -> Credential {
        let values: Vec<SecretString> = values.iter().map(|v| SecretString::from(v.to_string())).collect();
        let sensitive: Vec<Sensitive<'_>> = values
            .iter()
            .map(|v| Sensitive {
                value: v.expose_secret(),
                key: "K",
            })
            .collect();
        let redactor = Arc::new(Redactor::new(&sensitive, None).unwrap());
        Credential {
            values,
            redactor,
            fingerprint: vec![],
        }
    }

    fn rule(inject: &str) -> Rule {
        let text = format!(
            "[[rule]]\nname = \"r\"\nupstream = \"https://a.example.com\"\nsecret = \"dev:/K\"\npaths = [\"/**\"]\n{inject}"
        );
        Rules::parse(&text, "f", Some("p")).unwrap().rules.remove(0)
    }

    #[test]
    fn the_injected_header_replaces_the_clients_in_any_case() {
        let mut headers = HeaderMap::new();
        headers.insert("X-Api-Key", HeaderValue::from_static("client-chosen"));
        headers.append("x-api-key", HeaderValue::from_static("second"));
        let r = rule("header = \"X-API-KEY\"\ntemplate = \"Token {};\"");
        apply(&r, &credential(&["v4lue"]), &mut headers, None).unwrap();
        let all: Vec<_> = headers.get_all("x-api-key").iter().collect();
        assert_eq!(all, vec!["Token v4lue;"]);
        assert!(all[0].is_sensitive());
    }

    #[test]
    fn basic_and_query_injection() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer mine"));
        apply(
            &rule("basic_user = \"bot\""),
            &credential(&["pw"]),
            &mut headers,
            None,
        )
        .unwrap();
        assert_eq!(
            headers["authorization"],
            format!("Basic {}", STANDARD.encode("bot:pw"))
        );
        let q = apply(
            &rule("query = \"api_key\""),
            &credential(&["a b&c"]),
            &mut HeaderMap::new(),
            Some("x=1&API_KEY=mine&api%5Fkey=again&y=2"),
        )
        .unwrap();
        assert_eq!(q.as_deref(), Some("x=1&y=2&api_key=a%20b%26c"));
    }

    #[test]
    fn values_unfit_for_a_header_are_refused() {
        let r = rule("header = \"X-Key\"");
        let e = apply(&r, &credential(&["line\nbreak"]), &mut HeaderMap::new(), None).unwrap_err();
        assert!(!e.to_string().contains("line"));
    }
}
