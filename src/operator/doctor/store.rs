//! The credential-store check: can the running identity read stored agent
//! client secrets? Measured on a real server, a broad glob such as `/org/**`
//! also covers a credential store at `/org/identities/**`, so such an agent
//! reads every stored `*_CLIENT_SECRET`, its own included. A recursive
//! listing (key names only) returns exactly what the identity may read, on
//! both API generations, so any such key in it is the finding.

use crate::scope::SecretPath;
use crate::vault::{ListOptions, Location, VaultClient, VaultError};

use super::CREDENTIAL_STORE;
use super::report::Step;

/// Key suffix of a stored universal-auth client secret (`provision` stores
/// `PFX_CLIENT_SECRET`).
const SECRET_SUFFIX: &str = "_CLIENT_SECRET";

pub(super) async fn check(client: &VaultClient, project_id: &str, environments: &[String]) -> Step {
    let options = ListOptions::names_only(true);
    let mut found = Vec::new();
    for environment in environments {
        let at = Location {
            project_id: project_id.to_owned(),
            environment: environment.clone(),
            path: SecretPath::root(),
        };
        match client.list_secrets(&at, options).await {
            Ok(list) => found.extend(
                list.secrets
                    .iter()
                    .filter(|s| s.secret_key.ends_with(SECRET_SUFFIX))
                    .map(|s| {
                        format!(
                            "{environment}:{}/{}",
                            s.secret_path.as_deref().unwrap_or("/").trim_end_matches('/'),
                            s.secret_key
                        )
                    }),
            ),
            // Nothing readable at all in that environment: nothing to find.
            Err(VaultError::PermissionDenied { .. } | VaultError::NotFound { .. }) => {}
            Err(e) => {
                return Step::warn(
                    CREDENTIAL_STORE,
                    format!(
                        "could not list {environment}:/ recursively to look for stored client secrets: {e}"
                    ),
                );
            }
        }
    }
    if found.is_empty() {
        return Step::pass(
            CREDENTIAL_STORE,
            format!(
                "no stored *{SECRET_SUFFIX} readable in {}",
                environments.join(", ")
            ),
        );
    }
    let shown: Vec<&str> = found.iter().take(3).map(String::as_str).collect();
    Step::fail(
        CREDENTIAL_STORE,
        format!(
            "this identity can read {} stored client secret(s), e.g. {}",
            found.len(),
            shown.join(", ")
        ),
    )
    .fix(
        "narrow its privilege so that the folder holding stored credentials (provision's --store-root) \
         lies outside it; `provision` refuses such globs",
    )
}
