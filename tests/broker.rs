//! The real binary as `broker`, between real clients and a fake HTTPS
//! upstream (CA made at test time, passed with --upstream-ca), reading its
//! secrets from the fake vault; every output searched for the values.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod broker_support;
mod common;
mod proxy_support;

use broker_support::*;

struct World {
    upstream: Upstream,
    dir: tempfile::TempDir,
    rules: String,
    ca: String,
    audit: String,
}

async fn world() -> (World, infisical_fakevault::RunningVault) {
    let upstream = start_upstream().await;
    let vault = start_vault().await;
    let dir = tempfile::tempdir().unwrap();
    let (rules, ca) = write_rules(dir.path(), &upstream);
    let audit = dir.path().join("audit.jsonl");
    let w = World {
        upstream,
        rules: rules.display().to_string(),
        ca: ca.display().to_string(),
        audit: audit.display().to_string(),
        dir,
    };
    (w, vault)
}

impl World {
    fn start(&self, vault: &infisical_fakevault::RunningVault, extra_env: &[(&str, &str)]) -> Broker {
        let mut env = broker_env(vault);
        for (k, v) in extra_env {
            env.insert((*k).into(), (*v).into());
        }
        Broker::start(
            &[
                "--rules",
                &self.rules,
                "--upstream-ca",
                &self.ca,
                "--listen",
                "127.0.0.1:0",
                "--audit-log",
                &self.audit,
            ],
            &env,
        )
    }

    fn audit_text(&self) -> String {
        std::fs::read_to_string(&self.audit).unwrap_or_default()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_reaches_its_origin_and_never_comes_back() {
    let (w, vault) = world().await;
    let broker = w.start(&vault, &[]);
    let http = client();

    // Header injection; the client's own Authorization is dropped, not merged.
    let answer = http
        .post(broker.url("/api/echo/items?page=2"))
        .header("authorization", "Bearer client-chosen")
        .body("hello upstream")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body = answer.text().await.unwrap();
    assert!(body.contains("[redacted: UPSTREAM_TOKEN]"), "{body}");
    assert!(body.contains("hello upstream"), "{body}");
    assert_clean("echo answer", &body);
    let seen = w.upstream.seen().pop().unwrap();
    assert_eq!(seen.header("authorization"), vec![format!("Bearer {VALUE}")]);
    assert_eq!(seen.target, "/echo/items?page=2");
    assert_eq!(
        seen.header("host"),
        vec![format!("127.0.0.1:{}", w.upstream.addr.port())]
    );
    assert_eq!(seen.header("accept-encoding"), vec!["identity".to_string()]);

    // Query injection replaces any parameter of that name the client sent.
    let answer = http
        .get(broker.url("/keyed/echo/q?API_KEY=mine&x=1"))
        .send()
        .await
        .unwrap();
    let body = answer.text().await.unwrap();
    assert_clean("query answer", &body);
    let seen = w.upstream.seen().pop().unwrap();
    let encoded =
        percent_encoding::utf8_percent_encode(VALUE, percent_encoding::NON_ALPHANUMERIC).to_string();
    assert_eq!(seen.target, format!("/echo/q?x=1&api_key={encoded}"));

    // Basic with a second secret as the password.
    let body = get_text(&http, broker.url("/basic/echo/b")).await;
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode("svc-user:pw-FAKE-basic-77");
    assert_eq!(
        w.upstream.seen().pop().unwrap().header("authorization"),
        vec![format!("Basic {basic}")]
    );
    assert!(!body.contains(&basic) && body.contains("[redacted: "), "{body}");

    // Redirects are returned, not followed, with the value taken out.
    let answer = http.get(broker.url("/api/redirect")).send().await.unwrap();
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(
        location,
        "https://collector.example/steal?t=[redacted: UPSTREAM_TOKEN]"
    );
    assert_eq!(
        answer.headers()["x-debug-auth"],
        "Bearer [redacted: UPSTREAM_TOKEN]"
    );

    // A gzip answer is decoded so that the check sees plain bytes.
    let answer = http.get(broker.url("/api/gzip")).send().await.unwrap();
    assert!(answer.headers().get("content-encoding").is_none());
    let body = answer.text().await.unwrap();
    assert!(body.contains("[redacted: UPSTREAM_TOKEN]"), "{body}");
    assert_clean("gzip answer", &body);

    // A value split across two chunks.
    let body = get_text(&http, broker.url("/api/chunked")).await;
    assert_eq!(body, "{\"token\":\"[redacted: UPSTREAM_TOKEN]\"}");

    let stderr = broker.stop();
    assert_clean("stderr at RUST_LOG=trace", &stderr);
    let audit = w.audit_text();
    assert_clean("audit log", &audit);
    let lines: Vec<serde_json::Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 6, "{audit}");
    assert_eq!(lines[0]["rule"], "api");
    assert_eq!(lines[0]["method"], "POST");
    assert_eq!(lines[0]["path"], "/echo/items?page=");
    assert_eq!(lines[0]["status"], 200);
    assert!(lines[0]["bytes"].as_u64().unwrap() > 0);
    assert_eq!(lines[1]["path"], "/echo/q?API_KEY=&x=");
    assert_eq!(lines[3]["status"], 302);
    drop(w.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_value_is_reread_once_and_never_looped() {
    let (w, vault) = world().await;
    let broker = w.start(&vault, &[]);
    let http = client();
    // The first read caches the old value.
    assert_eq!(
        http.get(broker.url("/api/echo")).send().await.unwrap().status(),
        200
    );
    rotate(&vault, ROTATED).await;
    let answer = http.get(broker.url("/api/rotating")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "welcome [redacted: UPSTREAM_TOKEN]");
    let rotating: Vec<_> = w.upstream.seen_at("/rotating");
    assert_eq!(rotating.len(), 2);
    assert_eq!(
        rotating[1].header("authorization"),
        vec![format!("Bearer {ROTATED}")]
    );

    // An unchanged value is not retried: one request, the 401 as is.
    let answer = http.get(broker.url("/api/always401")).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    let tries = w.upstream.seen_at("/always401").len();
    assert_eq!(tries, 1);
    let stderr = broker.stop();
    assert_clean("stderr", &stderr);
    let audit = w.audit_text();
    assert_clean("audit", &audit);
    assert!(
        audit
            .lines()
            .any(|l| l.contains("\"/rotating\"") && l.contains("\"retried\":true")),
        "{audit}"
    );
}

/// A GitHub App rule: the broker mints an installation token from the
/// bot's folder (the App JWT checked as GitHub checks it), injects it,
/// keeps it until shortly before it expires, and never shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_github_app_token_is_minted_reused_and_never_shown() {
    let (w, vault) = world().await;
    let broker = w.start(&vault, &[]);
    let http = client();
    let get = |path: &str| http.get(broker.url(path)).send();

    let answer = get("/github/echo/issues").await.unwrap();
    assert_eq!(answer.status(), 200);
    let body = answer.text().await.unwrap();
    assert!(
        body.contains("authorization: Bearer [redacted: GITHUB_INSTALLATION_TOKEN]"),
        "{body}"
    );
    assert_clean("github echo", &body);
    let mints = w.upstream.mints();
    assert_eq!(mints.len(), 1, "one mint for the first request");
    let first = w.upstream.seen().pop().unwrap();
    assert_eq!(first.header("authorization"), [format!("Bearer {MINTED}0001")]);

    // The first token expires within the refresh margin: the next request mints again.
    get("/github/echo/2").await.unwrap().text().await.unwrap();
    assert_eq!(w.upstream.mints().len(), 2);
    assert_eq!(
        w.upstream.seen().pop().unwrap().header("authorization"),
        [format!("Bearer {MINTED}0002")]
    );
    // The second lasts until 2030: reused, concurrent requests included.
    let answers =
        futures::future::join_all((0..4).map(|i| get_text(&http, broker.url(&format!("/github/echo/{i}")))))
            .await;
    for a in &answers {
        assert!(a.contains("[redacted: GITHUB_INSTALLATION_TOKEN]"), "{a}");
    }
    assert_eq!(w.upstream.mints().len(), 2);

    // A refusal right after minting is about the request, not the token:
    // answered as is, with no re-mint and no retry.
    let answer = get("/github/always401").await.unwrap();
    assert_eq!(answer.status(), 401);
    assert_eq!(w.upstream.mints().len(), 2);
    let refused = w.upstream.seen_at("/always401").len();
    assert_eq!(refused, 1);

    let stderr = broker.stop();
    assert!(stderr.contains("minted a GitHub installation token"), "{stderr}");
    assert_clean("stderr at RUST_LOG=trace", &stderr);
    for m in w.upstream.mints() {
        let jwt = m.header("authorization")[0]
            .trim_start_matches("Bearer ")
            .to_string();
        assert!(
            !stderr.contains(&jwt) && !w.audit_text().contains(&jwt),
            "the App JWT leaked"
        );
    }
    assert_clean("audit log", &w.audit_text());
}

/// A bot folder without the App's secrets: a 502 naming what is missing
/// and where to store it, and GitHub never asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_github_app_rule_without_its_secrets_says_what_to_store() {
    let (w, vault) = world().await;
    let rules = w.dir.path().join("bare-bot.toml");
    std::fs::write(
        &rules,
        format!(
            "[[rule]]\nname = \"bare\"\nupstream = \"{0}\"\ngithub_app = \"dev:{FOLDER}\"\ngithub_api = \"{0}\"\npaths = [\"/echo/**\"]\n",
            w.upstream.origin()
        ),
    )
    .unwrap();
    let broker = Broker::start(
        &[
            "--rules",
            rules.to_str().unwrap(),
            "--upstream-ca",
            &w.ca,
            "--listen",
            "127.0.0.1:0",
        ],
        &broker_env(&vault),
    );
    let answer = client().get(broker.url("/bare/echo/x")).send().await.unwrap();
    assert_eq!(answer.status(), 502);
    let body: serde_json::Value = answer.json().await.unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("rule 'bare': cannot mint a GitHub App token (missing_keys): bot secrets at /agents/warden/api/ missing keys: APP_ID, INSTALLATION_ID, PRIVATE_KEY_PEM"),
        "{message}"
    );
    assert!(message.contains("in the rule's github_app folder"), "{message}");
    assert!(
        w.upstream.seen().is_empty(),
        "nothing may reach GitHub or the upstream"
    );
    assert_clean("stderr", &broker.stop());
}

async fn get_text(http: &reqwest::Client, url: String) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chosen_destinations_escapes_and_smuggled_headers_are_refused() {
    let (w, vault) = world().await;
    let broker = w.start(&vault, &[]);
    let a = broker.addr;
    let host = format!("Host: {a}\r\n");
    let refused = [
        (
            format!("GET http://{a}/api/echo HTTP/1.1\r\nHost: {a}\r\nConnection: close\r\n\r\n"),
            "400",
        ),
        (
            format!("GET https://evil.example/api/echo HTTP/1.1\r\nHost: {a}\r\nConnection: close\r\n\r\n"),
            "40",
        ),
        (
            "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\nConnection: close\r\n\r\n".into(),
            "40",
        ),
        (
            "GET /api/echo HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n".into(),
            "403",
        ),
        (
            format!(
                "GET /api/echo HTTP/1.1\r\n{host}Origin: https://evil.example\r\nConnection: close\r\n\r\n"
            ),
            "403",
        ),
        (
            format!(
                "GET /api/echo HTTP/1.1\r\n{host}Sec-Fetch-Site: cross-site\r\nConnection: close\r\n\r\n"
            ),
            "403",
        ),
        (
            format!("GET /api/echo/../redirect HTTP/1.1\r\n{host}Connection: close\r\n\r\n"),
            "400",
        ),
        (
            format!("GET /api/echo/%2e%2e/redirect HTTP/1.1\r\n{host}Connection: close\r\n\r\n"),
            "400",
        ),
        (
            format!("GET /api/echo%2f..%2fredirect HTTP/1.1\r\n{host}Connection: close\r\n\r\n"),
            "400",
        ),
        (
            format!("GET /api/echo//x HTTP/1.1\r\n{host}Connection: close\r\n\r\n"),
            "400",
        ),
        (
            format!("GET /api/echo;x=1 HTTP/1.1\r\n{host}Connection: close\r\n\r\n"),
            "400",
        ),
        (
            format!("GET /api/echo\\..\\redirect HTTP/1.1\r\n{host}Connection: close\r\n\r\n"),
            "400",
        ),
        (
            format!("GET /api/secret HTTP/1.1\r\n{host}Connection: close\r\n\r\n"),
            "403",
        ),
        (
            format!("DELETE /api/echo HTTP/1.1\r\n{host}Connection: close\r\n\r\n"),
            "405",
        ),
        (
            format!("GET /nosuchrule/echo HTTP/1.1\r\n{host}Connection: close\r\n\r\n"),
            "404",
        ),
    ];
    for (request, status) in &refused {
        let answer = raw(a, request);
        let first = answer.lines().next().unwrap_or("");
        assert!(
            first.starts_with(&format!("HTTP/1.1 {status}")),
            "{request:?} -> {answer}"
        );
    }
    assert!(
        w.upstream.seen().is_empty(),
        "a refused request reached the upstream"
    );

    // The injected header in any case, twice: dropped, never merged.
    let answer = raw(
        a,
        &format!(
            "GET /api/echo HTTP/1.1\r\n{host}AUTHORIZATION: Bearer attacker\r\naUtHoRiZaTiOn: Basic eDp5\r\n\
             X-Forwarded-For: 10.0.0.1\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let seen = w.upstream.seen().pop().unwrap();
    assert_eq!(seen.header("authorization"), vec![format!("Bearer {VALUE}")]);
    assert!(seen.header("x-forwarded-for").is_empty());
    assert_clean("answer", &answer);
    // Request smuggling through both framings is a client error, never forwarded.
    let before = w.upstream.seen().len();
    let answer = raw(
        a,
        &format!(
            "POST /api/echo HTTP/1.1\r\n{host}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/redirect HTTP/1.1\r\n{host}\r\n\r\n"
        ),
    );
    assert!(w.upstream.seen().len() <= before + 1, "{answer}");
    assert_clean("stderr", &broker.stop());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_token_is_required_checked_and_never_forwarded() {
    let (w, vault) = world().await;
    let token = "broker-token-0123456789abcdef";
    let broker = w.start(&vault, &[("INFISICAL_BROKER_TOKEN", token)]);
    let http = client();
    assert_eq!(
        http.get(broker.url("/api/echo")).send().await.unwrap().status(),
        407
    );
    let wrong = http
        .get(broker.url("/api/echo"))
        .header("x-broker-token", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    assert!(w.upstream.seen().is_empty());
    for (name, value) in [
        ("x-broker-token", token.to_string()),
        ("proxy-authorization", format!("Bearer {token}")),
    ] {
        let ok = http
            .get(broker.url("/api/echo"))
            .header(name, &value)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        let seen = w.upstream.seen().pop().unwrap();
        assert!(seen.header("x-broker-token").is_empty() && seen.header("proxy-authorization").is_empty());
    }
    let stderr = broker.stop();
    assert!(!stderr.contains(token));
    assert!(!w.audit_text().contains(token));
}

#[tokio::test]
async fn a_rule_outside_the_scope_stops_the_start() {
    let (w, vault) = world().await;
    let mut env = broker_env(&vault);
    env.insert("INFISICAL_SCOPE".into(), "dev:/agents/warden/other/**".into());
    let mut bin = spawn(
        &[
            "--rules",
            &w.rules,
            "--upstream-ca",
            &w.ca,
            "--listen",
            "127.0.0.1:0",
        ],
        &env,
    );
    assert_eq!(bin.wait_exit().code(), Some(2));
    let text = bin.stderr_text();
    assert!(
        text.contains("rule 'api'") && text.contains("outside the scope"),
        "{text}"
    );
    assert!(vault.requests().is_empty(), "nothing may reach the vault");

    // Non-loopback listen addresses are refused too.
    let env = broker_env(&vault);
    let mut bin = spawn(&["--rules", &w.rules, "--listen", "0.0.0.0:0"], &env);
    assert_eq!(bin.wait_exit().code(), Some(2));
    assert!(bin.stderr_text().contains("--listen"));
}

fn python() -> Option<String> {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/.venv/bin/python");
    let candidates = [venv.to_string(), "python3".to_string()];
    candidates.into_iter().find(|p| {
        std::process::Command::new(p)
            .args(["-c", "import requests, httpx"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn required(what: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{what} is required under CI=true (.ci/run installs it)"
    );
    eprintln!("skipped: {what} not installed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_and_python_clients_get_redacted_answers() {
    let (w, vault) = world().await;
    let broker = w.start(&vault, &[]);
    let url = broker.url("/api/echo/clients");
    match std::process::Command::new("curl")
        .args([
            "-sS",
            "--noproxy",
            "*",
            "-H",
            "Authorization: Bearer mine",
            "-d",
            "from curl",
            &url,
        ])
        .output()
    {
        Ok(out) => {
            let body = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert!(
                body.contains("[redacted: UPSTREAM_TOKEN]") && body.contains("from curl"),
                "{body}"
            );
            assert_clean("curl output", &body);
        }
        Err(_) => required("curl"),
    }
    match python() {
        Some(py) => {
            let script = r#"
import sys, requests, httpx
url = sys.argv[1]
a = requests.get(url, headers={"Authorization": "Bearer mine"}, proxies={"http": None, "https": None})
b = httpx.get(url, trust_env=False)
c = httpx.get(url.replace("/api/echo/clients", "/api/redirect"), trust_env=False, follow_redirects=False)
print(a.status_code, b.status_code, c.status_code)
print(a.text)
print(b.text)
print(c.headers["location"])
"#;
            let out = std::process::Command::new(py)
                .args(["-c", script, &url])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert!(text.starts_with("200 200 302"), "{text}");
            assert!(text.contains("[redacted: UPSTREAM_TOKEN]"), "{text}");
            assert_clean("python output", &text);
        }
        None => required("python requests/httpx"),
    }
    assert_clean("stderr", &broker.stop());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_every_rule() {
    let (w, vault) = world().await;
    let mut env = broker_env(&vault);
    env.insert("INFISICAL_BROKER_UPSTREAM_CA".into(), w.ca.clone());
    let args = ["doctor", "--json", "--broker-rules", &w.rules];
    let run = common::run_bin(&env, &args).await;
    let report = run.json();
    let rules = common::doctor_steps(&report, "broker-rule");
    assert_eq!(rules.len(), 4, "{report}");
    for step in &rules {
        assert_eq!(step["status"], "pass", "{step}");
    }
    assert!(
        rules[2]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("a GitHub App token for dev:/agents/warden/bot readable"),
        "{}",
        rules[2]
    );
    assert_clean("doctor output", &format!("{}{}", run.stdout, run.stderr));

    // Without the CA the handshake fails, and the step says how to fix it.
    env.remove("INFISICAL_BROKER_UPSTREAM_CA");
    let failed = common::doctor_step(&common::run_bin(&env, &args).await.json(), "broker-rule");
    assert_eq!(failed["status"], "fail", "{failed}");
    assert!(
        failed["fix"].as_str().unwrap().contains("--upstream-ca"),
        "{failed}"
    );
}
