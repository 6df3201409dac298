//! What an identity may do in a project: its membership (role
//! `no-access`) and its additional privileges. The privilege routes exist
//! in two generations: the current build's
//! `/api/v2/identity-project-additional-privilege` (by project id, deleted by
//! privilege id) and the 2024 build's `/api/v1/additional-privilege/identity`
//! (by project slug, created at `…/permanent`, deleted by slug with a JSON
//! body); the client moves to the older ones once, when fastify answers
//! `Route … not found`.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::{PrivilegeInfo, ProjectInfo};
use crate::vault::VaultClient;
use crate::vault::call::{Family, gone_is_false, segment, with_body};
use crate::vault::error::VaultError;
use crate::vault::http::Request;

fn membership_path(project_id: &str, identity_id: &str) -> String {
    format!(
        "/api/v2/workspace/{}/identity-memberships/{}",
        segment(project_id),
        segment(identity_id)
    )
}

/// The project key and value each privilege generation names the project by.
fn project_ref(project: &ProjectInfo, legacy: bool) -> (&'static str, String) {
    let (_, key) = Family::Privileges.base(legacy);
    let value = if legacy { &project.slug } else { &project.id };
    (key, value.clone())
}

impl VaultClient {
    pub async fn membership_exists(&self, project_id: &str, identity_id: &str) -> Result<bool, VaultError> {
        let path = membership_path(project_id, identity_id);
        gone_is_false(
            self.call_unit(Family::Shared, |_| Request::get(path.clone(), Vec::new()))
                .await,
        )
    }

    /// Project membership with role `no-access`: the privileges are all it gets.
    pub async fn create_membership(&self, project_id: &str, identity_id: &str) -> Result<(), VaultError> {
        let path = membership_path(project_id, identity_id);
        let body = json!({"role": "no-access"});
        self.call_unit(Family::Shared, |_| {
            with_body(Method::POST, path.clone(), Some(&body))
        })
        .await
    }

    /// `Ok(false)`: it was already gone.
    pub async fn delete_membership(&self, project_id: &str, identity_id: &str) -> Result<bool, VaultError> {
        let path = membership_path(project_id, identity_id);
        gone_is_false(
            self.call_unit(Family::Shared, |_| with_body(Method::DELETE, path.clone(), None))
                .await,
        )
    }

    /// The identity's additional privileges in `project`.
    pub async fn privileges(
        &self,
        project: &ProjectInfo,
        identity_id: &str,
    ) -> Result<Vec<PrivilegeInfo>, VaultError> {
        #[derive(Deserialize)]
        struct Body {
            privileges: Vec<PrivilegeInfo>,
        }
        let body: Body = self
            .call(Family::Privileges, |legacy| {
                let (route, _) = Family::Privileges.base(legacy);
                Request::get(
                    route,
                    vec![
                        ("identityId", identity_id.to_owned()),
                        project_ref(project, legacy),
                    ],
                )
            })
            .await?;
        Ok(body.privileges)
    }

    /// One permanent, read-only privilege on `secrets` in `environment` at
    /// `glob`. Only `read` is ever sent.
    pub async fn create_privilege(
        &self,
        project: &ProjectInfo,
        identity_id: &str,
        slug: &str,
        environment: &str,
        glob: &str,
    ) -> Result<PrivilegeInfo, VaultError> {
        #[derive(Deserialize)]
        struct Body {
            privilege: PrivilegeInfo,
        }
        let permissions = json!([{
            "action": "read",
            "subject": "secrets",
            "conditions": {"environment": environment, "secretPath": {"$glob": glob}},
        }]);
        let body: Body = self
            .call(Family::Privileges, |legacy| {
                let (route, _) = Family::Privileges.base(legacy);
                let (key, value) = project_ref(project, legacy);
                let mut body = json!({
                    "identityId": identity_id, key: value, "slug": slug, "permissions": permissions,
                });
                if legacy {
                    with_body(Method::POST, format!("{route}/permanent"), Some(&body))
                } else {
                    body["type"] = json!({"isTemporary": false});
                    with_body(Method::POST, route.into(), Some(&body))
                }
            })
            .await?;
        Ok(body.privilege)
    }

    /// `Ok(false)`: it was already gone.
    pub async fn delete_privilege(
        &self,
        project: &ProjectInfo,
        identity_id: &str,
        privilege: &PrivilegeInfo,
    ) -> Result<bool, VaultError> {
        gone_is_false(
            self.call_unit(Family::Privileges, |legacy| {
                let (route, _) = Family::Privileges.base(legacy);
                if legacy {
                    let (key, value) = project_ref(project, legacy);
                    let body =
                        json!({"privilegeSlug": privilege.slug, "identityId": identity_id, key: value});
                    with_body(Method::DELETE, route.into(), Some(&body))
                } else {
                    with_body(
                        Method::DELETE,
                        format!("{route}/{}", segment(&privilege.id)),
                        None,
                    )
                }
            })
            .await,
        )
    }
}
