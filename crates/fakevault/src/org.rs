//! Identity management state: machine identities created through the API,
//! their universal auth and client secrets, project memberships and
//! additional privileges (sections 14–18 of the recordings in
//! `crates/fakevault/tests/fixtures/real-infisical/`), and which callers may
//! manage identities at all.
//!
//! Identities configured with [`super::FakeVault::identity`] stay where they
//! are; the ones here are made by the identity routes, so their login,
//! permissions and token revocation come from this store.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use super::permissions::{Action, Identity, PermissionRule};

use super::{RunningVault, lock, read};

/// One identity made through `POST /api/v1/identities`.
#[derive(Clone, Debug)]
pub(crate) struct ManagedIdentity {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) org_id: String,
    pub(crate) org_membership_id: String,
    pub(crate) role: String,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    pub(crate) ua: Option<UniversalAuth>,
    pub(crate) secrets: Vec<ClientSecret>,
    pub(crate) memberships: Vec<Membership>,
    pub(crate) privileges: Vec<Privilege>,
}

#[derive(Clone, Debug)]
pub(crate) struct UniversalAuth {
    pub(crate) id: String,
    pub(crate) client_id: String,
    pub(crate) ttl: u64,
    pub(crate) max_ttl: u64,
    pub(crate) num_uses_limit: u64,
    pub(crate) access_token_ips: Vec<serde_json::Value>,
    pub(crate) client_secret_ips: Vec<serde_json::Value>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

#[derive(Clone)]
pub(crate) struct ClientSecret {
    pub(crate) id: String,
    pub(crate) value: String,
    pub(crate) description: String,
    pub(crate) ttl: u64,
    pub(crate) num_uses_limit: u64,
    pub(crate) num_uses: u64,
    pub(crate) revoked: bool,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

// Tests scan every output for client secrets: never print one.
impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecret")
            .field("id", &self.id)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Membership {
    pub(crate) id: String,
    pub(crate) project_id: String,
    pub(crate) role: String,
    pub(crate) role_id: String,
    pub(crate) created_at: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Privilege {
    pub(crate) id: String,
    pub(crate) slug: String,
    pub(crate) project_id: String,
    pub(crate) membership_id: String,
    /// As the vault answers it: `action` always an array.
    pub(crate) permissions: serde_json::Value,
    pub(crate) rules: Vec<PermissionRule>,
    pub(crate) created_at: String,
}

/// A request the test wants failed, matched by method and a path fragment.
#[derive(Clone, Debug)]
struct Injected {
    method: String,
    path_contains: String,
    status: u16,
}

#[derive(Default)]
pub(crate) struct OrgState {
    /// Client ids whose identities may manage identities (org admins).
    pub(crate) managers: HashSet<String>,
    pub(crate) identities: Vec<ManagedIdentity>,
    /// Client ids of deleted identities: their tokens answer 401.
    pub(crate) deleted_client_ids: HashSet<String>,
    /// Every client secret ever issued, so that tests can look for it in
    /// output even after its identity is gone.
    pub(crate) issued_secrets: Vec<String>,
    injected: Vec<Injected>,
}

#[derive(Default)]
pub(crate) struct OrgStore {
    pub(crate) state: Mutex<OrgState>,
}

impl ManagedIdentity {
    /// The identity as the login and permission code sees it: rules only
    /// while it is a member of a project, as Infisical grants nothing else.
    /// A membership with the project role `admin` may do everything there.
    fn as_identity(&self) -> Option<Identity> {
        let ua = self.ua.as_ref()?;
        let mut rules: Vec<PermissionRule> = self
            .privileges
            .iter()
            .filter(|p| self.memberships.iter().any(|m| m.id == p.membership_id))
            .flat_map(|p| p.rules.iter().cloned())
            .collect();
        let project_admin = self.memberships.iter().any(|m| m.role == "admin");
        if project_admin {
            rules.push(PermissionRule::all("*", "/**"));
        }
        let identity = Identity::new(&ua.client_id, "", rules)
            .ttl(Duration::from_secs(ua.ttl), Duration::from_secs(ua.max_ttl));
        Some(if project_admin {
            identity.tag_actions(&Action::ALL)
        } else {
            identity
        })
    }

    /// Whether this identity's organization role lets it manage identities.
    fn is_org_admin(&self) -> bool {
        self.role == "admin"
    }
}

impl OrgStore {
    pub(crate) fn identity(&self, client_id: &str) -> Option<Identity> {
        let state = lock(&self.state);
        state
            .identities
            .iter()
            .find(|i| i.ua.as_ref().is_some_and(|ua| ua.client_id == client_id))
            .and_then(ManagedIdentity::as_identity)
    }

    /// Whether `client_id` is a managed identity, and if so whether
    /// `secret` is one of its live client secrets (counting the use).
    pub(crate) fn check_secret(&self, client_id: &str, secret: &str) -> Option<bool> {
        let mut state = lock(&self.state);
        let identity = state
            .identities
            .iter_mut()
            .find(|i| i.ua.as_ref().is_some_and(|ua| ua.client_id == client_id))?;
        let found = identity
            .secrets
            .iter_mut()
            .find(|s| !s.revoked && s.value == secret);
        Some(match found {
            Some(s) => {
                s.num_uses += 1;
                true
            }
            None => false,
        })
    }

    pub(crate) fn is_deleted(&self, client_id: &str) -> bool {
        lock(&self.state).deleted_client_ids.contains(client_id)
    }

    /// Whether `client_id` may manage identities: named so by the test, or
    /// an identity made with the organization role `admin`.
    pub(crate) fn is_manager(&self, client_id: &str) -> bool {
        let state = lock(&self.state);
        state.managers.contains(client_id)
            || state
                .identities
                .iter()
                .any(|i| i.is_org_admin() && i.ua.as_ref().is_some_and(|ua| ua.client_id == client_id))
    }

    /// The status of an injected failure for this request, consumed once.
    pub(crate) fn take_injected(&self, method: &str, path: &str) -> Option<u16> {
        let mut state = lock(&self.state);
        let pos = state
            .injected
            .iter()
            .position(|i| i.method == method && path.contains(&i.path_contains))?;
        Some(state.injected.remove(pos).status)
    }
}

/// A managed identity as tests inspect it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedIdentityView {
    pub id: String,
    pub name: String,
    pub client_id: Option<String>,
    pub active_client_secrets: usize,
    pub revoked_client_secrets: usize,
    pub project_ids: Vec<String>,
    /// `(slug, environment, secretPath glob, actions)` per privilege rule.
    pub privileges: Vec<(String, String, String, Vec<String>)>,
}

impl RunningVault {
    /// Lets the identity with `client_id` manage identities (an org admin).
    pub fn allow_identity_management(&self, client_id: &str) {
        lock(&self.shared.org.state).managers.insert(client_id.to_owned());
    }

    /// Identities made through the API, in creation order.
    pub fn managed_identities(&self) -> Vec<ManagedIdentityView> {
        let state = lock(&self.shared.org.state);
        state
            .identities
            .iter()
            .map(|i| ManagedIdentityView {
                id: i.id.clone(),
                name: i.name.clone(),
                client_id: i.ua.as_ref().map(|u| u.client_id.clone()),
                active_client_secrets: i.secrets.iter().filter(|s| !s.revoked).count(),
                revoked_client_secrets: i.secrets.iter().filter(|s| s.revoked).count(),
                project_ids: i.memberships.iter().map(|m| m.project_id.clone()).collect(),
                privileges: i
                    .privileges
                    .iter()
                    .flat_map(|p| {
                        p.rules.iter().map(|r| {
                            (
                                p.slug.clone(),
                                r.environment.clone(),
                                r.secret_path_glob.clone(),
                                r.actions.iter().map(|a| a.as_str().to_owned()).collect(),
                            )
                        })
                    })
                    .collect(),
            })
            .collect()
    }

    /// The live client secrets of every managed identity: lets a test look
    /// for them in output without the fake ever printing one.
    pub fn live_client_secrets(&self) -> Vec<String> {
        let state = lock(&self.shared.org.state);
        state
            .identities
            .iter()
            .flat_map(|i| i.secrets.iter().filter(|s| !s.revoked).map(|s| s.value.clone()))
            .collect()
    }

    /// Every client secret ever issued, revoked ones and those of deleted
    /// identities included.
    pub fn all_client_secrets(&self) -> Vec<String> {
        lock(&self.shared.org.state).issued_secrets.clone()
    }

    /// The stored value of `key` at `environment:path` of `project_id`.
    pub fn stored_value(&self, project_id: &str, environment: &str, path: &str, key: &str) -> Option<String> {
        let data = read(&self.shared.data);
        let folder = data
            .project_by_id(project_id)?
            .env(environment)?
            .folders
            .get(&super::data::normalise_folder_path(path))?;
        folder.secret(key).map(|s| s.value.clone())
    }

    /// Whether the folder `environment:path` exists in `project_id`.
    pub fn folder_exists(&self, project_id: &str, environment: &str, path: &str) -> bool {
        let data = read(&self.shared.data);
        data.project_by_id(project_id)
            .and_then(|p| p.env(environment))
            .is_some_and(|e| e.folders.contains_key(&super::data::normalise_folder_path(path)))
    }

    /// Answers the next `method` request whose path contains `path_contains`
    /// with `status` (Infisical's 500 body for 500), once. Lets a test fail
    /// one step of a multi-request flow precisely.
    pub fn fail_next_request(&self, method: &str, path_contains: &str, status: u16) {
        lock(&self.shared.org.state).injected.push(Injected {
            method: method.to_owned(),
            path_contains: path_contains.to_owned(),
            status,
        });
    }

    /// Creates an identity directly, as an operator would in the UI (no
    /// universal auth): for tests of same-named identities.
    pub fn create_identity_directly(&self, name: &str) -> String {
        let org_id = read(&self.shared.data)
            .projects
            .first()
            .map(|p| p.org_id.clone())
            .unwrap_or_default();
        let mut state = lock(&self.shared.org.state);
        let identity = super::routes::identities::new_identity(name, &org_id, "no-access");
        let id = identity.id.clone();
        state.identities.push(identity);
        id
    }
}
