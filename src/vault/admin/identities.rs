//! Machine identities, their universal auth and its client secrets.

use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::{NewClientSecret, UniversalAuth};
use crate::vault::VaultClient;
use crate::vault::call::{Family, gone_is_false, segment, with_body};
use crate::vault::error::VaultError;
use crate::vault::http::Request;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UaInner {
    client_id: String,
    #[serde(rename = "accessTokenTTL", default)]
    ttl: u64,
    #[serde(rename = "accessTokenMaxTTL", default)]
    max_ttl: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UaBody {
    identity_universal_auth: UaInner,
}

impl From<UaBody> for UniversalAuth {
    fn from(b: UaBody) -> Self {
        UniversalAuth {
            client_id: b.identity_universal_auth.client_id,
            ttl: b.identity_universal_auth.ttl,
            max_ttl: b.identity_universal_auth.max_ttl,
        }
    }
}

fn universal_auth_path(identity_id: &str) -> String {
    format!("/api/v1/auth/universal-auth/identities/{}", segment(identity_id))
}

fn client_secrets_path(identity_id: &str) -> String {
    format!("{}/client-secrets", universal_auth_path(identity_id))
}

impl VaultClient {
    /// Ids of the org's identities named exactly `name` (names are not
    /// unique in Infisical).
    pub async fn identities_named(&self, org_id: &str, name: &str) -> Result<Vec<String>, VaultError> {
        #[derive(Deserialize)]
        struct Short {
            id: String,
            name: String,
        }
        #[derive(Deserialize)]
        struct Item {
            identity: Short,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Body {
            identity_memberships: Vec<Item>,
        }
        let path = format!("/api/v2/organizations/{}/identity-memberships", segment(org_id));
        let body: Body = self
            .call(Family::Shared, |_| {
                Request::get(
                    path.clone(),
                    // Builds name the filter `textFilter` or (newer) `search`
                    // and drop the key they do not know; the exact match is ours.
                    vec![
                        ("limit", "20000".into()),
                        ("textFilter", name.to_owned()),
                        ("search", name.to_owned()),
                    ],
                )
            })
            .await?;
        Ok(body
            .identity_memberships
            .into_iter()
            .filter(|m| m.identity.name == name)
            .map(|m| m.identity.id)
            .collect())
    }

    /// A new identity with org role `no-access`; its id.
    pub async fn create_identity(&self, org_id: &str, name: &str) -> Result<String, VaultError> {
        #[derive(Deserialize)]
        struct Id {
            id: String,
        }
        #[derive(Deserialize)]
        struct Body {
            identity: Id,
        }
        let body = json!({"name": name, "organizationId": org_id, "role": "no-access"});
        let answer: Body = self
            .call(Family::Shared, |_| {
                with_body(Method::POST, "/api/v1/identities".into(), Some(&body))
            })
            .await?;
        Ok(answer.identity.id)
    }

    /// `Ok(false)`: it was already gone.
    pub async fn delete_identity(&self, id: &str) -> Result<bool, VaultError> {
        let path = format!("/api/v1/identities/{}", segment(id));
        gone_is_false(
            self.call_unit(Family::Shared, |_| with_body(Method::DELETE, path.clone(), None))
                .await,
        )
    }

    /// The identity's universal auth, or `None` when it has none.
    pub async fn universal_auth(&self, identity_id: &str) -> Result<Option<UniversalAuth>, VaultError> {
        let path = universal_auth_path(identity_id);
        match self
            .call::<UaBody>(Family::Shared, |_| Request::get(path.clone(), Vec::new()))
            .await
        {
            Ok(body) => Ok(Some(body.into())),
            Err(VaultError::NotFound { .. }) | Err(VaultError::BadRequest { status: 400, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Attaches universal auth with these token lifetimes; `trusted_ips`
    /// bound both the tokens and the client secrets.
    pub async fn attach_universal_auth(
        &self,
        identity_id: &str,
        ttl: u64,
        max_ttl: u64,
        trusted_ips: &[String],
    ) -> Result<UniversalAuth, VaultError> {
        let ips: Vec<serde_json::Value> = trusted_ips.iter().map(|ip| json!({"ipAddress": ip})).collect();
        let body = json!({
            "accessTokenTTL": ttl,
            "accessTokenMaxTTL": max_ttl,
            "accessTokenNumUsesLimit": 0,
            "accessTokenTrustedIps": ips,
            "clientSecretTrustedIps": ips,
        });
        let path = universal_auth_path(identity_id);
        let answer: UaBody = self
            .call(Family::Shared, |_| {
                with_body(Method::POST, path.clone(), Some(&body))
            })
            .await?;
        Ok(answer.into())
    }

    /// Creates one client secret (no expiry, no use limit). The value comes
    /// back once; it is held as a [`SecretString`] only.
    pub async fn create_client_secret(
        &self,
        identity_id: &str,
        description: &str,
    ) -> Result<NewClientSecret, VaultError> {
        #[derive(Deserialize)]
        struct Data {
            id: String,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Body {
            client_secret: SecretString,
            client_secret_data: Data,
        }
        let body = json!({"description": description, "ttl": 0, "numUsesLimit": 0});
        let path = client_secrets_path(identity_id);
        let answer: Body = self
            .call(Family::Shared, |_| {
                with_body(Method::POST, path.clone(), Some(&body))
            })
            .await?;
        Ok(NewClientSecret {
            id: answer.client_secret_data.id,
            secret: answer.client_secret,
        })
    }

    /// Ids of the identity's live client secrets.
    pub async fn client_secret_ids(&self, identity_id: &str) -> Result<Vec<String>, VaultError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            id: String,
            #[serde(default)]
            is_client_secret_revoked: bool,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Body {
            client_secret_data: Vec<Data>,
        }
        let path = client_secrets_path(identity_id);
        let body: Body = self
            .call(Family::Shared, |_| Request::get(path.clone(), Vec::new()))
            .await?;
        Ok(body
            .client_secret_data
            .into_iter()
            .filter(|d| !d.is_client_secret_revoked)
            .map(|d| d.id)
            .collect())
    }

    /// `POST …/client-secrets/{id}/revoke`: the only way to retire one (there
    /// is no DELETE route); repeating it is harmless.
    pub async fn revoke_client_secret(&self, identity_id: &str, secret_id: &str) -> Result<(), VaultError> {
        let path = format!(
            "{}/{}/revoke",
            client_secrets_path(identity_id),
            segment(secret_id)
        );
        let empty = json!({});
        self.call_unit(Family::Shared, |_| {
            with_body(Method::POST, path.clone(), Some(&empty))
        })
        .await
    }
}
