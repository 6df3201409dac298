//! The vault's administrative routes, as methods of [`VaultClient`]: what
//! `provision` and `deprovision` need to onboard and retire a read-only agent
//! identity. Every call goes through the client's one exchange
//! ([`VaultClient::send`]): same token, refusal rules, retries and route
//! generations as the reads.
//!
//! Files by concept: `identities` (identities, universal auth, client
//! secrets), `grants` (project memberships and additional privileges, both
//! API generations), `store` (folders and secrets of the credential store).
//!
//! A client secret leaves the vault's answer as a [`SecretString`] and goes
//! back into a request body that is wiped when dropped; nothing here logs a
//! body.

mod grants;
mod identities;
mod store;
#[cfg(test)]
mod tests;

use secrecy::SecretString;
use serde::Deserialize;

pub use store::SecretAt;

use super::VaultClient;
use super::call::{Family, segment};
use super::error::VaultError;
use super::http::Request;

/// The project as the onboarding needs it.
#[derive(Debug, Clone)]
pub struct ProjectInfo {
    pub id: String,
    pub org_id: String,
    pub slug: String,
    pub environments: Vec<String>,
}

/// An identity's universal auth.
#[derive(Debug, Clone)]
pub struct UniversalAuth {
    pub client_id: String,
    pub ttl: u64,
    pub max_ttl: u64,
}

/// A client secret fresh from the vault; the value is never shown.
pub struct NewClientSecret {
    pub id: String,
    pub secret: SecretString,
}

/// An additional privilege: the vault's id and our slug.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PrivilegeInfo {
    pub id: String,
    pub slug: String,
}

impl VaultClient {
    /// `GET /api/v1/workspace/{id}`: org id, slug and environments (the route
    /// both generations and the current CLI use).
    pub async fn project(&self, project_id: &str) -> Result<ProjectInfo, VaultError> {
        #[derive(Deserialize)]
        struct Env {
            slug: String,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Workspace {
            #[serde(default)]
            org_id: String,
            #[serde(default)]
            slug: String,
            #[serde(default)]
            environments: Vec<Env>,
        }
        #[derive(Deserialize)]
        struct Body {
            workspace: Workspace,
        }
        let path = format!("/api/v1/workspace/{}", segment(project_id));
        let body: Body = self
            .call(Family::Shared, |_| Request::get(path.clone(), Vec::new()))
            .await?;
        Ok(ProjectInfo {
            id: project_id.to_owned(),
            org_id: body.workspace.org_id,
            slug: body.workspace.slug,
            environments: body.workspace.environments.into_iter().map(|e| e.slug).collect(),
        })
    }

    /// Whether the privilege routes answered as the 2024 build's
    /// (`/api/v1/additional-privilege/identity…`) rather than the current ones.
    pub fn legacy_privileges(&self) -> bool {
        self.routes.is_legacy(Family::Privileges)
    }
}
