//! What the MCP server knows of the broker (`serve --broker-rules FILE`):
//! which secrets are brokered, so that `list-secrets` can say where to use
//! them, and which are `use_only`, so that `get-secret` refuses their value
//! and points at the broker URL instead.

use std::path::Path;

use super::error::BrokerError;
use super::rules::{Rule, Rules};
use crate::config::EnvSource;
use crate::scope::SecretPath;

/// Where agents reach the broker; the MCP server cannot know the broker's
/// `--listen`, so it is told (or assumes the default).
pub const BROKER_URL_VAR: &str = "INFISICAL_BROKER_URL";
pub const DEFAULT_BROKER_URL: &str = "http://127.0.0.1:2020";

#[derive(Debug)]
pub struct Brokered {
    rules: Rules,
    base_url: String,
}

/// A `use_only` secret's refusal, for the tool error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseOnly {
    pub rule: String,
    pub url: String,
    pub curl: String,
}

impl Brokered {
    pub fn load(
        path: &Path,
        default_project: Option<&str>,
        env: &dyn EnvSource,
    ) -> Result<Self, BrokerError> {
        let rules = Rules::load(path, default_project)?;
        let base_url = env
            .var(BROKER_URL_VAR)
            .unwrap_or_else(|| DEFAULT_BROKER_URL.to_string())
            .trim()
            .trim_end_matches('/')
            .to_string();
        Ok(Self { rules, base_url })
    }

    pub fn new(rules: Rules, base_url: &str) -> Self {
        Self {
            rules,
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    fn prefix(&self, rule: &Rule) -> String {
        format!("{}/{}/", self.base_url, rule.name)
    }

    /// The rule that brokers `key` in `environment:folder`, if any.
    pub fn rule_for(&self, environment: &str, folder: &str, key: &str) -> Option<&Rule> {
        let folder = SecretPath::parse(folder).ok()?;
        self.rules.rule_for(environment, &folder, key)
    }

    /// `Some` when `get-secret` must not return this secret's value.
    pub fn use_only(&self, environment: &str, folder: &str, key: &str) -> Option<UseOnly> {
        let rule = self.rule_for(environment, folder, key).filter(|r| r.use_only)?;
        let url = self.prefix(rule);
        let example = rule
            .paths
            .first()
            .map(|g| g.literal_prefix().as_str().trim_start_matches('/').to_string())
            .unwrap_or_default();
        let method = rule.methods.first().map_or("GET", |m| m.as_str());
        let token = if std::env::var_os(super::BROKER_TOKEN_VAR).is_some() {
            " -H \"X-Broker-Token: $INFISICAL_BROKER_TOKEN\""
        } else {
            ""
        };
        Some(UseOnly {
            rule: rule.name.clone(),
            curl: format!("curl -X {method}{token} {url}{example}"),
            url,
        })
    }

    /// One note per brokered secret among `keys` (environment, folder, key).
    pub fn notes<'a>(&self, keys: impl Iterator<Item = (&'a str, &'a str, &'a str)>) -> Vec<String> {
        keys.filter_map(|(environment, folder, key)| {
            let rule = self.rule_for(environment, folder, key)?;
            Some(format!(
                "{key} ({environment}:{folder}) brokered: {} at {}{}",
                rule.name,
                self.prefix(rule),
                if rule.use_only {
                    " (use_only: get-secret will not return its value; call the API through that URL)"
                } else {
                    ""
                }
            ))
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn brokered() -> Brokered {
        let rules = Rules::parse(
            "[[rule]]\nname = \"dns\"\nupstream = \"https://api.example.com\"\nsecret = \"prod:/team/DNS_TOKEN\"\n\
             header = \"Authorization\"\ntemplate = \"Bearer {}\"\nmethods = [\"PATCH\"]\npaths = [\"/client/v4/zones/**\"]\nuse_only = true\n\
             [[rule]]\nname = \"maps\"\nupstream = \"https://maps.example.com\"\nsecret = \"dev:/MAPS_KEY\"\nquery = \"key\"\npaths = [\"/**\"]\n",
            "f",
            Some("p"),
        )
        .unwrap();
        Brokered::new(rules, "http://127.0.0.1:2020/")
    }

    #[test]
    fn use_only_secrets_point_at_the_broker() {
        let b = brokered();
        let refusal = b.use_only("prod", "/team", "DNS_TOKEN").unwrap();
        assert_eq!(refusal.url, "http://127.0.0.1:2020/dns/");
        assert!(refusal.curl.starts_with("curl -X PATCH"), "{}", refusal.curl);
        assert!(
            refusal.curl.contains("http://127.0.0.1:2020/dns/client/v4/zones"),
            "{}",
            refusal.curl
        );
        assert!(b.use_only("dev", "/", "MAPS_KEY").is_none());
        assert!(b.use_only("prod", "/team", "OTHER").is_none());
        let notes = b.notes([("dev", "/", "MAPS_KEY"), ("dev", "/", "X")].into_iter());
        assert_eq!(
            notes,
            vec!["MAPS_KEY (dev:/) brokered: maps at http://127.0.0.1:2020/maps/".to_string()]
        );
    }
}
