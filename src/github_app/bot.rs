//! A bot's GitHub App credentials, read from its vault folder in one call:
//! `APP_ID`, `INSTALLATION_ID`, `PRIVATE_KEY_PEM`.
//!
//! One listing with values rather than three single reads, because every
//! agent dispatch mints a token and the vault rate-limits per identity.
//! Imports are not followed: the three secrets live in the bot's own folder
//! (the scope check covers that folder and nothing else).

use secrecy::{ExposeSecret, SecretString};

use super::error::{GithubError, REQUIRED_KEYS};
use crate::vault::{ListOptions, Location, ReadOptions, Secret, SecretList, VaultClient};

/// What the token mint needs; the key stays secret, the ids are not secret.
#[derive(Debug)]
pub struct BotCredentials {
    /// App ID (numeric) or client ID (`Iv…`); either is a valid JWT `iss`.
    pub app_id: String,
    pub installation_id: u64,
    pub private_key_pem: SecretString,
}

/// Logs in, then reads the bot's folder once.
pub async fn read(
    vault: &VaultClient,
    at: &Location,
    cf_configured: bool,
) -> Result<BotCredentials, GithubError> {
    vault.authenticate().await.map_err(|source| GithubError::Login {
        source,
        cf_configured,
    })?;
    let options = ListOptions {
        read: ReadOptions {
            expand_references: true,
            include_imports: false,
        },
        recursive: false,
        with_values: true,
    };
    let list = vault
        .list_secrets(at, options)
        .await
        .map_err(|source| GithubError::Fetch {
            path: at.path.to_string(),
            environment: at.environment.clone(),
            source,
            cf_configured,
        })?;
    tracing::debug!(
        path = %at.path,
        environment = %at.environment,
        secrets = list.secrets.len(),
        "read the bot folder"
    );
    from_list(&list, at)
}

/// A required key's secret: a shared one (identities have no personal
/// secrets, but a listing may still carry both kinds).
fn find<'a>(list: &'a SecretList, key: &str) -> Option<&'a Secret> {
    let mut matching = list.secrets.iter().filter(|s| s.secret_key == key);
    let first = matching.next()?;
    Some(
        std::iter::once(first)
            .chain(matching)
            .find(|s| s.kind.as_deref() != Some("personal"))
            .unwrap_or(first),
    )
}

/// `app-id`, `private_key_pem`, `InstallationId`: a required key spelled
/// another way.
fn normalised(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn near_misses(list: &SecretList, missing: &[&'static str]) -> Vec<(String, &'static str)> {
    let mut found = Vec::new();
    for wanted in missing {
        let target = normalised(wanted);
        for secret in &list.secrets {
            let name = normalised(&secret.secret_key);
            let close = name == target
                || (*wanted == "PRIVATE_KEY_PEM" && (name == "PRIVATEKEY" || name == "PEM"))
                || (*wanted == "INSTALLATION_ID" && name == "INSTALLID");
            if close && secret.secret_key != *wanted {
                found.push((secret.secret_key.clone(), *wanted));
            }
        }
    }
    found
}

fn from_list(list: &SecretList, at: &Location) -> Result<BotCredentials, GithubError> {
    let path = at.path.to_string();
    let found: Vec<(&'static str, Option<&Secret>)> =
        REQUIRED_KEYS.iter().map(|k| (*k, find(list, k))).collect();
    let missing: Vec<&'static str> = found
        .iter()
        .filter(|(_, s)| {
            s.is_none_or(|s| !s.secret_value_hidden && s.secret_value.expose_secret().trim().is_empty())
        })
        .map(|(k, _)| *k)
        .collect();
    if !missing.is_empty() {
        return Err(GithubError::MissingKeys {
            near_misses: near_misses(list, &missing),
            folder_empty: list.secrets.is_empty(),
            path,
            missing,
        });
    }
    let hidden: Vec<&'static str> = found
        .iter()
        .filter(|(_, s)| s.is_some_and(|s| s.secret_value_hidden))
        .map(|(k, _)| *k)
        .collect();
    if !hidden.is_empty() {
        return Err(GithubError::ValuesHidden { path, keys: hidden });
    }
    let value = |key: &str| {
        find(list, key)
            .map(|s| s.secret_value.expose_secret().trim().to_string())
            .unwrap_or_default()
    };

    let app_id = value("APP_ID");
    let app_id_ok = app_id.len() <= 64 && app_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
    if !app_id_ok {
        return Err(GithubError::InvalidValue {
            path,
            key: "APP_ID",
            expected: "a GitHub App ID (digits) or client ID",
        });
    }
    let installation_id = value("INSTALLATION_ID")
        .parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| GithubError::InvalidValue {
            path: path.clone(),
            key: "INSTALLATION_ID",
            expected: "a numeric installation id",
        })?;
    let private_key_pem = find(list, "PRIVATE_KEY_PEM")
        .map(|s| s.secret_value.clone())
        .unwrap_or_else(|| SecretString::from(""));
    Ok(BotCredentials {
        app_id,
        installation_id,
        private_key_pem,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::scope::SecretPath;

    fn list(pairs: &[(&str, &str)]) -> SecretList {
        let secrets: Vec<serde_json::Value> = pairs
            .iter()
            .map(|(k, v)| serde_json::json!({"secretKey": k, "secretValue": v, "type": "shared"}))
            .collect();
        serde_json::from_value(serde_json::json!({ "secrets": secrets })).unwrap()
    }

    fn at() -> Location {
        Location {
            project_id: "p".into(),
            environment: "prod".into(),
            path: SecretPath::parse("/MooseQuest/raxx-dev-bot").unwrap(),
        }
    }

    #[test]
    fn all_three_present() {
        let l = list(&[
            ("APP_ID", " 3501352 "),
            ("INSTALLATION_ID", "42"),
            ("PRIVATE_KEY_PEM", "pem"),
        ]);
        let creds = from_list(&l, &at()).unwrap();
        assert_eq!((creds.app_id.as_str(), creds.installation_id), ("3501352", 42));
    }

    #[test]
    fn missing_keys_are_named_with_their_lookalikes() {
        let l = list(&[("APP_ID", "1"), ("private-key", "pem"), ("installation_id", "2")]);
        let err = from_list(&l, &at()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(
                "bot secrets at /MooseQuest/raxx-dev-bot/ missing keys: INSTALLATION_ID, PRIVATE_KEY_PEM"
            ),
            "{text}"
        );
        assert!(
            text.contains("'private-key' looks like PRIVATE_KEY_PEM"),
            "{text}"
        );
        assert!(
            text.contains("'installation_id' looks like INSTALLATION_ID"),
            "{text}"
        );
    }

    #[test]
    fn an_empty_value_counts_as_missing_and_ids_are_checked() {
        let l = list(&[
            ("APP_ID", ""),
            ("INSTALLATION_ID", "2"),
            ("PRIVATE_KEY_PEM", "pem"),
        ]);
        assert!(matches!(
            from_list(&l, &at()),
            Err(GithubError::MissingKeys { .. })
        ));
        let l = list(&[
            ("APP_ID", "1"),
            ("INSTALLATION_ID", "two"),
            ("PRIVATE_KEY_PEM", "pem"),
        ]);
        assert!(matches!(
            from_list(&l, &at()),
            Err(GithubError::InvalidValue {
                key: "INSTALLATION_ID",
                ..
            })
        ));
        let l = list(&[
            ("APP_ID", "1; rm"),
            ("INSTALLATION_ID", "2"),
            ("PRIVATE_KEY_PEM", "pem"),
        ]);
        assert!(matches!(
            from_list(&l, &at()),
            Err(GithubError::InvalidValue { key: "APP_ID", .. })
        ));
    }
}
