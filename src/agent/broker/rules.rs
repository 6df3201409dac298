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
//!
//! [[rule]]
//! name = "github"
//! upstream = "https://api.github.com"
//! github_app = "prod:/bots/ci-bot"  # APP_ID, INSTALLATION_ID, PRIVATE_KEY_PEM
//! methods = ["GET", "POST"]
//! paths = ["/repos/acme/app/issues/**"]
//! ```
//!
//! A rule's credential is one secret's value, or (`github_app`) an
//! installation token the broker mints from a GitHub App bot's folder; the
//! token is sent as `Authorization: Bearer …` unless the rule says otherwise.
//!
//! Everything is checked when the file is read (unknown keys, duplicate
//! names, an upstream with a path or credentials, a template without `{}`,
//! a glob the scope matcher cannot compile), so a rule that loads is one the
//! broker can apply without further checks.

use std::path::Path;

mod fields;

use hyper::Method;
use hyper::header::{self, HeaderName};
use hyper::http::uri::Authority;
use serde::Deserialize;

use super::error::BrokerError;
use crate::scope::{Glob, Scope, SecretPath};
use crate::vault::Location;
pub use fields::parse_secret_ref;
use fields::{
    is_reserved_header, is_rule_name, parse_github_api, parse_github_app, parse_origin, parse_template,
};

/// Where GitHub App tokens are minted when a rule names no `github_api`.
pub const DEFAULT_GITHUB_API: &str = "https://api.github.com";
/// The name a minted installation token is redacted under.
pub const INSTALLATION_TOKEN_LABEL: &str = "GITHUB_INSTALLATION_TOKEN";

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
    secret: Option<String>,
    github_app: Option<String>,
    github_api: Option<String>,
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

impl SecretRef {
    /// The folder the secret lives in, as the vault client addresses it.
    pub fn location(&self) -> Location {
        Location {
            project_id: self.project.clone(),
            environment: self.environment.clone(),
            path: self.folder.clone(),
        }
    }
}

/// Where a rule's credential comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A secret's value (and, for basic with a password secret, a second one).
    Secret(SecretRef),
    /// An installation token minted from a GitHub App bot's folder.
    GithubApp(GithubApp),
}

/// A GitHub App bot whose installation tokens a rule sends.
#[derive(Debug, Clone)]
pub struct GithubApp {
    /// `APP_ID`, `INSTALLATION_ID`, `PRIVATE_KEY_PEM` in the bot's folder.
    pub keys: Vec<SecretRef>,
    /// The REST API the tokens are minted at.
    pub api: url::Url,
}

impl GithubApp {
    /// The bot's folder.
    pub fn location(&self) -> Option<Location> {
        self.keys.first().map(SecretRef::location)
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
    pub source: Source,
    pub inject: Inject,
    pub methods: Vec<Method>,
    pub paths: Vec<Glob>,
    pub use_only: bool,
}

impl Rule {
    /// Every secret the rule reads: one, two for basic with a password
    /// secret, or a GitHub App bot's three.
    pub fn secrets(&self) -> Vec<&SecretRef> {
        let mut out: Vec<&SecretRef> = match &self.source {
            Source::Secret(secret) => vec![secret],
            Source::GithubApp(app) => app.keys.iter().collect(),
        };
        if let Inject::Basic(BasicUser::PasswordSecret(second)) = &self.inject {
            out.push(second);
        }
        out
    }

    /// The names the injected values are redacted under, in the order the
    /// values are read.
    pub fn value_labels(&self) -> Vec<&str> {
        match &self.source {
            Source::GithubApp(_) => vec![INSTALLATION_TOKEN_LABEL],
            Source::Secret(_) => self.secrets().iter().map(|s| s.key.as_str()).collect(),
        }
    }

    /// What the rule sends, for messages: `ENV:/path/KEY` or the bot's folder.
    pub fn source_text(&self) -> String {
        match &self.source {
            Source::Secret(secret) => secret.to_string(),
            Source::GithubApp(app) => app.keys.first().map_or_else(String::new, |k| {
                format!("a GitHub App token for {}:{}", k.environment, k.folder.as_str())
            }),
        }
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
    let source = match (&raw.secret, &raw.github_app) {
        (Some(secret), None) => {
            if raw.github_api.is_some() {
                return Err(bad(file, &name, "`github_api` only applies with `github_app`"));
            }
            Source::Secret(parse_secret_ref(secret, project).map_err(|e| bad(file, &name, e))?)
        }
        (None, Some(folder)) => {
            if raw.basic_password_secret.is_some() {
                return Err(bad(
                    file,
                    &name,
                    "a GitHub App token is one value: use `basic_user` (e.g. \"x-access-token\") \
                     rather than `basic_password_secret`",
                ));
            }
            Source::GithubApp(GithubApp {
                keys: parse_github_app(folder, project).map_err(|e| bad(file, &name, e))?,
                api: parse_github_api(raw.github_api.as_deref().unwrap_or(DEFAULT_GITHUB_API))
                    .map_err(|e| bad(file, &name, e))?,
            })
        }
        _ => {
            return Err(bad(
                file,
                &name,
                "say what the rule sends with exactly one of `secret = \"ENV:/folder/KEY\"` or \
                 `github_app = \"ENV:/bot-folder\"`",
            ));
        }
    };
    let upstream = parse_origin(&raw.upstream).map_err(|e| bad(file, &name, e))?;

    let ways = [
        raw.header.is_some(),
        raw.query.is_some(),
        raw.basic_user.is_some() || raw.basic_password_secret.is_some(),
    ];
    let github_default = matches!(source, Source::GithubApp(_)) && !ways.contains(&true);
    if !github_default && ways.iter().filter(|w| **w).count() != 1 {
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
    let inject = if github_default {
        // What GitHub's REST API expects of an installation token.
        Inject::Header {
            name: header::AUTHORIZATION,
            prefix: "Bearer ".into(),
            suffix: String::new(),
        }
    } else if let Some(header) = &raw.header {
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
        source,
        inject,
        methods,
        paths,
        use_only: raw.use_only,
    })
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
