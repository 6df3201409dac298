//! Shared helpers for the fake-vault tests: start a vault on 127.0.0.1:0,
//! a reqwest client that never follows redirects, and JSON request helpers.
#![allow(dead_code)]

pub mod recorded;
pub mod replay;

use infisical_fakevault::{
    DEMO_PROJECT_ID, FakeVault, Generation, Identity, PermissionRule, RunningVault, VaultData,
};
use reqwest::{Client, Method, StatusCode, redirect};
use serde_json::Value;
use tokio::net::TcpListener;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;
pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

pub const P: &str = DEMO_PROJECT_ID;
pub const WARDEN_ID: &str = "warden-client-id";
pub const WARDEN_SECRET: &str = "warden-FAKE-client-secret";
pub const ADMIN_ID: &str = "admin-client-id";
pub const ADMIN_SECRET: &str = "admin-FAKE-client-secret";

/// The identity of the 2024-build observations (docs/vault-api.md): only `read` on
/// `dev:/agents/warden/**`.
pub fn warden() -> Identity {
    Identity::new(
        WARDEN_ID,
        WARDEN_SECRET,
        vec![PermissionRule::read("dev", "/agents/warden/**")],
    )
}

/// An over-privileged identity: everything, everywhere.
pub fn admin() -> Identity {
    Identity::new(ADMIN_ID, ADMIN_SECRET, vec![PermissionRule::all("*", "/**")])
}

pub fn vault(generation: Generation) -> FakeVault {
    FakeVault::new(VaultData::sample())
        .generation(generation)
        .identity(warden())
        .identity(admin())
}

/// A started vault, a client and a token: where most tests begin.
pub struct Session {
    pub v: RunningVault,
    pub c: Client,
    pub t: String,
}

impl Session {
    /// The sample vault of `generation`, with the warden logged in.
    pub async fn warden(generation: Generation) -> Res<Self> {
        let (v, c, t) = warden_session(generation).await?;
        Ok(Self { v, c, t })
    }

    /// `path` on this vault, as a full URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.v.base_url())
    }

    /// GET `path` with the session's token.
    pub async fn get(&self, path: &str) -> Res<Answer> {
        get(&self.c, &self.url(path), &self.t).await
    }
}

/// The sample vault of `generation`, started, with a client and a warden token.
pub async fn warden_session(generation: Generation) -> Res<(RunningVault, Client, String)> {
    let v = start(vault(generation)).await?;
    let c = client()?;
    let token = login(&c, &v, WARDEN_ID, WARDEN_SECRET).await?;
    Ok((v, c, token))
}

pub async fn start(v: FakeVault) -> Res<RunningVault> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    Ok(v.start(listener).await?)
}

pub fn client() -> Res<Client> {
    Ok(Client::builder()
        .redirect(redirect::Policy::none())
        .user_agent("fakevault-tests/1.0")
        .build()?)
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn call(
    c: &Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Res<Answer> {
    let mut req = c.request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await?;
    Ok(Answer {
        status: resp.status(),
        headers: resp.headers().clone(),
        text: resp.text().await?,
    })
}

pub async fn get(c: &Client, url: &str, token: &str) -> Res<Answer> {
    call(c, Method::GET, url, Some(token), None).await
}

/// A GET of `path` on `v` with `token`.
pub async fn get_at(c: &Client, v: &RunningVault, path: &str, token: &str) -> Res<Answer> {
    get(c, &format!("{}{path}", v.base_url()), token).await
}

/// A GET without a token.
pub async fn get_anon(c: &Client, url: &str) -> Res<Answer> {
    call(c, Method::GET, url, None, None).await
}

/// A JSON POST without a token (logins, renewals).
pub async fn post(c: &Client, url: &str, body: Value) -> Res<Answer> {
    call(c, Method::POST, url, None, Some(body)).await
}

/// A JSON POST with `token`.
pub async fn post_as(c: &Client, url: &str, token: &str, body: Value) -> Res<Answer> {
    call(c, Method::POST, url, Some(token), Some(body)).await
}

pub async fn login(c: &Client, v: &RunningVault, id: &str, secret: &str) -> Res<String> {
    let url = format!("{}/api/v1/auth/universal-auth/login", v.base_url());
    let a = post(
        c,
        &url,
        serde_json::json!({"clientId": id, "clientSecret": secret}),
    )
    .await?;
    let token = a.json()["accessToken"].as_str().map(str::to_owned);
    token.ok_or_else(|| format!("login failed: {} {}", a.status, a.text).into())
}

/// Keys of a list answer's `secrets`.
pub fn keys(body: &Value) -> Vec<String> {
    body["secrets"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["secretKey"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts the current generation's error body shape.
pub fn assert_current_error(a: &Answer, status: u16, error: &str, message: &str) {
    let body = assert_error(a, status, error, message);
    let req_id = body["reqId"].as_str().unwrap_or_default();
    assert!(req_id.starts_with("req-") && req_id.len() == 18, "{}", a.text);
}

/// Asserts the 2024 build's error body shape (no reqId).
pub fn assert_legacy_error(a: &Answer, status: u16, error: &str, message: &str) {
    let body = assert_error(a, status, error, message);
    assert!(body.get("reqId").is_none(), "{}", a.text);
}

/// The status, `statusCode`, `error` and `message` both generations share.
fn assert_error(a: &Answer, status: u16, error: &str, message: &str) -> Value {
    let body = a.json();
    assert_eq!(a.status.as_u16(), status, "{}", a.text);
    assert_eq!(body["statusCode"], status, "{}", a.text);
    assert_eq!(body["error"], error, "{}", a.text);
    assert_eq!(body["message"], message, "{}", a.text);
    body
}
