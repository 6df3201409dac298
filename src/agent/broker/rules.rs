//! The rules file: which secret goes to which fixed HTTPS origin, how it is
//! injected, and which methods and paths may use it.
//!
//! ```toml
//! [[rule]]
//! name = "dns"
//! upstream = "https://api.example.com"
//! secret = "prod:/team/dns/DNS_EDIT_TOKEN"
//! header = "Authorization"      # or: query = "api_key"; or: basic_user = "bot"
//! template = "Bearer {}"
//! methods = ["GET", "PATCH"]
//! paths = ["/client/v4/zones/**"]
//! use_only = true
//! ```
//!
//! Everything is checked when the file is read (unknown keys, duplicate
//! names, an upstream with a path or credentials, a template without `{}`,
//! a glob the scope matcher cannot compile), so a rule that loads is one the
//! broker can apply without further checks.

use std::path::Path;

use hyper::Method;
use hyper::header::HeaderName;
use hyper::http::uri::Authority;
use serde::Deserialize;

use super::error::BrokerError;
use crate::scope::{Glob, Scope, SecretPath};

/// The methods a rule allows when it names none: reads only.
const DEFAULT_METHODS: [&str; 2] = ["GET", "HEAD"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    upstream: String,
    secret: String,
    project: Option<String>,
    header: Option<String>,
    template: Option<String>,
    query: Option<String>,
    basic_user: Option<String>,
    basic_password_secret: Option<String>,
    methods: Option<Vec<String>>,
    paths: Vec<String>,
    #[serde(default)]
    use_only: bool,
}

/// Where a secret lives: project, environment, folder and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub project: String,
    pub environment: String,
    pub folder: SecretPath,
    pub key: String,
}

impl std::fmt::Display for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.folder.is_root() {
            write!(f, "{}:/{}", self.environment, self.key)
        } else {
            write!(f, "{}:{}/{}", self.environment, self.folder.as_str(), self.key)
        }
    }
}

/// How the value reaches the upstream.
#[derive(Debug, Clone)]
pub enum Inject {
    /// `header: template` with the value in place of `{}`.
    Header {
        name: HeaderName,
        prefix: String,
        suffix: String,
    },
    /// `?param=value` (percent-encoded), replacing any the client sent.
    Query { param: String },
    /// `Authorization: Basic base64(user:password)`.
    Basic(BasicUser),
}

#[derive(Debug, Clone)]
pub enum BasicUser {
    /// A fixed user name; the rule's secret is the password.
    Fixed(String),
    /// The rule's secret is the user name, this second secret the password.
    PasswordSecret(SecretRef),
}

/// A fixed `https://host[:port]` origin.
#[derive(Debug, Clone)]
pub struct Origin {
    pub authority: Authority,
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "https://{}", self.authority)
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub upstream: Origin,
    pub secret: SecretRef,
    pub inject: Inject,
    pub methods: Vec<Method>,
    pub paths: Vec<Glob>,
    pub use_only: bool,
}

impl Rule {
    /// Every secret the rule reads (one, or two for basic with a password secret).
    pub fn secrets(&self) -> Vec<&SecretRef> {
        let mut out = vec![&self.secret];
        if let Inject::Basic(BasicUser::PasswordSecret(second)) = &self.inject {
            out.push(second);
        }
        out
    }

    pub fn allows_method(&self, method: &Method) -> bool {
        self.methods.contains(method)
    }

    pub fn allows_path(&self, path: &str) -> bool {
        self.paths.iter().any(|g| g.is_match(path))
    }

    pub fn methods_text(&self) -> String {
        self.methods
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn paths_text(&self) -> String {
        self.paths.iter().map(Glob::as_str).collect::<Vec<_>>().join(", ")
    }
}

/// All rules of one file, in file order.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub rules: Vec<Rule>,
}

fn bad(file: &str, rule: &str, problem: impl std::fmt::Display) -> BrokerError {
    BrokerError::Rules(format!("{file}: rule '{rule}': {problem}"))
}

fn is_rule_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// `ENV:/folder/KEY` → its parts; the key is the last segment.
pub fn parse_secret_ref(raw: &str, project: &str) -> Result<SecretRef, String> {
    let form = "write it as ENV:/folder/KEY, e.g. prod:/team/dns/DNS_TOKEN";
    let (environment, path) = raw
        .split_once(':')
        .ok_or_else(|| format!("secret '{}' has no ':'; {form}", raw.escape_default()))?;
    // Lower case only, as in scope entries: the slug is compared with them.
    if environment.is_empty()
        || !environment
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "secret '{}': '{}' is not an environment slug; {form}",
            raw.escape_default(),
            environment.escape_default()
        ));
    }
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

fn parse_origin(raw: &str) -> Result<Origin, String> {
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

fn parse_template(raw: &str) -> Result<(String, String), String> {
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

fn parse_rule(file: &str, raw: RawRule, default_project: Option<&str>) -> Result<Rule, BrokerError> {
    let name = raw.name.clone();
    if !is_rule_name(&name) {
        return Err(BrokerError::Rules(format!(
            "{file}: rule name '{}' must be 1-64 of a-z, 0-9, '-', '_' (it is the first path segment)",
            name.escape_default()
        )));
    }
    let project = raw.project.as_deref().or(default_project).ok_or_else(|| {
        bad(
            file,
            &name,
            "no project: set `project = \"…\"` in the rule or INFISICAL_PROJECT_ID",
        )
    })?;
    let secret = parse_secret_ref(&raw.secret, project).map_err(|e| bad(file, &name, e))?;
    let upstream = parse_origin(&raw.upstream).map_err(|e| bad(file, &name, e))?;

    let ways = [
        raw.header.is_some(),
        raw.query.is_some(),
        raw.basic_user.is_some() || raw.basic_password_secret.is_some(),
    ];
    if ways.iter().filter(|w| **w).count() != 1 {
        return Err(bad(
            file,
            &name,
            "say how the value is sent with exactly one of `header` (+ `template`), `query`, \
             or `basic_user` / `basic_password_secret`",
        ));
    }
    if raw.template.is_some() && raw.header.is_none() {
        return Err(bad(file, &name, "`template` only applies with `header`"));
    }
    let inject = if let Some(header) = &raw.header {
        let header_name = HeaderName::from_bytes(header.trim().as_bytes()).map_err(|_| {
            bad(
                file,
                &name,
                format!("header '{}' is not a header name", header.escape_default()),
            )
        })?;
        if is_reserved_header(&header_name) {
            return Err(bad(
                file,
                &name,
                format!("header '{header_name}' is managed by the broker itself and cannot carry a secret"),
            ));
        }
        let (prefix, suffix) =
            parse_template(raw.template.as_deref().unwrap_or("{}")).map_err(|e| bad(file, &name, e))?;
        Inject::Header {
            name: header_name,
            prefix,
            suffix,
        }
    } else if let Some(param) = &raw.query {
        if param.is_empty()
            || !param
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~[]".contains(&b))
        {
            return Err(bad(
                file,
                &name,
                format!(
                    "query parameter '{}' must be a plain name",
                    param.escape_default()
                ),
            ));
        }
        Inject::Query { param: param.clone() }
    } else {
        match (&raw.basic_user, &raw.basic_password_secret) {
            (Some(user), None) => {
                if user.contains(':') || user.bytes().any(|b| b.is_ascii_control()) {
                    return Err(bad(
                        file,
                        &name,
                        "basic_user may not hold ':' or control characters",
                    ));
                }
                Inject::Basic(BasicUser::Fixed(user.clone()))
            }
            (None, Some(second)) => Inject::Basic(BasicUser::PasswordSecret(
                parse_secret_ref(second, project).map_err(|e| bad(file, &name, e))?,
            )),
            _ => {
                return Err(bad(
                    file,
                    &name,
                    "basic: give `basic_user` (fixed user, the secret is the password) or \
                     `basic_password_secret` (the secret is the user, this one the password), not both",
                ));
            }
        }
    };

    let method_names: Vec<String> = raw
        .methods
        .unwrap_or_else(|| DEFAULT_METHODS.iter().map(|m| (*m).to_string()).collect());
    if method_names.is_empty() {
        return Err(bad(
            file,
            &name,
            "`methods` is empty; list the methods to allow, e.g. [\"GET\"]",
        ));
    }
    let mut methods = Vec::new();
    for m in &method_names {
        let upper = m.trim().to_ascii_uppercase();
        let method = Method::from_bytes(upper.as_bytes()).map_err(|_| {
            bad(
                file,
                &name,
                format!("'{}' is not an HTTP method", m.escape_default()),
            )
        })?;
        if method == Method::CONNECT || method == Method::TRACE {
            return Err(bad(file, &name, format!("{method} can never be brokered")));
        }
        if !methods.contains(&method) {
            methods.push(method);
        }
    }
    if raw.paths.is_empty() {
        return Err(bad(
            file,
            &name,
            "`paths` is empty; list path globs, e.g. [\"/v1/items/**\"] (\"/**\" for all)",
        ));
    }
    let mut paths = Vec::new();
    for p in &raw.paths {
        paths.push(Glob::new(p).map_err(|e| bad(file, &name, format!("path glob: {e}")))?);
    }
    Ok(Rule {
        name,
        upstream,
        secret,
        inject,
        methods,
        paths,
        use_only: raw.use_only,
    })
}

/// Headers the broker sets or strips itself; a rule may not inject into them.
fn is_reserved_header(name: &HeaderName) -> bool {
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

impl Rules {
    /// Reads and checks a rules file.
    pub fn load(path: &Path, default_project: Option<&str>) -> Result<Self, BrokerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| BrokerError::Rules(format!("cannot read the rules file {}: {e}", path.display())))?;
        Self::parse(&text, &path.display().to_string(), default_project)
    }

    /// Parses rules from TOML text; `file` names it in errors.
    pub fn parse(text: &str, file: &str, default_project: Option<&str>) -> Result<Self, BrokerError> {
        let raw: RawFile =
            toml::from_str(text).map_err(|e| BrokerError::Rules(format!("{file}: {}", e.message())))?;
        if raw.rule.is_empty() {
            return Err(BrokerError::Rules(format!(
                "{file}: no [[rule]] tables; see docs/broker.md for the format"
            )));
        }
        let mut rules: Vec<Rule> = Vec::new();
        for r in raw.rule {
            let rule = parse_rule(file, r, default_project)?;
            if rules.iter().any(|x| x.name == rule.name) {
                return Err(BrokerError::Rules(format!(
                    "{file}: two rules are named '{}'",
                    rule.name
                )));
            }
            rules.push(rule);
        }
        Ok(Self { rules })
    }

    pub fn get(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// The first rule that reads a secret outside `scope`, as an error.
    pub fn check_scope(&self, scope: &Scope) -> Result<(), BrokerError> {
        for rule in &self.rules {
            for secret in rule.secrets() {
                if !scope.allows(&secret.environment, &secret.folder) {
                    return Err(BrokerError::OutOfScope {
                        rule: rule.name.clone(),
                        secret: secret.to_string(),
                        scope: scope.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The rule (if any) that reads the secret `key` in `folder` of `environment`.
    pub fn rule_for(&self, environment: &str, folder: &SecretPath, key: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| {
            r.secrets()
                .iter()
                .any(|s| s.environment == environment && &s.folder == folder && s.key == key)
        })
    }
}

#[cfg(test)]
mod tests;
