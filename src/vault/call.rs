//! One authenticated exchange with the vault, shared by every read and every
//! admin call: a usable token from the [`auth`](super::auth) session, one
//! re-login when the vault refuses it, one move to the older generation of a
//! route family when fastify says the current route does not exist, and the
//! classification of every other answer into a [`VaultError`].
//!
//! Route families that exist in two generations (current / 2024 build) are
//! built by [`Family::scoped`], the one place that knows which route and
//! which project-id key each generation takes.

use std::sync::atomic::{AtomicBool, Ordering};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::VaultClient;
use super::error::VaultError;
use super::http::{Answer, ApiError, Request, gateway_error};
use super::types::Location;

/// Characters left as they are in a name placed in a URL path.
const NAME_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// `name` as one URL path segment.
pub(crate) fn segment(name: &str) -> String {
    utf8_percent_encode(name, NAME_SAFE).to_string()
}

/// A family of routes that moves to its older generation as one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// `/api/v4/secrets` now, `/api/v3/secrets/raw` on the 2024 build.
    Secrets,
    /// `/api/v2/folders` now, `/api/v1/folders` on the 2024 build.
    Folders,
    /// `/api/v2/secret-imports` now, `/api/v1/secret-imports` on the 2024 build.
    Imports,
    /// `/api/v2/identity-project-additional-privilege` now,
    /// `/api/v1/additional-privilege/identity…` on the 2024 build.
    Privileges,
    /// Routes both generations share (projects, identities, universal auth,
    /// memberships, the v1 folder and v3 secret write routes): a missing one
    /// is an error, never a reason to move another family.
    Shared,
}

impl Family {
    fn has_older(self) -> bool {
        self != Self::Shared
    }

    /// The base route and project-id key of this family's generation.
    pub(crate) fn base(self, legacy: bool) -> (&'static str, &'static str) {
        match (self, legacy) {
            (Self::Secrets, false) => ("/api/v4/secrets", "projectId"),
            (Self::Secrets, true) => ("/api/v3/secrets/raw", "workspaceId"),
            (Self::Folders, false) => ("/api/v2/folders", "projectId"),
            (Self::Folders, true) => ("/api/v1/folders", "workspaceId"),
            (Self::Imports, false) => ("/api/v2/secret-imports", "projectId"),
            (Self::Imports, true) => ("/api/v1/secret-imports", "workspaceId"),
            (Self::Privileges, false) => ("/api/v2/identity-project-additional-privilege", "projectId"),
            (Self::Privileges, true) => ("/api/v1/additional-privilege/identity", "projectSlug"),
            (Self::Shared, _) => ("/api", "workspaceId"),
        }
    }

    /// A GET of this family's route at `at` (with `/{name}` when given):
    /// the generation's project key, the environment, the folder under
    /// `path_key`, then `extra`.
    pub(crate) fn scoped(
        self,
        legacy: bool,
        name: Option<&str>,
        at: &Location,
        path_key: &'static str,
        extra: Vec<(&'static str, String)>,
    ) -> Request {
        let (base, project_key) = self.base(legacy);
        let route = match name {
            Some(name) => format!("{base}/{}", segment(name)),
            None => base.to_string(),
        };
        let mut query = vec![
            (project_key, at.project_id.clone()),
            ("environment", at.environment.clone()),
            (path_key, at.path.as_str().to_string()),
        ];
        query.extend(extra);
        Request::get(route, query)
    }
}

/// Which generation each two-generation family has answered to: starts at
/// the current routes and moves to the older ones at most once.
#[derive(Default)]
pub(crate) struct Routes {
    legacy: [AtomicBool; 4],
}

impl Routes {
    fn slot(family: Family) -> Option<usize> {
        match family {
            Family::Secrets => Some(0),
            Family::Folders => Some(1),
            Family::Imports => Some(2),
            Family::Privileges => Some(3),
            Family::Shared => None,
        }
    }

    pub(crate) fn is_legacy(&self, family: Family) -> bool {
        Self::slot(family).is_some_and(|i| self.legacy[i].load(Ordering::Relaxed))
    }

    fn set_legacy(&self, family: Family) {
        if let Some(i) = Self::slot(family) {
            self.legacy[i].store(true, Ordering::Relaxed);
        }
    }
}

/// A request with a JSON body; never retried (it may change the vault).
pub(crate) fn with_body(method: Method, path: String, body: Option<&serde_json::Value>) -> Request {
    Request {
        method,
        path,
        query: Vec::new(),
        body: body.and_then(|b| serde_json::to_vec(b).ok()),
        idempotent: false,
    }
}

/// fastify's answer for a route that does not exist, as opposed to a
/// resource that does not: only that one means "older vault, fall back".
pub(crate) fn is_missing_route(answer: &Answer, error: &ApiError) -> bool {
    answer.status == StatusCode::NOT_FOUND
        && error.error.as_deref() == Some("Not Found")
        && error.text().starts_with("Route ")
}

/// A refusal of the token itself, worth one fresh login: 403 `TokenError`
/// (expired, malformed), or a 401 that speaks of the token, its
/// authorisation or the identity (`Token missing`, `No identity access token
/// found`, `Failed to authorize: …`, `Identity is not a member of the
/// organization`). The 2024 build also answers request validation
/// (`ValidationFailure`) and some missing fields with 401; those are the
/// request's fault, and a new login would only hide them.
pub(crate) fn is_token_refusal(answer: &Answer, error: &ApiError) -> bool {
    if answer.status == StatusCode::FORBIDDEN {
        return error.error.as_deref() == Some("TokenError");
    }
    if answer.status != StatusCode::UNAUTHORIZED || error.error.as_deref() == Some("ValidationFailure") {
        return false;
    }
    let text = error.text().to_ascii_lowercase();
    text.is_empty()
        || ["token", "authoriz", "identity", "client secret"]
            .iter()
            .any(|w| text.contains(w))
}

/// Every answer that is neither a success, a gateway's, a token refusal nor
/// a missing route.
pub(crate) fn classify(answer: &Answer, error: &ApiError) -> VaultError {
    let message = error.text();
    match answer.status {
        StatusCode::FORBIDDEN => VaultError::PermissionDenied { message },
        StatusCode::NOT_FOUND => VaultError::NotFound { message },
        StatusCode::TOO_MANY_REQUESTS => VaultError::RateLimited {
            retry_after: answer.retry_after(),
        },
        s if s.is_client_error() => VaultError::BadRequest {
            status: s.as_u16(),
            message,
        },
        // The error name says which part failed (`Find project by slug`
        // is a 500 of the 2024 build for an unknown project slug).
        s => VaultError::Server {
            status: s.as_u16(),
            message: match error.error.as_deref() {
                _ if message.is_empty() => s.to_string(),
                Some(kind) if kind != "InternalServerError" && kind != message => {
                    format!("{message} ({kind})")
                }
                _ => message,
            },
        },
    }
}

pub(crate) fn parse<T: DeserializeOwned>(url: &str, answer: &Answer) -> Result<T, VaultError> {
    serde_json::from_slice(&answer.body).map_err(|e| VaultError::UnexpectedResponse {
        url: url.to_string(),
        status: answer.status.as_u16(),
        detail: format!("not the JSON Infisical sends ({})", json_problem(&e)),
    })
}

/// What kind of JSON problem it was; never the offending bytes, which may
/// hold a value.
fn json_problem(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "malformed JSON",
        serde_json::error::Category::Data => "unexpected fields",
        serde_json::error::Category::Eof => "truncated JSON",
    }
}

/// A delete or lookup whose 404 means "not there (any more)".
pub(crate) fn gone_is_false<T>(result: Result<T, VaultError>) -> Result<bool, VaultError> {
    match result {
        Ok(_) => Ok(true),
        Err(VaultError::NotFound { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

impl VaultClient {
    /// One authenticated call, its answer parsed as `T`.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        family: Family,
        build: impl Fn(bool) -> Request,
    ) -> Result<T, VaultError> {
        let (url, answer) = self.send(family, build).await?;
        parse(&url, &answer)
    }

    /// One authenticated call whose answer only has to be a success.
    pub(crate) async fn call_unit(
        &self,
        family: Family,
        build: impl Fn(bool) -> Request,
    ) -> Result<(), VaultError> {
        self.send(family, build).await.map(|_| ())
    }

    /// One authenticated call: fresh token, one re-login if the vault
    /// refuses it, one fall-back to the family's older route if the route
    /// itself is missing. `build` gets "use the older generation" and is
    /// called again for every attempt. Hands back the URL and the
    /// successful answer.
    pub(crate) async fn send(
        &self,
        family: Family,
        build: impl Fn(bool) -> Request,
    ) -> Result<(String, Answer), VaultError> {
        let deadline = Instant::now() + self.transport.call_timeout();
        let mut logged_in_again = false;
        loop {
            let legacy = self.routes.is_legacy(family);
            let request = build(legacy);
            let (token, generation): (SecretString, u64) =
                self.session.token(&self.transport, deadline).await?;
            let answer = self.transport.execute(&request, Some(&token), deadline).await?;
            drop(token);
            let url = self.transport.url(&request.path);
            if let Some(e) = gateway_error(&url, &answer) {
                return Err(e);
            }
            if answer.is_success() {
                return Ok((url, answer));
            }
            let error = answer.api_error();
            if is_missing_route(&answer, &error) {
                if family.has_older() && !legacy {
                    tracing::info!(route = %request.path, "route missing: older vault, using the previous API generation");
                    self.routes.set_legacy(family);
                    continue;
                }
                return Err(VaultError::UnexpectedResponse {
                    url,
                    status: 404,
                    detail: if family.has_older() {
                        "the vault has neither the current nor the older route; is this Infisical?".into()
                    } else {
                        format!(
                            "the vault has no route {} {}; is this Infisical?",
                            request.method, request.path
                        )
                    },
                });
            }
            if is_token_refusal(&answer, &error) {
                let pre_issued = self.session.is_pre_issued();
                if pre_issued || logged_in_again {
                    return Err(VaultError::TokenRejected {
                        message: error.text(),
                        pre_issued,
                    });
                }
                tracing::info!(
                    status = answer.status.as_u16(),
                    "access token refused; logging in again"
                );
                self.session.invalidate(generation).await;
                logged_in_again = true;
                continue;
            }
            return Err(classify(&answer, &error));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn answer(status: u16, body: &str) -> (Answer, ApiError) {
        let answer = Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: reqwest::header::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        };
        let error = answer.api_error();
        (answer, error)
    }

    #[test]
    fn token_refusals_of_both_generations_are_recognised() {
        for (status, body, refusal) in [
            (
                401,
                r#"{"message":"Token missing","error":"UnauthorizedError"}"#,
                true,
            ),
            (
                401,
                r#"{"message":"No identity access token found","error":"UnauthorizedError"}"#,
                true,
            ),
            (
                401,
                r#"{"message":"Failed to authorize: client secret has been revoked","error":"UnauthorizedError"}"#,
                true,
            ),
            (
                401,
                r#"{"message":"Identity is not a member of the organization","error":"UnauthorizedError"}"#,
                true,
            ),
            (401, "", true),
            (
                403,
                r#"{"message":"Your token has expired. Please re-authenticate.","error":"TokenError"}"#,
                true,
            ),
            (
                403,
                r#"{"message":"You are not allowed to read on secrets","error":"PermissionDenied"}"#,
                false,
            ),
            (
                401,
                r#"{"message":[{"path":["slug"],"message":"Required"}],"error":"ValidationFailure"}"#,
                false,
            ),
            (
                401,
                r#"{"message":"Permission or privilegePermission must be provided","error":"UnauthorizedError"}"#,
                false,
            ),
        ] {
            let (answer, error) = answer(status, body);
            assert_eq!(is_token_refusal(&answer, &error), refusal, "{status} {body}");
        }
    }

    #[test]
    fn only_fastifys_route_answer_is_a_missing_route() {
        let (a, e) = answer(
            404,
            r#"{"message":"Route GET:/api/v4/secrets not found","error":"Not Found"}"#,
        );
        assert!(is_missing_route(&a, &e));
        let (a, e) = answer(404, r#"{"message":"Secret not found","error":"NotFound"}"#);
        assert!(!is_missing_route(&a, &e));
    }

    #[test]
    fn a_server_error_keeps_its_name_when_it_says_more() {
        let (a, e) = answer(
            500,
            r#"{"message":"Something went wrong","error":"Find project by slug"}"#,
        );
        assert_eq!(
            classify(&a, &e).to_string(),
            "vault error 500: Something went wrong (Find project by slug)"
        );
        let (a, e) = answer(
            500,
            r#"{"message":"Something went wrong","error":"InternalServerError"}"#,
        );
        assert_eq!(
            classify(&a, &e).to_string(),
            "vault error 500: Something went wrong"
        );
        let (a, e) = answer(502, "");
        assert!(matches!(classify(&a, &e), VaultError::Server { status: 502, .. }));
    }

    #[test]
    fn the_two_generations_of_a_family_differ_in_route_and_project_key() {
        let at = Location {
            project_id: "p".into(),
            environment: "dev".into(),
            path: crate::scope::SecretPath::parse("/a b").unwrap(),
        };
        let now = Family::Secrets.scoped(false, Some("K/1"), &at, "secretPath", Vec::new());
        assert_eq!(now.path, "/api/v4/secrets/K%2F1");
        assert_eq!(now.query[0], ("projectId", "p".to_string()));
        let old = Family::Imports.scoped(true, None, &at, "path", vec![("x", "1".into())]);
        assert_eq!(old.path, "/api/v1/secret-imports");
        assert_eq!(
            old.query,
            [
                ("workspaceId", "p".to_string()),
                ("environment", "dev".to_string()),
                ("path", "/a b".to_string()),
                ("x", "1".to_string())
            ]
        );
    }
}
