//! Error replies, in each generation's exact body shape: Infisical's error
//! handler (`{reqId, statusCode, message, error[, details]}`), the 2024 build's
//! (`{statusCode, message, error}`), fastify's route-not-found body, and the
//! rate-limit refusals (a 429, or the 2024 build's generic 500).

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode, header};
use serde::Serialize;
use serde_json::Value;

use super::Generation;
use super::tokens::random_string;

pub(crate) type Reply = Response<Full<Bytes>>;

/// An error as a route produces it; rendered per generation at the end.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    error: String,
    message: Value,
    details: Option<Value>,
    shape: Shape,
    headers: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    Infisical,
    /// fastify's own 404 for an unregistered route; the URL includes the query.
    RouteNotFound,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, error: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error: error.to_owned(),
            message: Value::String(message.into()),
            details: None,
            shape: Shape::Infisical,
            headers: Vec::new(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UnauthorizedError", message)
    }

    pub(crate) fn token_error(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "TokenError", message)
    }

    pub(crate) fn not_found(error: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, error, message)
    }

    pub(crate) fn permission_denied(action: &str, details: Value) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "PermissionDenied",
            format!("You are not allowed to {action} on secrets"),
        )
        .with_details(details)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "ForbiddenError", message)
    }

    pub(crate) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Something went wrong",
        )
    }

    /// zod validation failure: 422 now, 401 on the 2024 build.
    pub(crate) fn validation(generation: Generation, issues: Vec<Value>) -> Self {
        let status = match generation {
            Generation::Current => StatusCode::UNPROCESSABLE_ENTITY,
            Generation::Legacy => StatusCode::UNAUTHORIZED,
        };
        let mut e = Self::new(status, "ValidationFailure", "");
        e.message = Value::Array(issues);
        e
    }

    pub(crate) fn route_not_found(method: &str, raw_url: &str) -> Self {
        let mut e = Self::new(
            StatusCode::NOT_FOUND,
            "Not Found",
            format!("Route {method}:{raw_url} not found"),
        );
        e.shape = Shape::RouteNotFound;
        e
    }

    /// A refusal by the rate limiter; the 2024 build answers it with its
    /// generic 500.
    pub(crate) fn rate_limited(generation: Generation, retry_after: u64, limit: u32) -> Self {
        let mut e = match generation {
            Generation::Current => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RateLimitExceeded",
                format!("Rate limit exceeded. Please try again in {retry_after} seconds"),
            ),
            Generation::Legacy => Self::internal(),
        };
        e.headers = vec![
            ("retry-after", retry_after.to_string()),
            ("x-ratelimit-limit", limit.to_string()),
            ("x-ratelimit-remaining", "0".to_owned()),
            ("x-ratelimit-reset", retry_after.to_string()),
        ];
        e
    }

    pub(crate) fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub(crate) fn into_reply(self, generation: Generation) -> Reply {
        let body = match (&self.shape, generation) {
            (Shape::RouteNotFound, _) => serde_json::to_vec(&FastifyBody {
                message: &self.message,
                error: &self.error,
                status_code: self.status.as_u16(),
            }),
            (Shape::Infisical, Generation::Current) => serde_json::to_vec(&CurrentBody {
                req_id: format!("req-{}", random_string(14)),
                status_code: self.status.as_u16(),
                message: &self.message,
                error: &self.error,
                details: self.details.as_ref(),
            }),
            (Shape::Infisical, Generation::Legacy) => serde_json::to_vec(&LegacyBody {
                status_code: self.status.as_u16(),
                message: &self.message,
                error: &self.error,
            }),
        };
        let mut reply = json_reply(self.status, body.unwrap_or_default());
        for (name, value) in self.headers {
            if let Ok(v) = header::HeaderValue::from_str(&value) {
                reply.headers_mut().insert(name, v);
            }
        }
        reply
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CurrentBody<'a> {
    req_id: String,
    status_code: u16,
    message: &'a Value,
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LegacyBody<'a> {
    status_code: u16,
    message: &'a Value,
    error: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FastifyBody<'a> {
    message: &'a Value,
    error: &'a str,
    status_code: u16,
}

pub(crate) fn json_reply(status: StatusCode, body: Vec<u8>) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    reply
}

pub(crate) fn ok_json<T: Serialize>(body: &T) -> Reply {
    json_reply(StatusCode::OK, serde_json::to_vec(body).unwrap_or_default())
}

pub(crate) fn html_reply(status: StatusCode, body: String) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=UTF-8"),
    );
    reply
}

pub(crate) fn text_reply(status: StatusCode, body: &'static str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    reply
}

/// A zod issue for a value that is not one of `options`.
pub(crate) fn enum_issue(field: &str, received: &str, options: &[&str]) -> Value {
    let expected = options
        .iter()
        .map(|o| format!("'{o}'"))
        .collect::<Vec<_>>()
        .join(" | ");
    serde_json::json!({
        "received": received,
        "code": "invalid_enum_value",
        "options": options,
        "path": [field],
        "message": format!("Invalid enum value. Expected {expected}, received '{received}'"),
    })
}

/// A zod issue for a missing or mistyped field.
pub(crate) fn type_issue(field: &str, expected: &str, received: &str) -> Value {
    let message = if received == "undefined" {
        "Required".to_owned()
    } else {
        format!("Expected {expected}, received {received}")
    };
    serde_json::json!({
        "code": "invalid_type",
        "expected": expected,
        "received": received,
        "path": [field],
        "message": message,
    })
}
