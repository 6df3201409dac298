//! Identities and their secret permissions, evaluated the way Infisical's CASL
//! rules are (docs/vault-api.md, "Permissions"): an `environment` condition (`$eq`,
//! or any environment), a `secretPath` `$glob` condition, and a set of actions.
//!
//! The glob matcher lives in [`glob_matches`] alone so that it can be swapped
//! for the picomatch-parity matcher in `infisical_scope` without touching callers.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// Infisical's default universal-auth access-token TTL (30 days).
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(2_592_000);

/// An action on the `secrets` subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Legacy "DescribeAndReadValue": implies both [`Action::DescribeSecret`]
    /// and [`Action::ReadValue`].
    Read,
    Create,
    Edit,
    Delete,
    DescribeSecret,
    ReadValue,
}

impl Action {
    /// The four actions a permission rule can grant on secrets.
    pub const ALL: [Action; 4] = [Action::Read, Action::Create, Action::Edit, Action::Delete];
}

impl Action {
    /// The action's name as Infisical spells it in messages and rule details.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Edit => "edit",
            Action::Delete => "delete",
            Action::DescribeSecret => "describeSecret",
            Action::ReadValue => "readValue",
        }
    }
}

/// One allow rule on `secrets`: `environment` is an `$eq` slug (`"*"` means any
/// environment) and `secret_path_glob` a `$glob` condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionRule {
    pub actions: Vec<Action>,
    pub environment: String,
    pub secret_path_glob: String,
}

impl PermissionRule {
    pub fn new(actions: &[Action], environment: &str, secret_path_glob: &str) -> Self {
        PermissionRule {
            actions: actions.to_vec(),
            environment: environment.to_owned(),
            secret_path_glob: secret_path_glob.to_owned(),
        }
    }

    /// Every action (read, create, edit, delete): an admin's or an
    /// over-privileged identity's rule.
    pub fn all(environment: &str, secret_path_glob: &str) -> Self {
        Self::new(&Action::ALL, environment, secret_path_glob)
    }

    /// The read-only rule a typical agent identity gets.
    pub fn read(environment: &str, secret_path_glob: &str) -> Self {
        Self::new(&[Action::Read], environment, secret_path_glob)
    }

    fn grants(&self, action: Action) -> bool {
        self.actions.contains(&action)
    }

    fn applies_to(&self, environment: &str, secret_path: &str) -> bool {
        (self.environment == "*" || self.environment == environment)
            && glob_matches(&self.secret_path_glob, secret_path)
    }

    /// The rule as CASL prints it in a 403's `details`.
    fn to_detail(&self) -> RuleDetail {
        RuleDetail {
            action: self.actions.iter().map(|a| a.as_str()).collect(),
            inverted: false,
            subject: "secrets",
            conditions: Conditions {
                environment: (self.environment != "*").then(|| Eq {
                    eq: self.environment.clone(),
                }),
                secret_path: Glob {
                    glob: self.secret_path_glob.clone(),
                },
            },
        }
    }
}

#[derive(Serialize)]
pub(crate) struct RuleDetail {
    action: Vec<&'static str>,
    inverted: bool,
    subject: &'static str,
    conditions: Conditions,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Conditions {
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<Eq>,
    secret_path: Glob,
}

#[derive(Serialize)]
struct Eq {
    #[serde(rename = "$eq")]
    eq: String,
}

#[derive(Serialize)]
struct Glob {
    #[serde(rename = "$glob")]
    glob: String,
}

/// A universal-auth machine identity.
#[derive(Clone)]
pub struct Identity {
    pub client_id: String,
    pub client_secret: String,
    pub rules: Vec<PermissionRule>,
    /// Actions on the project's `tags` subject (`read`, `create`, `delete`);
    /// none for an agent, which still sees the tags inside secrets.
    pub tag_actions: Vec<Action>,
    pub access_token_ttl: Duration,
    pub access_token_max_ttl: Duration,
}

impl Identity {
    /// An identity with Infisical's default TTLs (30 days, max 30 days).
    pub fn new(client_id: &str, client_secret: &str, rules: Vec<PermissionRule>) -> Self {
        Identity {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            rules,
            tag_actions: Vec::new(),
            access_token_ttl: DEFAULT_TOKEN_TTL,
            access_token_max_ttl: DEFAULT_TOKEN_TTL,
        }
    }

    /// Grants `actions` on the project's tags (an admin's identity).
    pub fn tag_actions(mut self, actions: &[Action]) -> Self {
        self.tag_actions = actions.to_vec();
        self
    }

    pub fn ttl(mut self, ttl: Duration, max_ttl: Duration) -> Self {
        self.access_token_ttl = ttl;
        self.access_token_max_ttl = max_ttl;
        self
    }
}

// The client secret is fake, but tests scan output for secrets: keep it out.
impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("rules", &self.rules)
            .field("tag_actions", &self.tag_actions)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("access_token_max_ttl", &self.access_token_max_ttl)
            .finish()
    }
}

/// The permission questions the routes ask, answered from an identity's rules.
pub(crate) struct Ability<'a> {
    rules: &'a [PermissionRule],
}

impl<'a> Ability<'a> {
    pub(crate) fn new(rules: &'a [PermissionRule]) -> Self {
        Ability { rules }
    }

    /// CASL `can(action, subject)` with field conditions. `Read` also answers
    /// for `DescribeSecret` and `ReadValue`, as Infisical's permission helpers
    /// try the legacy action first.
    pub(crate) fn can(&self, action: Action, environment: &str, secret_path: &str) -> bool {
        self.rules.iter().any(|r| {
            r.applies_to(environment, secret_path)
                && (r.grants(action) || (implied_by_read(action) && r.grants(Action::Read)))
        })
    }

    /// CASL `can(action, "secrets")` without a subject object: true when any
    /// rule grants the action, whatever its conditions.
    pub(crate) fn can_any(&self, action: Action) -> bool {
        self.rules
            .iter()
            .any(|r| r.grants(action) || (implied_by_read(action) && r.grants(Action::Read)))
    }

    /// The 2024 build knows only `read` for secret reads.
    pub(crate) fn can_read_legacy(&self, environment: &str, secret_path: &str) -> bool {
        self.rules.iter().any(|r| {
            r.applies_to(environment, secret_path)
                && (r.grants(Action::Read)
                    || (r.grants(Action::DescribeSecret) && r.grants(Action::ReadValue)))
        })
    }

    pub(crate) fn can_any_read_legacy(&self) -> bool {
        self.rules.iter().any(|r| {
            r.grants(Action::Read) || (r.grants(Action::DescribeSecret) && r.grants(Action::ReadValue))
        })
    }

    /// `rulesFor(action, "secrets")`: what a PermissionDenied body lists.
    pub(crate) fn details_for(&self, action: Action) -> serde_json::Value {
        let rules: Vec<RuleDetail> = self
            .rules
            .iter()
            // CASL lists the rules naming the action itself: a `read` rule
            // grants `describeSecret` but is not shown for it.
            .filter(|r| r.grants(action))
            .map(PermissionRule::to_detail)
            .collect();
        serde_json::to_value(rules).unwrap_or_default()
    }
}

fn implied_by_read(action: Action) -> bool {
    matches!(action, Action::DescribeSecret | Action::ReadValue)
}

/// Infisical's `$glob` condition: picomatch 3 `isMatch(path, pattern,
/// {strictSlashes: false})`, the same matcher the client-side scope uses, so
/// the fake vault and the binary agree with each other and with Infisical.
/// A pattern picomatch would reject never matches, as in Infisical.
pub fn glob_matches(pattern: &str, path: &str) -> bool {
    infisical_scope::Glob::new(pattern).is_ok_and(|g| g.is_match(path))
}
