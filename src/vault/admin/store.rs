//! The credential store's folders and secrets, as `provision` writes them:
//! folder listing, creation and deletion, and stored values read, written
//! and deleted by name. Reads go through the client's own reads (current
//! routes, older ones on the 2024 build) without the cache; writes use the
//! v3 `raw` and v1 folder routes, which both generations answer.

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;

use crate::scope::SecretPath;
use crate::vault::call::{Family, gone_is_false, segment, with_body};
use crate::vault::error::VaultError;
use crate::vault::http::Request;
use crate::vault::{ListOptions, Location, ReadOptions, VaultClient};

/// Where a stored secret lives.
#[derive(Debug, Clone)]
pub struct SecretAt<'a> {
    pub project_id: &'a str,
    pub environment: &'a str,
    pub path: &'a str,
    pub key: &'a str,
}

/// A secret write's body; the value is borrowed, so the only copy made is
/// the serialised body, which the request wipes on drop.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretWrite<'a> {
    workspace_id: &'a str,
    environment: &'a str,
    secret_path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_value: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// The write route both generations answer: `/api/v3/secrets/raw/{key}`.
fn secret_write(method: Method, at: &SecretAt<'_>, value: Option<&SecretString>) -> Request {
    let (route, _) = Family::Secrets.base(true);
    let body = SecretWrite {
        workspace_id: at.project_id,
        environment: at.environment,
        secret_path: at.path,
        secret_value: value.map(|v| v.expose_secret()),
        kind: "shared",
    };
    Request {
        method,
        path: format!("{route}/{}", segment(at.key)),
        query: Vec::new(),
        body: serde_json::to_vec(&body).ok(),
        idempotent: false,
    }
}

fn location(project_id: &str, environment: &str, path: &str) -> Result<Location, VaultError> {
    let path = SecretPath::parse(path)
        .map_err(|e| VaultError::Client(format!("the store path {path:?} is not a folder path: {e}")))?;
    Ok(Location {
        project_id: project_id.to_owned(),
        environment: environment.to_owned(),
        path,
    })
}

/// The deprecated folder write route, which both generations answer.
const FOLDERS_V1: &str = "/api/v1/folders";

impl VaultClient {
    /// Names of the folders directly under `env:path` (an unknown path
    /// lists nothing).
    pub async fn folder_names(
        &self,
        project_id: &str,
        environment: &str,
        path: &str,
    ) -> Result<Vec<String>, VaultError> {
        let at = location(project_id, environment, path)?;
        match self.fetch_folders(&at, false).await {
            Ok(folders) => Ok(folders.into_iter().map(|f| f.name).collect()),
            Err(VaultError::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// `POST /api/v1/folders`: makes missing parents too, and answers an
    /// existing folder with 200.
    pub async fn create_folder(
        &self,
        project_id: &str,
        environment: &str,
        parent: &str,
        name: &str,
    ) -> Result<(), VaultError> {
        let body =
            json!({"workspaceId": project_id, "environment": environment, "path": parent, "name": name});
        self.call_unit(Family::Shared, |_| {
            with_body(Method::POST, FOLDERS_V1.into(), Some(&body))
        })
        .await
    }

    /// Deletes the folder `name` under `parent`, with everything below it.
    /// `Ok(false)`: it was already gone.
    pub async fn delete_folder(
        &self,
        project_id: &str,
        environment: &str,
        parent: &str,
        name: &str,
    ) -> Result<bool, VaultError> {
        let body = json!({"workspaceId": project_id, "environment": environment, "path": parent});
        let path = format!("{FOLDERS_V1}/{}", segment(name));
        gone_is_false(
            self.call_unit(Family::Shared, |_| {
                with_body(Method::DELETE, path.clone(), Some(&body))
            })
            .await,
        )
    }

    /// A stored value, or `None` when the secret (or its folder) is missing.
    pub async fn stored_value(&self, at: &SecretAt<'_>) -> Result<Option<SecretString>, VaultError> {
        let location = location(at.project_id, at.environment, at.path)?;
        match self.fetch_secret(&location, at.key, ReadOptions::RAW).await {
            Ok(secret) => Ok(Some(secret.secret_value)),
            Err(VaultError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `(folder, key)` of every secret at or below `env:path` (keys only).
    pub async fn secret_keys(
        &self,
        project_id: &str,
        environment: &str,
        path: &str,
        recursive: bool,
    ) -> Result<Vec<(String, String)>, VaultError> {
        let at = location(project_id, environment, path)?;
        match self.fetch_secrets(&at, ListOptions::names_only(recursive)).await {
            Ok(list) => Ok(list
                .secrets
                .into_iter()
                .map(|s| (s.secret_path.unwrap_or_else(|| path.to_owned()), s.secret_key))
                .collect()),
            Err(VaultError::NotFound { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    pub async fn create_secret(&self, at: &SecretAt<'_>, value: &SecretString) -> Result<(), VaultError> {
        self.call_unit(Family::Shared, |_| secret_write(Method::POST, at, Some(value)))
            .await
    }

    pub async fn update_secret(&self, at: &SecretAt<'_>, value: &SecretString) -> Result<(), VaultError> {
        self.call_unit(Family::Shared, |_| secret_write(Method::PATCH, at, Some(value)))
            .await
    }

    /// `Ok(false)`: it was already gone.
    pub async fn delete_secret(&self, at: &SecretAt<'_>) -> Result<bool, VaultError> {
        gone_is_false(
            self.call_unit(Family::Shared, |_| secret_write(Method::DELETE, at, None))
                .await,
        )
    }
}
