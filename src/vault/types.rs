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

impl ReadOptions {
    /// A value as it is stored: no reference expanded, no import searched.
    pub const RAW: Self = Self {
        expand_references: false,
        include_imports: false,
    };
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

/// `GET /api/status`: only what the doctor reports.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    /// Answers recorded from a real Infisical (self-hosted build 09d28156,
    /// 2024-10): the client's reading of them must not depend on the fake.
    const RECORDED_IMPORTS: &str = r#"{"message": "Successfully fetched secret imports", "secretImports": [{"id": "3f6da257-b64b-4fdd-95c5-08cc3b7b43fa", "version": 1, "importPath": "/agents/warden/deep", "position": 1, "createdAt": "2026-12-01T12:34:44.185Z", "updatedAt": "2026-12-01T12:34:44.185Z", "folderId": "ec5c0046-31f8-4420-89e5-bf44beb75304", "isReplication": false, "isReplicationSuccess": null, "replicationStatus": null, "lastReplicated": null, "isReserved": false, "importEnv": {"name": "Development", "slug": "dev", "id": "c4f788e6-0e30-4279-8008-a995620b3832"}}]}"#;
    /// get-one through a chain of imports: no `secretPath`, and
    /// `environment` is the first hop's, so the answer cannot say where the
    /// value lives.
    const RECORDED_TRANSITIVE_GET: &str = r#"{"secret": {"id": "49e73be8-a7b9-47cd-abfd-f788453ce60c", "_id": "49e73be8-a7b9-47cd-abfd-f788453ce60c", "workspace": "664ba048-fc91-4735-8948-7d7d3ee03887", "environment": "dev", "version": 1, "type": "shared", "secretKey": "SHARED_TOKEN", "secretValue": "shared-token-dev-fake", "secretComment": "", "secretReminderNote": null, "secretReminderRepeatDays": null, "skipMultilineEncoding": false, "metadata": null, "createdAt": "2026-12-01T12:06:51.836Z", "updatedAt": "2026-12-01T12:06:51.836Z"}}"#;
    const RECORDED_TAGGED_GET: &str = r##"{"secret": {"secretKey": "WARDEN_API_KEY", "secretValue": "wk-dev-0001-fake", "version": 2, "tags": [{"id": "fa6ed0cc-4e32-4eed-b1b4-838d96fdc6ce", "slug": "function-dns-edit", "color": "#ff0000", "name": "function-dns-edit"}]}}"##;

    #[test]
    fn reads_a_recorded_import_list() {
        let list: Result<ImportList, _> = serde_json::from_str(RECORDED_IMPORTS);
        let Ok(list) = list else {
            return assert!(list.is_ok());
        };
        assert_eq!(list.secret_imports.len(), 1);
        let import = &list.secret_imports[0];
        assert_eq!(import.import_path, "/agents/warden/deep");
        assert_eq!(import.import_env.slug, "dev");
        assert_eq!(import.position, 1);
        assert!(!import.is_replication);
    }

    #[test]
    fn a_recorded_single_secret_answer_has_no_path() {
        let single: Result<SingleSecret, _> = serde_json::from_str(RECORDED_TRANSITIVE_GET);
        assert!(single.is_ok());
        let Ok(single) = single else { return };
        assert_eq!(single.secret.secret_path, None);
        assert_eq!(single.secret.secret_key, "SHARED_TOKEN");
        assert_eq!(single.secret.skip_multiline_encoding, Some(false));
        let tagged: Result<SingleSecret, _> = serde_json::from_str(RECORDED_TAGGED_GET);
        let Ok(tagged) = tagged else {
            return assert!(tagged.is_ok());
        };
        assert_eq!(tagged.secret.secret_value.expose_secret(), "wk-dev-0001-fake");
        assert_eq!(tagged.secret.tags[0].slug, "function-dns-edit");
    }
}
