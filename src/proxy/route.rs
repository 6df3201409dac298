//! The Infisical routes the proxy's policy cares about, recognised from
//! canonical path segments (see `policy::canonical_segments`).
//!
//! Secret reads: v4 `/api/v4/secrets[/:name]` (the current CLI) and v3
//! `/api/v3/secrets/raw[/:name]` (the SDKs and the official MCP server).
//! Folder listings: v1 `/api/v1/folders` (the CLI) and v2 `/api/v2/folders`.
//! Auth: universal-auth login and token renew, the only writes allowed by
//! default.

/// What a recognised route reads, for the scope check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopedRead {
    /// Secrets in one folder (`list`: the whole folder, else one by name).
    Secrets { list: bool },
    /// Folder names under one folder.
    Folders,
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
    Login,
    Renew,
    /// Anything else; `secretish` when a segment mentions secrets, snapshots
    /// or the dashboard, i.e. it may return secret values by another road.
    Other {
        secretish: bool,
    },
}

impl Route {
    pub fn classify(segments: &[String]) -> Route {
        let s: Vec<&str> = segments.iter().map(String::as_str).collect();
        match s.as_slice() {
            ["api", "v4", "secrets"] => Route::SecretsV4 { list: true },
            ["api", "v4", "secrets", _name] => Route::SecretsV4 { list: false },
            ["api", "v3", "secrets", "raw"] => Route::SecretsV3Raw { list: true },
            ["api", "v3", "secrets", "raw", _name] => Route::SecretsV3Raw { list: false },
            ["api", "v1" | "v2", "folders"] => Route::Folders,
            ["api", "v1", "auth", "universal-auth", "login"] => Route::Login,
            ["api", "v1", "auth", "token", "renew"] => Route::Renew,
            _ => Route::Other {
                secretish: s.iter().any(|seg| {
                    seg.contains("secret") || seg.contains("snapshot") || seg.contains("dashboard")
                }),
            },
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
            _ => None,
        }
    }

    pub fn may_hold_secrets(&self) -> bool {
        match self {
            Route::Other { secretish } => *secretish,
            Route::Login | Route::Renew => false,
            _ => true,
        }
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
        assert_eq!(route("/api/v1/auth/universal-auth/login"), Route::Login);
        assert_eq!(route("/api/v1/auth/token/renew"), Route::Renew);
        assert_eq!(route("/api/status"), Route::Other { secretish: false });
        assert_eq!(
            route("/api/v3/secrets/raw/id/x"),
            Route::Other { secretish: true }
        );
        assert_eq!(route("/api/v1/secret-imports"), Route::Other { secretish: true });
    }
}
