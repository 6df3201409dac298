//! The real `infisical-mcp-rs` binary as a proxy: flags, exit codes, signals,
//! memory while streaming (against the streaming upstream), and, in front of
//! the fake vault behind its CF gate, what it logs and curl as the client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod proxy_support;

use futures::StreamExt;
use proxy_support::*;

const MIB: u64 = 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_megabytes_each_way_with_bounded_memory() {
    const SIZE: u64 = 50 * MIB;
    let up = upstream(true, 1).await;
    let env = proxy_env(&up);
    // The flag form, as the runbook will use it.
    let mut proxy = spawn_binary(
        &["--proxy", "--listen", "127.0.0.1:0", "--allow-writes"],
        &env_refs(&env),
    );
    proxy.wait_listening();
    let c = client();
    assert_eq!(
        c.get(proxy.url("/api/status")).send().await.unwrap().status(),
        200
    );
    let (base_hwm, base_rss) = proxy.memory_kib();

    let r = c.get(proxy.url(&format!("/big/{SIZE}"))).send().await.unwrap();
    let mut stream = r.bytes_stream();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        total += chunk.unwrap().len() as u64;
    }
    assert_eq!(total, SIZE);
    let (down_hwm, _) = proxy.memory_kib();

    let chunks = futures::stream::iter(
        (0..SIZE / (1 << 16)).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'y'; 1 << 16]))),
    );
    let r = c
        .put(proxy.url("/count"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["bytes"], SIZE);
    let (up_hwm, _) = proxy.memory_kib();

    eprintln!(
        "proxy memory: baseline VmHWM {base_hwm} KiB (VmRSS {base_rss} KiB); \
         after 50 MiB down {down_hwm} KiB (+{} KiB); after 50 MiB up {up_hwm} KiB (+{} KiB)",
        down_hwm - base_hwm,
        up_hwm - base_hwm
    );
    // Buffering either body would add 50 MiB; streaming adds socket buffers.
    assert!(
        down_hwm - base_hwm < 16 * 1024,
        "download grew the proxy by {} KiB",
        down_hwm - base_hwm
    );
    assert!(
        up_hwm - base_hwm < 16 * 1024,
        "upload grew the proxy by {} KiB",
        up_hwm - base_hwm
    );
}

#[tokio::test]
async fn port_in_use_is_one_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let port_s = port.to_string();
    for (args, env) in [
        (vec!["proxy", "--listen", listen.as_str()], vec![]),
        (vec!["proxy"], vec![("VAULT_PROXY_PORT", port_s.as_str())]),
    ] {
        let mut env = env;
        env.push(("INFISICAL_HOST_URL", "https://vault.example.com"));
        let mut p = spawn_binary(&args, &env);
        let status = p.wait_exit();
        assert_eq!(status.code(), Some(1), "{:#?}", p.stderr);
        let err: Vec<_> = p
            .stderr
            .iter()
            .filter(|l| l.starts_with("infisical-mcp-rs:"))
            .collect();
        assert_eq!(err.len(), 1, "{:#?}", p.stderr);
        assert!(
            err[0].contains(&format!("port {port}")) && err[0].contains("--listen"),
            "{}",
            err[0]
        );
    }
    drop(taken);
}

#[tokio::test]
async fn configuration_errors_exit_2_naming_the_flag() {
    for (args, env, names) in [
        (
            vec!["proxy", "--listen", "0.0.0.0:2019"],
            vec![("INFISICAL_HOST_URL", "https://vault.example.com")],
            ["--listen", "--allow-remote"],
        ),
        (vec!["--proxy"], vec![], ["INFISICAL_HOST_URL", "https://"]),
        (
            vec!["proxy"],
            vec![
                ("INFISICAL_HOST_URL", "https://vault.example.com"),
                ("VAULT_PROXY_PORT", "twenty"),
            ],
            ["VAULT_PROXY_PORT", "port number"],
        ),
        (
            vec!["proxy", "--scope", "no-colon"],
            vec![("INFISICAL_HOST_URL", "https://vault.example.com")],
            ["--scope", "ENV:GLOB"],
        ),
    ] {
        let mut p = spawn_binary(&args, &env);
        assert_eq!(p.wait_exit().code(), Some(2), "{args:?}: {:#?}", p.stderr);
        let text = p.stderr_text();
        for name in names {
            assert!(text.contains(name), "{args:?}: missing {name} in {text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_the_request_in_flight_then_exits() {
    let up = upstream(true, 1).await;
    let env = proxy_env(&up);
    let mut proxy = spawn_binary(&["proxy", "--listen", "127.0.0.1:0"], &env_refs(&env));
    proxy.wait_listening();
    let url = proxy.url("/hold");
    let in_flight =
        tokio::spawn(async move { client().get(url).send().await.unwrap().text().await.unwrap() });
    up.state.arrived.notified().await;
    proxy.signal("TERM");
    assert!(proxy.wait_for_line("shutting down"), "{:#?}", proxy.stderr);
    // Still running: it waits for the request.
    assert!(proxy.child.try_wait().unwrap().is_none());
    up.release();
    assert_eq!(in_flight.await.unwrap(), "held and released");
    let (status, proxy) = proxy.exit().await;
    assert!(status.success(), "{:#?}", proxy.stderr);
    assert!(proxy.stderr_text().contains("vault proxy stopped"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_no_credentials_query_values_or_bodies() {
    let vault = fake_vault().await;
    let env = fake_env(&vault);
    let mut env = env_refs(&env);
    env.push(("RUST_LOG", "trace"));
    let mut proxy = spawn_binary(&["proxy", "--listen", "127.0.0.1:0"], &env);
    proxy.wait_listening();
    let token = login(&proxy.url("")).await;
    let c = client();
    let r = c
        .get(proxy.url(&format!(
            "/api/v3/secrets/raw/{IN_SCOPE_KEY}?workspaceId={PROJECT}&environment=prod&secretPath={IN_SCOPE_PATH}"
        )))
        .bearer_auth(&token)
        .header("cf-access-client-secret", "forged-cf-secret")
        .header("cookie", "session=cookie-value")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(IN_SCOPE_VALUE));
    let r = c
        .delete(proxy.url("/api/v3/secrets/raw/KEY?secretPath=/refused-in-query"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (status, proxy) = proxy.stop().await;
    assert!(status.success());
    let log = proxy.stderr_text();
    for secret in [
        token.as_str(),
        CF_SECRET,
        "forged-cf-secret",
        infisical_fakevault::DEMO_CLIENT_SECRET,
        PROJECT,
        IN_SCOPE_PATH,
        "refused-in-query",
        "cookie-value",
        IN_SCOPE_VALUE,
    ] {
        assert!(!log.contains(secret), "{secret} leaked into the log:\n{log}");
    }
    // The access lines are there, with query names but not values.
    assert!(
        log.lines().any(|l| l.contains("method=GET")
            && l.contains(&format!("path=/api/v3/secrets/raw/{IN_SCOPE_KEY}"))
            && l.contains("query=workspaceId&environment&secretPath")
            && l.contains("status=200")
            && l.contains("duration_ms=")),
        "{log}"
    );
    assert!(
        log.lines().any(|l| l.contains("method=DELETE")
            && l.contains("status=403")
            && l.contains("ProxyWriteRefused")),
        "{log}"
    );
}

fn curl(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new("curl")
        .args(["-sS", "--noproxy", "*", "--max-time", "20"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_through_the_proxy() {
    let (vault, proxy) = proxy_to_fake_vault(&["proxy", "--listen", "127.0.0.1:0"]).await;
    let url = |p: &str| proxy.url(p);
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || curl(&args.iter().map(String::as_str).collect::<Vec<_>>()))
    };

    // The runbook's health check.
    let (code, out) = run(vec![url("/api/status")]).await.unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\"message\":\"Ok\""), "{out}");

    // The runbook's login and get-secret checks, via localhost as it writes them.
    let local = |p: &str| format!("http://localhost:{}{p}", proxy.addr.unwrap().port());
    let (_, out) = run(vec![
        "-X".into(),
        "POST".into(),
        local("/api/v1/auth/universal-auth/login"),
        "-H".into(),
        "Content-Type: application/json".into(),
        "-d".into(),
        serde_json::json!({"clientId": infisical_fakevault::DEMO_CLIENT_ID,
            "clientSecret": infisical_fakevault::DEMO_CLIENT_SECRET})
        .to_string(),
    ])
    .await
    .unwrap();
    let login: serde_json::Value = serde_json::from_str(&out).expect("login answer is JSON");
    let token = login["accessToken"].as_str().unwrap().to_string();
    let (_, out) = run(vec![
        "-G".into(),
        local(&format!("/api/v3/secrets/raw/{IN_SCOPE_KEY}")),
        "-H".into(),
        format!("Authorization: Bearer {token}"),
        "--data-urlencode".into(),
        format!("workspaceId={PROJECT}"),
        "--data-urlencode".into(),
        "environment=prod".into(),
        "--data-urlencode".into(),
        format!("secretPath={IN_SCOPE_PATH}/"),
    ])
    .await
    .unwrap();
    assert!(out.contains(IN_SCOPE_VALUE), "{out}");

    // HEAD is a read: forwarded, and the vault's answer comes back (the fake
    // vault has no HEAD routes, so it says 404; Infisical's fastify answers
    // HEAD on its GET routes).
    let (code, out) = run(vec!["-I".into(), url("/api/status")]).await.unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("HTTP/1.1 "), "{out}");
    assert!(
        vault
            .requests()
            .iter()
            .any(|r| r.method == "HEAD" && r.gate_passed)
    );

    // The runbook's "write attempt should 403".
    let (_, out) = run(vec![
        "-w".into(),
        "\n%{http_code}".into(),
        "-X".into(),
        "POST".into(),
        url("/api/v3/secrets/raw/CANARY_DELETE_TEST?workspaceId=p"),
        "-H".into(),
        "Content-Type: application/json".into(),
        "-d".into(),
        "{}".into(),
    ])
    .await
    .unwrap();
    assert!(out.ends_with("403") && out.contains("ProxyWriteRefused"), "{out}");

    // DNS rebinding: a page on another name resolving to 127.0.0.1.
    let (_, out) = run(vec![
        "-w".into(),
        "\n%{http_code}".into(),
        "-H".into(),
        "Host: attacker.example".into(),
        url("/api/status"),
    ])
    .await
    .unwrap();
    assert!(out.ends_with("403") && out.contains("ProxyHostRefused"), "{out}");

    let gated: Vec<_> = vault.requests().into_iter().filter(|r| !r.gate_passed).collect();
    assert!(gated.is_empty(), "every request passed the CF gate");
}

/// A proxy scope entry like `/X/*` leaves out `/X` itself; the
/// proxy starts and logs, at warn, the entry to write instead.
#[tokio::test]
async fn a_scope_glob_that_leaves_out_its_folder_is_logged_at_start_up() {
    let vault = fake_vault().await;
    let env = fake_env(&vault);
    let env = env_refs(&env);
    let mut proxy = spawn_binary(
        &[
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--scope",
            "prod:/MooseQuest/raxx-dev-bot/*",
        ],
        &env,
    );
    proxy.wait_listening();
    let (status, proxy) = proxy.stop().await;
    assert!(status.success());
    let log = proxy.stderr_text();
    assert!(
        log.lines().any(|l| l.contains("WARN")
            && l.contains("scope entry prod:/MooseQuest/raxx-dev-bot/* does not cover the folder")
            && l.contains("write prod:/MooseQuest/raxx-dev-bot/**")),
        "{log}"
    );
}

/// Runs the binary to its end with only `env` set; (exit code, stderr).
fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = std::process::Command::new(binary_path())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A proxy whose upstream is its own listening address would forward every
/// request to itself until the call timeout: it refuses to start (exit 2)
/// with one sentence naming both settings. The CLI's variables, which name
/// the proxy in the README's recipe, are not read as the upstream.
#[test]
fn a_proxy_whose_upstream_is_itself_refuses_to_start() {
    // Refused before anything is bound, so the port need not be free.
    let port = "47219";
    let listen = format!("127.0.0.1:{port}");
    for (upstream, args, env_port) in [
        (
            format!("http://127.0.0.1:{port}/api"),
            vec!["proxy", "--listen", listen.as_str()],
            None,
        ),
        (
            format!("http://localhost:{port}"),
            vec!["--proxy", "--listen", listen.as_str()],
            None,
        ),
        (
            format!("http://[::ffff:127.0.0.1]:{port}"),
            vec!["proxy"],
            Some(port),
        ),
    ] {
        let mut env = vec![("INFISICAL_HOST_URL", upstream.as_str())];
        if let Some(p) = env_port {
            env.push(("VAULT_PROXY_PORT", p));
        }
        let (code, stderr) = run_to_exit(&args, &env);
        assert_eq!(code, Some(2), "{upstream}: {stderr}");
        let listen_setting = if env_port.is_some() {
            "VAULT_PROXY_PORT"
        } else {
            "--listen"
        };
        assert!(
            stderr.contains("INFISICAL_HOST_URL") && stderr.contains(listen_setting),
            "{upstream}: {stderr}"
        );
        assert!(stderr.contains("loop back"), "{stderr}");
    }
    // The stock CLI's recipe sets INFISICAL_API_URL to the proxy: alone, it
    // is not taken as the upstream, and the error says why.
    let url = format!("http://127.0.0.1:{port}/api");
    let (code, stderr) = run_to_exit(&["proxy", "--listen", &listen], &[("INFISICAL_API_URL", &url)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("INFISICAL_HOST_URL") && stderr.contains("INFISICAL_API_URL"),
        "{stderr}"
    );
}
