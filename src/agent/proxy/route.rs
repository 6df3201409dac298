//! The Infisical routes the proxy's policy knows, recognised from canonical
//! path segments (see `policy::canonical_segments`).
//!
//! Secret reads: v4 `/api/v4/secrets[/:name]` (the current CLI) and v3
//! `/api/v3/secrets/raw[/:name]` (the SDKs and the official MCP server).
//! Folder listings: v1 `/api/v1/folders` (the CLI) and v2 `/api/v2/folders`.
//! The secret-imports listing (`/api/v1/secret-imports`: which folders a
//! folder imports, no values), project metadata (`/api/v1/workspace[/:id]`),
//! `/api/status`, and universal-auth login and token renew. With a scope set,
//! everything else ([`Route::Other`]) is refused: an allow-list, because
//! exports, dashboards, snapshots and service-token routes can all carry
//! values under names no heuristic would catch.

/// What a recognised route reads, for the scope check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopedRead {
    /// Secrets in one folder (`list`: the whole folder, else one by name).
    Secrets { list: bool },
    /// Folder names under one folder.
    Folders,
    /// The import rules of one folder (paths and environments, no values).
    Imports,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    SecretsV4 {
        list: bool,
    },
    SecretsV3Raw {
        list: bool,
    },
    Folders,
    SecretImports,
    /// `/api/v1/workspace` and `/api/v1/workspace/:id`: project names and
    /// environments, which the CLI and SDKs read before anything else.
    ProjectMetadata,
    Status,
    Login,
    Renew,
    /// Anything else: passed without a scope, refused with one.
    Other,
}

/// Segments in the longest route; a longer path is none of them.
pub const MOST_SEGMENTS: usize = 5;

impl Route {
    pub fn classify<S: AsRef<str>>(segments: &[S]) -> Route {
        let mut s = [""; MOST_SEGMENTS];
        if segments.len() > s.len() {
            return Route::Other;
        }
        for (slot, segment) in s.iter_mut().zip(segments) {
            *slot = segment.as_ref();
        }
        match &s[..segments.len()] {
            ["api", "v4", "secrets"] => Route::SecretsV4 { list: true },
            ["api", "v4", "secrets", _name] => Route::SecretsV4 { list: false },
            ["api", "v3", "secrets", "raw"] => Route::SecretsV3Raw { list: true },
            ["api", "v3", "secrets", "raw", _name] => Route::SecretsV3Raw { list: false },
            ["api", "v1" | "v2", "folders"] => Route::Folders,
            ["api", "v1", "secret-imports"] => Route::SecretImports,
            ["api", "v1", "workspace"] | ["api", "v1", "workspace", _] => Route::ProjectMetadata,
            ["api", "status"] => Route::Status,
            ["api", "v1", "auth", "universal-auth", "login"] => Route::Login,
            ["api", "v1", "auth", "token", "renew"] => Route::Renew,
            _ => Route::Other,
        }
    }

    /// Login and renew: the writes every client needs to get a token.
    pub fn is_auth(&self) -> bool {
        matches!(self, Route::Login | Route::Renew)
    }

    pub fn scoped_read(&self) -> Option<ScopedRead> {
        match self {
            Route::SecretsV4 { list } | Route::SecretsV3Raw { list } => {
                Some(ScopedRead::Secrets { list: *list })
            }
            Route::Folders => Some(ScopedRead::Folders),
            Route::SecretImports => Some(ScopedRead::Imports),
            _ => None,
        }
    }

    /// Reads a scoped proxy passes without a path check: they carry no
    /// secret value and no folder content.
    pub fn is_unscoped_read(&self) -> bool {
        matches!(self, Route::Status | Route::ProjectMetadata)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> Route {
        let segs: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        Route::classify(&segs)
    }

    #[test]
    fn routes_are_recognised() {
        assert_eq!(route("/api/v4/secrets"), Route::SecretsV4 { list: true });
        assert_eq!(route("/api/v4/secrets/K"), Route::SecretsV4 { list: false });
        assert_eq!(route("/api/v3/secrets/raw"), Route::SecretsV3Raw { list: true });
        assert_eq!(
            route("/api/v3/secrets/raw/K"),
            Route::SecretsV3Raw { list: false }
        );
        assert_eq!(route("/api/v1/folders"), Route::Folders);
        assert_eq!(route("/api/v2/folders"), Route::Folders);
        assert_eq!(route("/api/v1/secret-imports"), Route::SecretImports);
        assert_eq!(route("/api/v1/workspace"), Route::ProjectMetadata);
        assert_eq!(route("/api/v1/workspace/p1"), Route::ProjectMetadata);
        assert_eq!(route("/api/status"), Route::Status);
        assert_eq!(route("/api/v1/auth/universal-auth/login"), Route::Login);
        assert_eq!(route("/api/v1/auth/token/renew"), Route::Renew);
        for other in [
            "/api/v3/secrets/raw/id/x",
            "/api/v1/secret-imports/secrets",
            "/api/v1/workspace/p1/secret-snapshots",
            "/api/v1/workspace/p1/export",
            "/api/v1/dashboard/secrets-overview",
            "/api/v2/service-token",
            "/api/v3/secrets",
            "/api/v1/auth/token/revoke",
            "/api/v3/secrets/raw/a/b/c",
            "/api/v3/secrets/raw/a/b/c/d/e/f/g",
        ] {
            assert_eq!(route(other), Route::Other, "{other}");
        }
    }
}
