//! The rules file's fields, each parsed and checked on its own: rule
//! names, secret references, GitHub App folders, origins, templates, and the
//! headers no rule may inject into.

use hyper::header::HeaderName;
use hyper::http::uri::Authority;

use super::{Origin, SecretRef};
use crate::github_app::REQUIRED_KEYS;
use crate::scope::SecretPath;

pub(super) fn is_rule_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// `ENV:/folder/KEY` → its parts; the key is the last segment.
pub fn parse_secret_ref(raw: &str, project: &str) -> Result<SecretRef, String> {
    let form = "write it as ENV:/folder/KEY, e.g. prod:/team/dns/DNS_TOKEN";
    let (environment, path) = split_environment("secret", raw, form)?;
    let (folder, key) = path
        .rsplit_once('/')
        .filter(|(_, key)| !key.is_empty())
        .ok_or_else(|| format!("secret '{}' names no key; {form}", raw.escape_default()))?;
    let folder = SecretPath::parse(if folder.is_empty() { "/" } else { folder })
        .map_err(|e| format!("secret '{}': {e}; {form}", raw.escape_default()))?;
    if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    {
        return Err(format!(
            "secret '{}': '{}' is not a secret key (letters, digits, _ - .)",
            raw.escape_default(),
            key.escape_default()
        ));
    }
    Ok(SecretRef {
        project: project.to_string(),
        environment: environment.to_string(),
        folder,
        key: key.to_string(),
    })
}

/// `ENV:REST` → the environment slug and the rest.
fn split_environment<'a>(what: &str, raw: &'a str, form: &str) -> Result<(&'a str, &'a str), String> {
    let (environment, rest) = raw
        .split_once(':')
        .ok_or_else(|| format!("{what} '{}' has no ':'; {form}", raw.escape_default()))?;
    // Lower case only, as in scope entries: the slug is compared with them.
    if environment.is_empty()
        || !environment
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "{what} '{}': '{}' is not an environment slug; {form}",
            raw.escape_default(),
            environment.escape_default()
        ));
    }
    Ok((environment, rest))
}

/// `ENV:/folder` of a GitHub App bot → its three secrets.
pub(super) fn parse_github_app(raw: &str, project: &str) -> Result<Vec<SecretRef>, String> {
    let form = "write it as ENV:/folder, the folder that holds the bot's APP_ID, INSTALLATION_ID \
                and PRIVATE_KEY_PEM, e.g. prod:/bots/ci-bot";
    let (environment, path) = split_environment("github_app", raw, form)?;
    let folder =
        SecretPath::parse(path).map_err(|e| format!("github_app '{}': {e}; {form}", raw.escape_default()))?;
    Ok(REQUIRED_KEYS
        .iter()
        .map(|key| SecretRef {
            project: project.to_string(),
            environment: environment.to_string(),
            folder: folder.clone(),
            key: (*key).to_string(),
        })
        .collect())
}

/// Where GitHub App tokens are minted: an https URL, with a path for
/// GitHub Enterprise (`https://HOST/api/v3`), never credentials or a query.
pub(super) fn parse_github_api(raw: &str) -> Result<url::Url, String> {
    let form = "give https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise";
    let url = url::Url::parse(raw.trim())
        .map_err(|e| format!("github_api '{}' is not a URL ({e}); {form}", raw.escape_default()))?;
    if url.scheme() != "https"
        || url.host_str().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(format!(
            "github_api '{}' must be https:// with a host and no credentials, query or fragment; {form}",
            raw.escape_default()
        ));
    }
    Ok(url)
}

pub(super) fn parse_origin(raw: &str) -> Result<Origin, String> {
    let form = "give only https://host or https://host:port, e.g. https://api.example.com";
    let url = url::Url::parse(raw.trim())
        .map_err(|e| format!("upstream '{}' is not a URL ({e}); {form}", raw.escape_default()))?;
    if url.scheme() != "https" {
        return Err(format!(
            "upstream '{}' is not https://; {form}",
            raw.escape_default()
        ));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(format!(
            "upstream '{}' carries credentials, a query or a fragment; {form}",
            raw.escape_default()
        ));
    }
    if url.path() != "/" {
        return Err(format!(
            "upstream '{}' has a path; the path belongs in the request (and in `paths`); {form}",
            raw.escape_default()
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| format!("upstream '{}' has no host; {form}", raw.escape_default()))?
        .to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let authority_text = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let authority = Authority::try_from(authority_text.as_str())
        .map_err(|e| format!("upstream '{}': {e}; {form}", raw.escape_default()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    Ok(Origin {
        authority,
        host,
        port,
    })
}

pub(super) fn parse_template(raw: &str) -> Result<(String, String), String> {
    match raw.split_once("{}") {
        Some((prefix, suffix)) if !suffix.contains("{}") => {
            let printable = |s: &str| s.bytes().all(|b| (0x20..0x7f).contains(&b));
            if printable(prefix) && printable(suffix) {
                Ok((prefix.to_string(), suffix.to_string()))
            } else {
                Err(format!(
                    "template '{}' is not printable ASCII",
                    raw.escape_default()
                ))
            }
        }
        _ => Err(format!(
            "template '{}' must hold '{{}}' exactly once, where the value goes (e.g. \"Bearer {{}}\")",
            raw.escape_default()
        )),
    }
}

/// Headers the broker sets or strips itself; a rule may not inject into them.
pub(super) fn is_reserved_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host"
            | "content-length"
            | "transfer-encoding"
            | "connection"
            | "te"
            | "upgrade"
            | "accept-encoding"
            | "proxy-authorization"
            | "x-broker-token"
            | "expect"
            | "keep-alive"
            | "trailer"
    )
}
