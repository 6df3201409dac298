//! Answers that mean a setting is wrong, not that a secret is missing or a
//! credential bad: the vault's own words name the project, environment or
//! folder that does not exist, a route that is not Infisical's API, or TLS
//! spoken to a plain-http server. Every caller (MCP tools, `doctor`, the
//! operator commands) asks [`VaultError::misconfiguration`] first, so each
//! says which setting to change and none sends the user to rotate a good
//! secret or suspect a security failure.

use super::VaultError;

/// A setting the vault's answer shows to be wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misconfiguration {
    /// "Project with ID '…' not found" (and the 2024 build's "Project not
    /// found during bot lookup").
    ProjectNotFound,
    /// "Environment with slug 'qa' in project with ID … not found".
    EnvironmentNotFound,
    /// "Folder with path '…' … not found" / "Folder not found for the given
    /// environment slug & secret path".
    FolderNotFound,
    /// The server answered `Route POST:/app/api/v1/… not found`: something
    /// answers at the URL, but not Infisical's API under that path.
    NoApiAtUrl { route: String },
    /// A TLS handshake met a plain-http answer.
    PlainHttpServer,
}

impl Misconfiguration {
    /// Whether a TLS failure's text is a plain-http answer to a handshake.
    pub fn plain_http_detail(detail: &str) -> bool {
        let lower = detail.to_ascii_lowercase();
        lower.contains("invalidcontenttype") || lower.contains("corrupt message")
    }

    /// The setting to change and how, in one line.
    pub fn hint(&self) -> String {
        match self {
            Self::ProjectNotFound => "the vault has no project with that id: check INFISICAL_PROJECT_ID \
                (--project-id; the project's id from its settings page, not its name or slug)"
                .into(),
            Self::EnvironmentNotFound => "the project has no environment with that slug: check \
                INFISICAL_ENVIRONMENT / environmentSlug and the environments of INFISICAL_SCOPE \
                (slugs as shown in the project's settings, e.g. dev, staging, prod)"
                .into(),
            Self::FolderNotFound => "the folder does not exist in that environment: check the path \
                (case-sensitive) and the environment slug; list-folders on the parent shows what exists"
                .into(),
            Self::NoApiAtUrl { route } => format!(
                "no Infisical API answers under INFISICAL_HOST_URL ({route} not found): the URL's path is \
                 probably wrong; give the server's base URL without a path such as /app or /api, \
                 e.g. https://vault.example.com"
            ),
            Self::PlainHttpServer => "does the server speak plain http? use http:// in INFISICAL_HOST_URL \
                (plain http to a host that is not loopback also needs --allow-insecure-http)"
                .into(),
        }
    }
}

/// `Route GET:/x not found` → `GET:/x` (the query left out: it may name secrets).
fn missing_route(message: &str) -> Option<String> {
    let rest = message.trim().strip_prefix("Route ")?;
    let route = rest.strip_suffix(" not found")?;
    let route = route.split('?').next().unwrap_or(route);
    route.contains(':').then(|| route.to_string())
}

fn not_found_cause(message: &str) -> Option<Misconfiguration> {
    if let Some(route) = missing_route(message) {
        return Some(Misconfiguration::NoApiAtUrl { route });
    }
    let lower = message.to_ascii_lowercase();
    if lower.starts_with("project ") && lower.contains("not found") {
        return Some(Misconfiguration::ProjectNotFound);
    }
    if lower.starts_with("environment with slug") && lower.contains("not found") {
        return Some(Misconfiguration::EnvironmentNotFound);
    }
    if lower.starts_with("folder ") && lower.contains("not found") {
        return Some(Misconfiguration::FolderNotFound);
    }
    None
}

impl VaultError {
    /// The wrong setting this error shows, if it shows one.
    pub fn misconfiguration(&self) -> Option<Misconfiguration> {
        match self {
            Self::NotFound { message }
            | Self::BadCredentials { message }
            | Self::TokenRejected { message, .. }
            | Self::BadRequest { message, .. } => not_found_cause(message),
            Self::UnexpectedResponse { detail, .. } => {
                missing_route(detail).map(|route| Misconfiguration::NoApiAtUrl { route })
            }
            Self::Unreachable { detail, .. } => {
                Misconfiguration::plain_http_detail(detail).then_some(Misconfiguration::PlainHttpServer)
            }
            _ => None,
        }
    }

    /// A 404 that says the secret itself is missing, not its project,
    /// environment or folder, nor the API.
    pub fn is_missing_secret(&self) -> bool {
        matches!(self, Self::NotFound { .. }) && self.misconfiguration().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nf(message: &str) -> VaultError {
        VaultError::NotFound {
            message: message.into(),
        }
    }

    #[test]
    fn recorded_answers_name_the_setting() {
        // Both builds' answers to an unknown project id.
        for m in [
            "Project with ID '3b0f6a52-7c1e-4f7a-9d5e-2a6c8b1e4f90' not found during bot lookup. Are you sure you are using the correct project ID?",
            "Project not found during bot lookup. Are you sure you are using the correct project ID?",
            "Project with 3b0f6a52-7c1e-4f7a-9d5e-2a6c8b1e4f90 not found",
            "Project with ID '3b0f6a52' not found",
        ] {
            assert_eq!(
                nf(m).misconfiguration(),
                Some(Misconfiguration::ProjectNotFound),
                "{m}"
            );
            assert!(nf(m).hint().contains("INFISICAL_PROJECT_ID"), "{m}");
        }
        assert_eq!(
            nf("Environment with slug 'qa' in project with ID c0d9 not found").misconfiguration(),
            Some(Misconfiguration::EnvironmentNotFound)
        );
        assert_eq!(
            nf("Folder not found for the given environment slug & secret path").misconfiguration(),
            Some(Misconfiguration::FolderNotFound)
        );
        assert!(nf("Secret with name 'NOPE_SECRET' not found").is_missing_secret());
        assert!(nf("Secret not found").is_missing_secret());
    }

    #[test]
    fn a_route_not_found_points_at_the_url_path_not_the_secret() {
        let e = VaultError::BadCredentials {
            message: "Route POST:/app/api/v1/auth/universal-auth/login not found".into(),
        };
        assert_eq!(
            e.misconfiguration(),
            Some(Misconfiguration::NoApiAtUrl {
                route: "POST:/app/api/v1/auth/universal-auth/login".into()
            })
        );
        let hint = e.hint();
        assert!(
            hint.contains("INFISICAL_HOST_URL") && hint.contains("path"),
            "{hint}"
        );
        assert!(!hint.contains("client secret"), "{hint}");
    }

    #[test]
    fn tls_to_plain_http_says_so() {
        let e = VaultError::Unreachable {
            url: "https://127.0.0.1:1/api/status".into(),
            detail: "received corrupt message of type InvalidContentType".into(),
        };
        assert!(
            e.hint()
                .starts_with("does the server speak plain http? use http://"),
            "{}",
            e.hint()
        );
    }
}
