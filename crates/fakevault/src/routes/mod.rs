//! Route table and what every route shares: the request context, query
//! parsing with zod-like validation, and bearer-token authentication.
//! Routes a generation does not have fall through to fastify's 404.

mod auth;
mod folder_writes;
mod folders;
pub(crate) mod identities;
mod import_writes;
mod imports;
mod projects;
mod secret_json;
mod secret_writes;
mod secrets;
mod tags;

use std::cell::Cell;

use bytes::Bytes;
use hyper::{HeaderMap, Method, StatusCode};
use serde_json::Value;

use super::errors::{ApiError, Reply, enum_issue, type_issue};
use super::ratelimit::RateInfo;
use super::tokens::TokenCheck;
use super::{Action, Generation, PermissionRule, Shared, input, lock};

/// One request as the routes see it.
pub(crate) struct Ctx<'a> {
    method: &'a Method,
    path: &'a str,
    raw_url: &'a str,
    query: Vec<(String, String)>,
    headers: &'a HeaderMap,
    body: Bytes,
    client_ip: &'a str,
    /// Set when the rate limiter counted this request.
    rate: Cell<Option<RateInfo>>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        method: &'a Method,
        path: &'a str,
        raw_url: &'a str,
        headers: &'a HeaderMap,
        client_ip: &'a str,
        body: Bytes,
    ) -> Self {
        let query = raw_url
            .split_once('?')
            .map(|(_, q)| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        Ctx {
            method,
            path,
            raw_url,
            query,
            headers,
            body,
            client_ip,
            rate: Cell::new(None),
        }
    }

    /// What the rate limiter told this request, if it counted it.
    pub(crate) fn rate_info(&self) -> Option<RateInfo> {
        self.rate.get()
    }
}

/// Counts the request against its rate-limit bucket (when the limiter is
/// on); a request over the limit is refused.
pub(crate) fn rate_limit(shared: &Shared, ctx: &Ctx<'_>) -> Result<(), ApiError> {
    let Some(limiter) = &shared.limiter else {
        return Ok(());
    };
    let Some(info) = limiter.hit(ctx.method, ctx.path, ctx.client_ip) else {
        return Ok(());
    };
    ctx.rate.set(Some(info));
    if info.refused {
        return Err(ApiError::rate_limited(
            shared.generation,
            info.reset_secs,
            info.limit,
        ));
    }
    Ok(())
}

/// Which API version a secrets or folders route belongs to; it decides the
/// project parameter's name and a few texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    V1,
    V2,
    V3,
    V4,
}

pub(crate) fn dispatch(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let current = shared.generation == Generation::Current;
    // fastify here is lenient about one trailing slash (the CLI relies on it).
    let path = match ctx.path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => ctx.path,
    };
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    let m = ctx.method;
    if let Some(answer) = identities::route(shared, ctx, &segs) {
        return answer;
    }
    match segs.as_slice() {
        ["api", "status"] if m == Method::GET => Ok(projects::status(shared.generation)),
        ["api", "v1", "auth", "universal-auth", "login"] if m == Method::POST => auth::login(shared, ctx),
        ["api", "v1", "auth", "token", "renew"] if m == Method::POST => auth::renew(shared, ctx),
        ["api", "v1", "auth", "token", "revoke"] if m == Method::POST => auth::revoke(shared, ctx),
        ["api", "v4", "secrets"] if current && m == Method::GET => secrets::list(shared, ctx, Api::V4),
        ["api", "v3", "secrets", "raw"] if m == Method::GET => secrets::list(shared, ctx, Api::V3),
        ["api", "v4", "secrets", name] if current => secret_by_name(shared, ctx, Api::V4, name),
        ["api", "v3", "secrets", "raw", name] => secret_by_name(shared, ctx, Api::V3, name),
        ["api", "v3", "secrets", "tags", _] if !current && m == Method::POST => {
            secret_writes::legacy_tag_attach(shared, ctx)
        }
        ["api", "v2", "folders"] if current && m == Method::GET => folders::list(shared, ctx, Api::V2),
        ["api", "v1", "folders"] if m == Method::GET => folders::list(shared, ctx, Api::V1),
        ["api", "v2", "secret-imports"] if current && m == Method::GET => imports::list(shared, ctx, Api::V2),
        ["api", "v1", "secret-imports"] if m == Method::GET => imports::list(shared, ctx, Api::V1),
        ["api", "v1", "workspace"] if m == Method::GET => projects::list(shared, ctx),
        ["api", "v1", "workspace", id] if m == Method::GET => projects::get(shared, ctx, &percent_decode(id)),
        ["api", "v1", "workspace", id, "tags"] if m == Method::GET => {
            tags::list(shared, ctx, &percent_decode(id))
        }
        ["api", "v1", "workspace", id, "tags"] if m == Method::POST => {
            tags::create(shared, ctx, &percent_decode(id))
        }
        ["api", "v1", "folders"] if m == Method::POST => folder_writes::create(shared, ctx),
        ["api", "v2", "folders"] if current && m == Method::POST => folder_writes::create(shared, ctx),
        ["api", "v1", "projects", id, "tags"] if current && m == Method::GET => {
            tags::list(shared, ctx, &percent_decode(id))
        }
        ["api", "v1", "projects", id, "tags"] if current && m == Method::POST => {
            tags::create(shared, ctx, &percent_decode(id))
        }
        ["api", "v1", "folders", id] if m == Method::GET => {
            folder_writes::get_by_id(shared, ctx, &percent_decode(id))
        }
        ["api", "v1", "folders", id] if m == Method::DELETE => {
            folder_writes::delete(shared, ctx, &percent_decode(id))
        }
        ["api", "v1", "secret-imports"] if m == Method::POST => import_writes::create(shared, ctx),
        ["api", "v2", "workspace", slug] if !current && m == Method::GET => {
            projects::get_by_slug(shared, ctx, &percent_decode(slug))
        }
        _ => Err(not_found(ctx)),
    }
}

fn secret_by_name(shared: &Shared, ctx: &Ctx<'_>, api: Api, name: &str) -> Result<Reply, ApiError> {
    let name = input::name(&percent_decode(name)).to_owned();
    match *ctx.method {
        Method::GET => secrets::get(shared, ctx, api, &name),
        Method::POST | Method::PATCH | Method::DELETE => secret_writes::write(shared, ctx, api, &name),
        _ => Err(not_found(ctx)),
    }
}

fn not_found(ctx: &Ctx<'_>) -> ApiError {
    ApiError::route_not_found(ctx.method.as_str(), ctx.raw_url)
}

/// The authenticated caller of a route.
pub(crate) struct Caller {
    pub(crate) client_id: String,
    pub(crate) rules: Vec<PermissionRule>,
    pub(crate) tag_actions: Vec<Action>,
}

/// `Authorization` handling per `inject-identity.ts` / `verify-auth.ts`: the
/// scheme word is not checked (`slice(7)`), JWT failures are 403 TokenError,
/// a revoked token 401.
pub(crate) fn authenticate(shared: &Shared, ctx: &Ctx<'_>) -> Result<Caller, ApiError> {
    if ctx.headers.contains_key("x-api-key") {
        return Err(ApiError::bad_request(
            "API key authentication is not supported anymore. Please use another authentication method.",
        ));
    }
    let Some(header) = ctx.headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Err(ApiError::unauthorized("Token missing"));
    };
    let token = header.get(7..).unwrap_or("");
    if token.is_empty() {
        // jsonwebtoken's own words for `Bearer ` with nothing after it.
        return Err(ApiError::token_error("jwt must be provided"));
    }
    let check = lock(&shared.tokens).check(token);
    match check {
        TokenCheck::Valid { client_id, .. } if shared.org.is_deleted(&client_id) => {
            Err(ApiError::unauthorized("No identity access token found"))
        }
        TokenCheck::Valid { client_id, .. } => {
            // Authentication runs before the limiter: failures are not counted.
            rate_limit(shared, ctx)?;
            let (rules, tag_actions) = shared
                .identity(&client_id)
                .map(|i| (i.rules, i.tag_actions))
                .unwrap_or_default();
            Ok(Caller {
                client_id,
                rules,
                tag_actions,
            })
        }
        other => Err(token_failure(other)),
    }
}

pub(crate) fn token_failure(check: TokenCheck) -> ApiError {
    match check {
        TokenCheck::Expired => ApiError::token_error("Your token has expired. Please re-authenticate."),
        TokenCheck::BadSignature => ApiError::token_error("invalid signature"),
        TokenCheck::Revoked => ApiError::unauthorized("No identity access token found"),
        TokenCheck::Malformed | TokenCheck::Valid { .. } => ApiError::token_error(
            "The provided access token is malformed. Please use a valid token or generate a new one and try again.",
        ),
    }
}

/// Query access with zod's view of it: a repeated key is an array (so not a
/// string), booleans are the strings "true"/"false" only.
pub(crate) struct Query<'a> {
    ctx: &'a Ctx<'a>,
    issues: Vec<Value>,
}

impl<'a> Query<'a> {
    pub(crate) fn new(ctx: &'a Ctx<'a>) -> Self {
        Query {
            ctx,
            issues: Vec::new(),
        }
    }

    /// A string parameter; a repeated one is a validation issue.
    pub(crate) fn string(&mut self, name: &str) -> Option<&'a str> {
        let mut values = self.ctx.query.iter().filter(|(k, _)| k == name);
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            self.issues.push(type_issue(name, "string", "array"));
            return None;
        }
        first
    }

    /// A required string parameter.
    pub(crate) fn required(&mut self, name: &str) -> Option<&'a str> {
        let value = self.string(name);
        if value.is_none() && !self.issues.iter().any(|i| i["path"][0] == name) {
            self.issues.push(type_issue(name, "string", "undefined"));
        }
        value
    }

    /// Infisical's secrets-route boolean: `"true"`/`"false"` or a 422.
    pub(crate) fn boolean(&mut self, name: &str, default: bool) -> bool {
        match self.string(name) {
            None => default,
            Some("true") => true,
            Some("false") => false,
            Some(other) => {
                self.issues.push(enum_issue(name, other, &["true", "false"]));
                default
            }
        }
    }

    /// The folder routes' lenient boolean: anything but "", "0", "false" is true.
    pub(crate) fn loose_boolean(&mut self, name: &str) -> bool {
        self.string(name)
            .is_some_and(|v| !matches!(v, "" | "0" | "false"))
    }

    pub(crate) fn one_of(&mut self, name: &str, options: &[&str]) -> Option<&'a str> {
        let value = self.string(name)?;
        if options.contains(&value) {
            Some(value)
        } else {
            self.issues.push(enum_issue(name, value, options));
            None
        }
    }

    pub(crate) fn number(&mut self, name: &str) -> Option<u32> {
        let value = self.string(name)?;
        match value.trim().parse() {
            Ok(n) => Some(n),
            Err(_) => {
                self.issues.push(type_issue(name, "number", "nan"));
                None
            }
        }
    }

    pub(crate) fn finish(self, generation: Generation) -> Result<(), ApiError> {
        if self.issues.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(generation, self.issues))
        }
    }
}

/// The JSON request body as an object; anything else is a validation failure.
pub(crate) fn json_body(
    ctx: &Ctx<'_>,
    generation: Generation,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(&ctx.body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::validation(
            generation,
            vec![type_issue("", "object", json_type(&other))],
        )),
        // fastify hands the 2024 build's zod a null body.
        Err(_) if ctx.body.is_empty() && generation == Generation::Legacy => Err(ApiError::validation(
            generation,
            vec![serde_json::json!({
                "code": "invalid_type",
                "expected": "object",
                "received": "null",
                "path": [],
                "message": "Expected object, received null",
            })],
        )),
        Err(_) if ctx.body.is_empty() => Err(ApiError::validation(
            generation,
            vec![type_issue("", "object", "undefined")],
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "Body is not valid JSON but content-type is set to 'application/json'",
        )),
    }
}

/// A string field of a JSON body, collecting a zod issue when it is required
/// and missing or not a string. Strings are trimmed as Infisical's zod
/// schemas trim them ([`input::js_trim`]).
pub(crate) fn body_string(
    body: &serde_json::Map<String, Value>,
    field: &str,
    required: bool,
    issues: &mut Vec<Value>,
) -> Option<String> {
    body_raw_string(body, field, required, issues).map(|s| input::js_trim(&s).to_owned())
}

/// [`body_string`] without the trim, for secret values (which keep one
/// trailing newline).
pub(crate) fn body_raw_string(
    body: &serde_json::Map<String, Value>,
    field: &str,
    required: bool,
    issues: &mut Vec<Value>,
) -> Option<String> {
    match body.get(field) {
        Some(Value::String(s)) => Some(s.clone()),
        None | Some(Value::Null) if !required => None,
        None => {
            issues.push(type_issue(field, "string", "undefined"));
            None
        }
        Some(other) => {
            issues.push(type_issue(field, "string", json_type(other)));
            None
        }
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
