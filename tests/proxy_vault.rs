//! The proxy in process on 127.0.0.1:0, real HTTP clients in front, the fake
//! Infisical vault behind its Cloudflare Access gate (login-redirect kind):
//! what reaches the vault, and what the proxy refuses before it does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod proxy_support;

use std::time::Duration;

use infisical_mcp_rs::agent::proxy::{Policy, ProxySettings, ScopeRule};
use infisical_mcp_rs::scope::Scope;
use proxy_support::*;

fn settings(vault: &infisical_fakevault::RunningVault) -> ProxySettings {
    ProxySettings::new(vault_settings(&vault.base_url(), true))
}

fn read_url(proxy: &Proxy, version: &str) -> String {
    match version {
        "v4" => proxy.url(&format!(
            "/api/v4/secrets/{IN_SCOPE_KEY}?projectId={PROJECT}&environment=prod&secretPath={IN_SCOPE_PATH}"
        )),
        _ => proxy.url(&format!(
            "/api/v3/secrets/raw/{IN_SCOPE_KEY}?workspaceId={PROJECT}&environment=prod&secretPath={IN_SCOPE_PATH}"
        )),
    }
}

#[tokio::test]
async fn login_and_reads_pass_the_gate_with_the_proxys_headers_only() {
    let vault = fake_vault().await;
    let proxy = start_proxy(settings(&vault)).await;
    let token = login(&proxy.url("")).await;
    for version in ["v3", "v4"] {
        let r = client()
            .get(read_url(&proxy, version))
            .bearer_auth(&token)
            .header("CF-Access-Client-Id", "forged-id")
            .header("Cf-Access-Client-Secret", "forged-secret")
            .header("CF-Connecting-IP", "6.6.6.6")
            // Address claims Infisical would believe (its ip.ts header list).
            .header("X-Client-IP", "6.6.6.6")
            .header("X-Forwarded-For", "6.6.6.6")
            .header("X-Real-IP", "6.6.6.6")
            .header("True-Client-IP", "6.6.6.6")
            .header("Forwarded", "for=6.6.6.6")
            .header("Connection", "keep-alive, X-Hop")
            .header("X-Hop", "must-not-pass")
            .header("Cookie", "CF_Authorization=stale; theme=dark")
            .header("User-Agent", "node-axios/1.0")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{version}");
        // The Access cookie the gate hands out stays on the proxy's side.
        assert!(
            r.headers()
                .get_all("set-cookie")
                .iter()
                .all(|c| !c.to_str().unwrap().starts_with("CF_Authorization"))
        );
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["secret"]["secretValue"], IN_SCOPE_VALUE, "{version}");
    }
    let seen = vault.requests();
    assert_eq!(seen.len(), 3);
    for req in &seen {
        assert!(req.gate_passed, "{req:?}");
        let all = |name: &str| req.headers.iter().filter(|(n, _)| n == name).count();
        assert_eq!(req.header("cf-access-client-id"), Some(CF_ID));
        assert_eq!(req.header("cf-access-client-secret"), Some(CF_SECRET));
        assert_eq!(all("cf-access-client-id"), 1);
        assert_eq!(all("cf-access-client-secret"), 1);
        assert_eq!(req.header("cf-connecting-ip"), None);
        assert_eq!(req.header("user-agent"), Some(USER_AGENT));
        assert_eq!(
            req.header("host"),
            Some(vault.base_url().trim_start_matches("http://"))
        );
        assert!(
            req.headers.iter().all(|(n, _)| !n.starts_with("x-forwarded")
                && n != "via"
                && n != "forwarded"
                && n != "x-hop"),
            "{req:?}"
        );
        assert!(
            req.headers.iter().all(|(_, v)| !v.contains("6.6.6.6")),
            "a client-claimed address reached the vault: {req:?}"
        );
    }
    assert_eq!(
        seen[1].header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(seen[1].header("cookie"), Some("theme=dark"));
    assert_eq!(seen[1].query_param("secretPath"), Some(IN_SCOPE_PATH));
}

#[tokio::test]
async fn status_and_renew_work_through_the_proxy() {
    let vault = fake_vault().await;
    let proxy = start_proxy(settings(&vault)).await;
    let r = client().get(proxy.url("/api/status")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["message"], "Ok");
    let token = login(&proxy.url("")).await;
    let r = client()
        .post(proxy.url("/api/v1/auth/token/renew"))
        .json(&serde_json::json!({"accessToken": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.json::<serde_json::Value>().await.unwrap()["accessToken"].is_string());
    // The CLI's spelling of login, with the trailing slash.
    let r = client()
        .post(proxy.url("/api/v1/auth/universal-auth/login/"))
        .json(
            &serde_json::json!({"clientId": infisical_fakevault::DEMO_CLIENT_ID,
            "clientSecret": infisical_fakevault::DEMO_CLIENT_SECRET}),
        )
        .send()
        .await
        .unwrap();
    // Not a refused write, and not a 404 either: the login itself succeeds.
    assert_eq!(r.status(), 200, "login with a trailing slash goes through");
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["accessToken"].as_str().is_some_and(|t| !t.is_empty()) && body["tokenType"] == "Bearer",
        "a login answer, not an error body"
    );
}

#[tokio::test]
async fn a_cf_rejection_is_passed_through_untouched() {
    let vault = fake_vault().await;
    // A proxy without the service token: the gate's login redirect reaches
    // the client as is (and the proxy logs it as an Access rejection).
    let proxy = start_proxy(ProxySettings::new(vault_settings(&vault.base_url(), false))).await;
    let r = client().get(proxy.url("/api/status")).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap();
    assert!(
        location.contains(".cloudflareaccess.com/cdn-cgi/access/login/"),
        "{location}"
    );
    assert!(!vault.requests()[0].gate_passed);
}

#[tokio::test]
async fn non_loopback_host_and_origin_are_refused_before_the_vault() {
    let vault = fake_vault().await;
    let proxy = start_proxy(settings(&vault)).await;
    let answer = raw_exchange(
        proxy.addr,
        "GET /api/status HTTP/1.1\r\nHost: rebind.evil.example:2019\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.contains("\"error\":\"ProxyHostRefused\""), "{answer}");
    let origin = client()
        .get(proxy.url("/api/status"))
        .header("origin", "https://evil.example");
    let (status, v) = refusal(origin).await;
    assert_eq!((status, v["error"].as_str()), (403, Some("ProxyOriginRefused")));
    assert!(vault.requests().is_empty());
    for host in ["localhost:2019", "127.0.0.1", "[::1]:9"] {
        let answer = raw_exchange(
            proxy.addr,
            &format!("GET /api/status HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{host}: {answer}");
    }
    assert_eq!(vault.requests().len(), 3);
}

#[tokio::test]
async fn writes_are_refused_by_default_and_forwarded_with_the_flag() {
    let vault = fake_vault().await;
    let proxy = start_proxy(settings(&vault)).await;
    let token = login(&proxy.url("")).await;
    vault.clear_requests();
    let c = client();
    let target = proxy.url("/api/v3/secrets/raw/CANARY_DELETE_TEST");
    let body = serde_json::json!({"workspaceId": PROJECT, "environment": "prod",
        "secretPath": "/MooseQuest", "secretValue": "x"});
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
        reqwest::Method::PUT,
    ] {
        let (status, v) = refusal(c.request(method.clone(), &target).bearer_auth(&token).json(&body)).await;
        assert_eq!(status, 403, "{method}");
        assert_eq!(v["statusCode"], 403);
        assert_eq!(v["error"], "ProxyWriteRefused");
        assert!(v["message"].as_str().unwrap().contains("--allow-writes"));
    }
    assert!(vault.requests().is_empty(), "no write reached the vault");

    let mut open = settings(&vault);
    open.policy.allow_writes = true;
    let proxy = start_proxy(open).await;
    let r = c
        .post(proxy.url("/api/v3/secrets/raw/CANARY_DELETE_TEST"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    // Forwarded: now the vault's RBAC answers (the demo identity is read-only).
    let status = r.status();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, 403, "{v}");
    assert_eq!(v["error"], "PermissionDenied", "{v}");
    assert_eq!(vault.requests().last().unwrap().method, "POST");
}

#[tokio::test]
async fn scope_refusals_send_nothing_upstream() {
    let vault = fake_vault().await;
    let mut s = settings(&vault);
    s.policy = Policy {
        scope: Some(ScopeRule {
            scope: Scope::parse_list(&["prod:/MooseQuest/cloudflare".to_string()]).unwrap(),
            source: "--scope".into(),
            projects: None,
        }),
        ..Policy::default()
    };
    let proxy = start_proxy(s).await;
    let token = login(&proxy.url("")).await;
    vault.clear_requests();
    let c = client();
    for target in [
        // The runbook's out-of-scope probe, and the RBAC would allow this one.
        format!(
            "/api/v3/secrets/raw/MCP_RO_CLIENT_ID?workspaceId={PROJECT}&environment=prod&secretPath=/MooseQuest/identities"
        ),
        format!(
            "/api/v3/secrets/raw/X?workspaceId={PROJECT}&environment=prod&secretPath=/MooseQuest/cloudflare/../identities"
        ),
        format!("/api/v4/secrets?projectId={PROJECT}&environment=dev&secretPath=/MooseQuest/cloudflare"),
        format!("/api/v4/secrets?projectId={PROJECT}&environment=prod&secretPath=/agents&recursive=true"),
        // Not on a scoped proxy's allow-list: can carry values.
        format!("/api/v1/workspace/{PROJECT}/secret-snapshots?environment=prod"),
        format!("/api/v2/folders?projectId={PROJECT}&environment=prod&path=/agents"),
    ] {
        let (status, v) = refusal(c.get(proxy.url(&target)).bearer_auth(&token)).await;
        assert_eq!(status, 403, "{target}");
        assert_eq!(v["error"], "ProxyScopeRefused");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("prod:/MooseQuest/cloudflare"),
            "{v}"
        );
    }
    assert_eq!(
        vault.requests().len(),
        0,
        "a refused read must not reach the vault"
    );
    let r = c
        .get(read_url(&proxy, "v4"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(vault.requests().len(), 1);
}

#[tokio::test]
async fn upstream_down_is_a_502_that_says_what_failed() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = dead.local_addr().unwrap();
    drop(dead);
    let proxy = start_proxy(ProxySettings::new(vault_settings(
        &format!("http://{addr}"),
        true,
    )))
    .await;
    let r = client().get(proxy.url("/api/status")).send().await.unwrap();
    assert_eq!(r.status(), 502);
    let v = error_json(r).await;
    assert_eq!(v["error"], "ProxyUpstreamUnreachable");
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains(&addr.to_string()) && msg.contains("cannot connect"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_slow_vault_is_a_504() {
    let vault = fake_vault().await;
    vault.faults().set_latency(Duration::from_secs(3));
    let mut v = vault_settings(&vault.base_url(), true);
    v.call_timeout = Duration::from_millis(300);
    let proxy = start_proxy(ProxySettings::new(v)).await;
    let r = client().get(proxy.url("/api/status")).send().await.unwrap();
    assert_eq!(r.status(), 504);
    let v = error_json(r).await;
    assert_eq!(v["error"], "ProxyUpstreamTimeout");
    assert!(v["message"].as_str().unwrap().contains("--call-timeout"));
}
