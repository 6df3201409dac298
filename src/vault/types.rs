//! The vault's JSON, as far as this binary reads it. Values are
//! [`SecretString`] from the moment they are parsed; unknown fields are
//! ignored so that newer and older Infisical builds both parse.

use secrecy::SecretString;
use serde::Deserialize;

use crate::scope::SecretPath;

/// Where a read goes: project, environment slug and folder.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    pub project_id: String,
    pub environment: String,
    pub path: SecretPath,
}

/// Options shared by secret reads; the official server's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReadOptions {
    pub expand_references: bool,
    pub include_imports: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            expand_references: true,
            include_imports: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    pub slug: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// One secret as Infisical returns it (list items and get-by-name alike).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    pub secret_key: String,
    #[serde(default)]
    pub secret_value: SecretString,
    #[serde(default)]
    pub version: u64,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub secret_comment: Option<String>,
    /// Present on list items and on newer get-by-name answers; older vaults
    /// leave it out of the single-secret body.
    #[serde(default)]
    pub secret_path: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub secret_value_hidden: bool,
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Infisical quotes an expanded multi-line value of such a secret.
    #[serde(default)]
    pub skip_multiline_encoding: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SingleSecret {
    pub secret: Secret,
}

/// Secrets reached through an import of another folder or environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Import {
    pub secret_path: String,
    pub environment: String,
    #[serde(default)]
    pub secrets: Vec<Secret>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SecretList {
    #[serde(default)]
    pub secrets: Vec<Secret>,
    #[serde(default)]
    pub imports: Vec<Import>,
}

/// One entry of a folder's secret imports (`GET /api/v1/secret-imports`):
/// the folder whose secrets it pulls in, and its place in the folder's order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretImport {
    pub import_path: String,
    pub import_env: ImportEnvironment,
    #[serde(default)]
    pub position: i64,
    /// Replicated imports are copies kept by the vault itself; Infisical
    /// leaves them out when it resolves a folder's imports.
    #[serde(default)]
    pub is_replication: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ImportEnvironment {
    pub slug: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImportList {
    #[serde(default)]
    pub secret_imports: Vec<SecretImport>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Folder {
    pub name: String,
    /// Only in recursive listings: the folder's path below the listed one.
    #[serde(default)]
    pub relative_path: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FolderList {
    #[serde(default)]
    pub folders: Vec<Folder>,
}

/// `GET /api/v1/workspace/{id}`: only the environments are read.
#[derive(Debug, Deserialize)]
pub(crate) struct ProjectAnswer {
    pub workspace: Project,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Project {
    #[serde(default)]
    pub environments: Vec<ProjectEnvironment>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProjectEnvironment {
    pub slug: String,
}

/// `GET /api/status`: only what the doctor reports.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
}
