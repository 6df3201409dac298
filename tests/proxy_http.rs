//! The proxy in process on 127.0.0.1:0, driven by real HTTP clients, in front
//! of a test upstream that plays Infisical behind a Cloudflare Access gate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod proxy_support;

use std::time::Duration;

use proxy_support::*;
use futures::StreamExt;
use infisical_mcp_rs::proxy::{Policy, ProxySettings, ScopeRule};
use infisical_mcp_rs::scope::Scope;

fn settings(up: &Upstream) -> ProxySettings {
    ProxySettings::new(vault_settings(&up.base_url(), true))
}

#[tokio::test]
async fn headers_are_injected_and_client_cf_headers_dropped() {
    let up = upstream(true, 1).await;
    let proxy = start_proxy(settings(&up)).await;
    let r = client()
        .get(proxy.url("/api/v3/secrets/raw/KEY?workspaceId=p&environment=prod&secretPath=/"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("CF-Access-Client-Id", "forged-id")
        .header("Cf-Access-Client-Secret", "forged-secret")
        .header("CF-Connecting-IP", "6.6.6.6")
        .header("Connection", "keep-alive, X-Hop")
        .header("X-Hop", "must-not-pass")
        .header("Cookie", "CF_Authorization=stale; theme=dark")
        .header("User-Agent", "node-axios/1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The Access cookie stays on the proxy's side.
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("CF_Authorization"))
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["secret"]["secretKey"], "KEY");

    let seen = up.requests();
    assert_eq!(seen.len(), 1);
    let h = &seen[0].headers;
    assert!(seen[0].gate_passed);
    assert_eq!(h["cf-access-client-id"], CF_ID);
    assert_eq!(h["cf-access-client-secret"], CF_SECRET);
    assert_eq!(h.get_all("cf-access-client-id").iter().count(), 1);
    assert!(h.get("cf-connecting-ip").is_none());
    assert_eq!(h["user-agent"], USER_AGENT);
    assert_eq!(h["authorization"], format!("Bearer {TOKEN}"));
    assert!(h.get("x-hop").is_none());
    assert_eq!(h["cookie"], "theme=dark");
    assert!(
        h.keys()
            .all(|k| !k.as_str().starts_with("x-forwarded") && k != "via" && k != "forwarded")
    );
    assert_eq!(
        seen[0].query.as_deref(),
        Some("workspaceId=p&environment=prod&secretPath=/")
    );
}

#[tokio::test]
async fn host_is_rewritten_to_the_upstream() {
    let up = upstream(true, 1).await;
    let proxy = start_proxy(settings(&up)).await;
    let r = client().get(proxy.url("/api/status")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["message"],
        "Ok"
    );
    let seen = up.requests();
    assert_eq!(seen[0].headers["host"], up.addr.to_string());
}

#[tokio::test]
async fn without_the_proxy_the_gate_redirects_and_the_proxy_passes_redirects_untouched() {
    // Proxy without a service token: the gate's login redirect reaches the client as is.
    let up = upstream(true, 1).await;
    let proxy = start_proxy(ProxySettings::new(vault_settings(&up.base_url(), false))).await;
    let r = client().get(proxy.url("/api/status")).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains(".cloudflareaccess.com/cdn-cgi/access/login/")
    );
    assert!(!up.requests()[0].gate_passed);
    // An ordinary redirect from the vault is not followed either.
    let proxy = start_proxy(settings(&up)).await;
    let r = client().get(proxy.url("/redirect")).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "https://elsewhere.example/next");
}

#[tokio::test]
async fn non_loopback_host_and_origin_are_refused_before_the_vault() {
    let up = upstream(true, 1).await;
    let proxy = start_proxy(settings(&up)).await;
    let answer = raw_exchange(
        proxy.addr,
        "GET /api/status HTTP/1.1\r\nHost: rebind.evil.example:2019\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(
        answer.contains("\"error\":\"ProxyHostRefused\""),
        "{answer}"
    );
    let r = client()
        .get(proxy.url("/api/status"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(error_json(r).await["error"], "ProxyOriginRefused");
    // Loopback spellings pass.
    for host in ["localhost:2019", "127.0.0.1", "[::1]:9"] {
        let answer = raw_exchange(
            proxy.addr,
            &format!("GET /api/status HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{host}: {answer}");
    }
    assert_eq!(
        up.requests().len(),
        3,
        "only the loopback requests reached the vault"
    );
}

#[tokio::test]
async fn writes_are_refused_by_default_and_allowed_with_the_flag() {
    let up = upstream(true, 1).await;
    let proxy = start_proxy(settings(&up)).await;
    let c = client();
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
        reqwest::Method::PUT,
    ] {
        let r = c
            .request(
                method.clone(),
                proxy.url("/api/v3/secrets/raw/CANARY_DELETE_TEST"),
            )
            .header("authorization", format!("Bearer {TOKEN}"))
            .json(&serde_json::json!({"workspaceId":"p","environment":"prod","secretValue":"x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{method}");
        let v = error_json(r).await;
        assert_eq!(v["statusCode"], 403);
        assert_eq!(v["error"], "ProxyWriteRefused");
        assert!(v["message"].as_str().unwrap().contains("--allow-writes"));
    }
    assert!(up.requests().is_empty(), "no write reached the vault");
    // Login (both spellings) and renew pass.
    for path in [
        "/api/v1/auth/universal-auth/login",
        "/api/v1/auth/universal-auth/login/",
    ] {
        let r = c
            .post(proxy.url(path))
            .json(&serde_json::json!({"clientId":"id","clientSecret":"s"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(
            r.json::<serde_json::Value>().await.unwrap()["accessToken"],
            TOKEN
        );
    }
    let r = c
        .post(proxy.url("/api/v1/auth/token/renew"))
        .json(&serde_json::json!({"accessToken": TOKEN}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let mut open = settings(&up);
    open.policy.allow_writes = true;
    let proxy = start_proxy(open).await;
    let r = c
        .delete(proxy.url("/api/v3/secrets/raw/CANARY_DELETE_TEST"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(up.requests().last().unwrap().method, "DELETE");
}

#[tokio::test]
async fn scope_refusals_send_nothing_upstream() {
    let up = upstream(true, 1).await;
    let mut s = settings(&up);
    s.policy = Policy {
        scope: Some(ScopeRule {
            scope: Scope::parse_list(&["prod:/MooseQuest/**".to_string()]).unwrap(),
            source: "--scope".into(),
        }),
        ..Policy::default()
    };
    let proxy = start_proxy(s).await;
    let c = client();
    for target in [
        "/api/v3/secrets/raw/ANYTHING?workspaceId=p&environment=prod&secretPath=/MooseQuest/cloudflare/../../x",
        "/api/v3/secrets/raw/ANYTHING?workspaceId=p&environment=prod&secretPath=/other",
        "/api/v4/secrets?projectId=p&environment=dev&secretPath=/MooseQuest",
        "/api/v4/secrets?projectId=p&environment=prod&secretPath=/MooseQuest&recursive=true",
        "/api/v1/folders?workspaceId=p&environment=prod&directory=/Elsewhere",
    ] {
        let r = c
            .get(proxy.url(target))
            .header("authorization", format!("Bearer {TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{target}");
        let v = error_json(r).await;
        assert_eq!(v["error"], "ProxyScopeRefused");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("prod:/MooseQuest/**"),
            "{v}"
        );
    }
    assert_eq!(
        up.requests().len(),
        0,
        "a refused read must not reach the vault"
    );
    let r = c
        .get(
            proxy
                .url("/api/v4/secrets/KEY?projectId=p&environment=prod&secretPath=/MooseQuest/app"),
        )
        .header("authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(up.requests().len(), 1);
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
async fn a_vault_that_does_not_answer_is_a_504() {
    let up = upstream(true, 1).await;
    let mut vault = vault_settings(&up.base_url(), true);
    vault.call_timeout = Duration::from_millis(300);
    let proxy = start_proxy(ProxySettings::new(vault)).await;
    let r = client().get(proxy.url("/hold")).send().await.unwrap();
    assert_eq!(r.status(), 504);
    let v = error_json(r).await;
    assert_eq!(v["error"], "ProxyUpstreamTimeout");
    up.release();
}

#[tokio::test]
async fn the_response_body_is_streamed_not_buffered() {
    let up = upstream(true, 1).await;
    let proxy = start_proxy(settings(&up)).await;
    let r = client().get(proxy.url("/drip")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let mut stream = r.bytes_stream();
    // The first chunk arrives while the vault is still holding the rest back.
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("first chunk must arrive before the upstream finishes")
        .unwrap()
        .unwrap();
    assert_eq!(&first[..], b"first;");
    up.release();
    let mut rest = Vec::new();
    while let Some(chunk) = stream.next().await {
        rest.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(rest, b"last");
}

#[tokio::test]
async fn the_request_body_is_streamed_not_buffered() {
    let up = upstream(true, 1).await;
    let mut s = settings(&up);
    s.policy.allow_writes = true;
    let proxy = start_proxy(s).await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    let body = reqwest::Body::wrap_stream(tokio_stream(rx));
    let send = tokio::spawn(client().post(proxy.url("/drip-up")).body(body).send());
    tx.send(Ok(bytes::Bytes::from_static(b"chunk-one")))
        .await
        .unwrap();
    // The vault sees the first chunk while the client has not finished sending.
    tokio::time::timeout(Duration::from_secs(10), up.state.arrived.notified())
        .await
        .expect("the first chunk must reach the vault before the body ends");
    tx.send(Ok(bytes::Bytes::from_static(b"chunk-two")))
        .await
        .unwrap();
    drop(tx);
    let r = send.await.unwrap().unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["bytes"], 18);
}

fn tokio_stream<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send + 'static {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test]
async fn fifty_megabytes_pass_both_ways() {
    const SIZE: u64 = 50 * 1024 * 1024;
    let up = upstream(true, 1).await;
    let mut s = settings(&up);
    s.policy.allow_writes = true;
    let proxy = start_proxy(s).await;
    let r = client()
        .get(proxy.url(&format!("/big/{SIZE}")))
        .send()
        .await
        .unwrap();
    let mut stream = r.bytes_stream();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        total += chunk.unwrap().len() as u64;
    }
    assert_eq!(total, SIZE);

    let chunks = futures::stream::iter(
        (0..SIZE / (1 << 16))
            .map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'y'; 1 << 16]))),
    );
    let r = client()
        .put(proxy.url("/count"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["bytes"], SIZE);
    assert!(
        v["frames"].as_u64().unwrap() > 1,
        "arrived in many chunks: {v}"
    );
}

#[tokio::test]
async fn two_hundred_concurrent_connections() {
    const N: usize = 200;
    let up = upstream(true, N).await;
    let proxy = start_proxy(settings(&up)).await;
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    let c = client();
    for _ in 0..N {
        let url = proxy.url("/barrier");
        let c = c.clone();
        // HTTP/1.1: each request in flight needs its own connection, and the
        // upstream answers none until all N have arrived, so all N client
        // connections (and N upstream ones) are open at once.
        tasks.push(tokio::spawn(async move {
            c.get(url).send().await.unwrap().text().await.unwrap()
        }));
    }
    let all = tokio::time::timeout(Duration::from_secs(60), futures::future::join_all(tasks))
        .await
        .expect("200 requests in flight at once");
    for r in all {
        assert_eq!(r.unwrap(), "together");
    }
    eprintln!(
        "200 concurrent requests through the proxy in {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn graceful_shutdown_lets_the_request_in_flight_finish() {
    let up = upstream(true, 1).await;
    let mut proxy = start_proxy(settings(&up)).await;
    let url = proxy.url("/hold");
    let in_flight = tokio::spawn(async move {
        client()
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    up.state.arrived.notified().await;
    proxy.shutdown();
    // The proxy waits for the request rather than exiting under it.
    let mut handle = proxy.handle;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut handle)
            .await
            .is_err(),
        "run() returned with a request in flight"
    );
    up.release();
    assert_eq!(in_flight.await.unwrap(), "held and released");
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .expect("run() returns once drained")
        .unwrap()
        .unwrap();
    // And it no longer accepts connections.
    assert!(tokio::net::TcpStream::connect(proxy.addr).await.is_err());
}

#[tokio::test]
async fn head_and_status_work_through_the_proxy() {
    let up = upstream(true, 1).await;
    let proxy = start_proxy(settings(&up)).await;
    let r = client()
        .head(proxy.url("/api/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(up.requests()[0].method, "HEAD");
}
