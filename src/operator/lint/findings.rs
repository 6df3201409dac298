//! What a lint run reports: the rule ids with their severity and meaning
//! ([`RULES`]), and one [`Finding`] per problem.

use serde::Serialize;

use crate::scope::SecretPath;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// Rule ids, as they appear in findings.
pub const NAME_PATTERN: &str = "name-pattern";
pub const UNKNOWN_VENDOR: &str = "unknown-vendor";
pub const TAG_MISSING: &str = "tag-missing";
pub const TAG_DUPLICATE: &str = "tag-duplicate";
pub const TAG_UNKNOWN_VALUE: &str = "tag-unknown-value";
pub const TAG_MULTIPLE_CONSUMERS: &str = "tag-multiple-consumers";
pub const TAG_EXTRA: &str = "tag-extra";
pub const EXPIRY_MISSING: &str = "expiry-missing";
pub const EXPIRY_UNPARSEABLE: &str = "expiry-unparseable";
pub const EXPIRED: &str = "expired";
pub const EXPIRING: &str = "expiring";
pub const COMPANION_ORPHAN: &str = "companion-orphan";
pub const FULL_ACCESS: &str = "full-access";
pub const RULE2_DUPLICATE: &str = "rule2-duplicate";
pub const VAULT_READ: &str = "vault-read";
pub const FOLDER_MISSING: &str = "folder-missing";

/// Every rule with its severity and what it checks (for `--help` and the README).
pub const RULES: [(&str, Severity, &str); 16] = [
    (
        VAULT_READ,
        Severity::Error,
        "a folder in scope could not be listed (audit incomplete)",
    ),
    (
        TAG_DUPLICATE,
        Severity::Error,
        "more than one function-, sensitivity- or rotation- tag",
    ),
    (
        EXPIRY_UNPARSEABLE,
        Severity::Error,
        "__EXPIRES_AT not ISO-8601 with offset, a date, non-expiring",
    ),
    (EXPIRED, Severity::Error, "__EXPIRES_AT has passed"),
    (
        RULE2_DUPLICATE,
        Severity::Error,
        "a staging value equals a prod value (Rule 2)",
    ),
    (
        NAME_PATTERN,
        Severity::Warning,
        "name is not <VENDOR>_<FUNCTION>[_<SCOPE>], upper snake case",
    ),
    (
        UNKNOWN_VENDOR,
        Severity::Warning,
        "the first part is not a known vendor code (--vendor-codes)",
    ),
    (
        TAG_MISSING,
        Severity::Warning,
        "no function-, sensitivity-, consumer- or rotation- tag",
    ),
    (
        TAG_UNKNOWN_VALUE,
        Severity::Warning,
        "a sensitivity- or rotation- value the taxonomy lacks",
    ),
    (
        EXPIRY_MISSING,
        Severity::Warning,
        "rotating token (not rotation-non-rotating), no __EXPIRES_AT",
    ),
    (
        EXPIRING,
        Severity::Warning,
        "__EXPIRES_AT within --expiry-warning-days",
    ),
    (
        COMPANION_ORPHAN,
        Severity::Warning,
        "__EXPIRES_AT/__SCOPES/__CLIENT_ID without its parent",
    ),
    (
        FULL_ACCESS,
        Severity::Warning,
        "a _FULL token: least privilege not achieved",
    ),
    (
        TAG_MULTIPLE_CONSUMERS,
        Severity::Info,
        "several consumer- tags (allowed; the primary one preferred)",
    ),
    (TAG_EXTRA, Severity::Info, "a tag outside the four dimensions"),
    (
        FOLDER_MISSING,
        Severity::Info,
        "a folder in scope does not exist in that environment",
    ),
];

pub(crate) fn severity_of(rule: &str) -> Severity {
    RULES
        .iter()
        .find(|(id, _, _)| *id == rule)
        .map_or(Severity::Error, |(_, severity, _)| *severity)
}

/// One problem with one secret (or one folder, for [`VAULT_READ`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub environment: String,
    pub path: String,
    pub key: Option<String>,
    pub message: String,
    pub fix: String,
}

impl Finding {
    pub fn new(
        rule: &'static str,
        environment: &str,
        path: &SecretPath,
        key: Option<&str>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            rule,
            severity: severity_of(rule),
            environment: environment.to_string(),
            path: path.to_string(),
            key: key.map(str::to_string),
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// `env:/path/KEY` (or `env:/path` without a key).
    pub fn location(&self) -> String {
        match &self.key {
            Some(key) if self.path == "/" => format!("{}:/{key}", self.environment),
            Some(key) => format!("{}:{}/{key}", self.environment, self.path),
            None => format!("{}:{}", self.environment, self.path),
        }
    }
}
