//! `proxy --scope` against the fake vault with an identity that may read
//! far more than the proxy's scope (`dev:/**` behind `dev:/agents/warden/**`):
//! what the vault would hand out through an import, a reference or a
//! recursive listing never reaches the client, routes the proxy does not
//! know are refused, and `--allow-remote` needs a client token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod proxy_support;

use infisical_fakevault::{CfGate, FakeVault, Generation, Identity, PermissionRule, RunningVault, VaultData};
use infisical_mcp_rs::agent::proxy::policy::ProjectRule;
use infisical_mcp_rs::agent::proxy::{self, Policy, ProxySettings, ScopeRule, TURNED_OFF_HEADER};
use infisical_mcp_rs::config::ProjectScope;
use infisical_mcp_rs::scope::Scope;
use proxy_support::*;
use secrecy::SecretString;
use serde_json::Value;

/// The project, and an identity the vault lets read all of it: only the
/// proxy's scope narrows what it gets.
const PROJ: &str = "proj-scope-77";
const ID: &str = "ua-scope-wide";
const SECRET: &str = "ua-scope-wide-secret-Q9";
const SCOPE: &str = "dev:/agents/warden/**";
/// One value per place: inside the scope (IN) or outside it (OUT).
const WARDEN: &str = "warden-IN-1";
const DEEP: &str = "deep-IN-2";
const OTHER: &str = "other-OUT-3";
const SHARED: &str = "shared-OUT-4";
const CLIENT_TOKEN: &str = "client-token-for-remote-0123456789";
/// A second project the identity may read just as well.
const PROJ_OTHER: &str = "proj-scope-other-78";
const OTHER_PROJECT_VALUE: &str = "other-project-OUT-5";

fn data() -> VaultData {
    let own = VaultData::new()
        .project(PROJ, "scope", "scope")
        .environment(PROJ, "dev", "Development")
        .secret(PROJ, "dev", "/agents/warden", "WARDEN_KEY", WARDEN)
        .secret(
            PROJ,
            "dev",
            "/agents/warden",
            "REF_OUT",
            "${dev.shared.SHARED_TOKEN}",
        )
        .secret(PROJ, "dev", "/agents/warden", "REF_IN", "${WARDEN_KEY}")
        .secret(PROJ, "dev", "/agents/warden/deep", "DEEP_KEY", DEEP)
        .secret(PROJ, "dev", "/agents/other", "OTHER_KEY", OTHER)
        .secret(PROJ, "dev", "/shared", "SHARED_TOKEN", SHARED)
        .import(PROJ, "dev", "/agents/warden", "dev", "/shared");
    common::and_project(own, PROJ_OTHER, "WARDEN_KEY", OTHER_PROJECT_VALUE)
}

async fn vault(generation: Generation) -> RunningVault {
    // Wider than the proxy's scope: the vault alone would serve it all.
    let wide = Identity::new(ID, SECRET, vec![PermissionRule::read("dev", "/**")]);
    common::start(
        FakeVault::new(data())
            .generation(generation)
            .gate(common::login_gate())
            .identity(wide),
    )
    .await
}

fn scoped(vault: &RunningVault) -> ProxySettings {
    let mut s = ProxySettings::new(vault_settings(&vault.base_url(), true));
    s.policy = Policy {
        scope: Some(ScopeRule {
            scope: Scope::parse_list(&[SCOPE.to_string()]).unwrap(),
            source: "--scope".into(),
            projects: None,
        }),
        ..Policy::default()
    };
    s
}

async fn login_wide(base: &str) -> String {
    let r = client()
        .post(format!("{base}/api/v1/auth/universal-auth/login"))
        .json(&serde_json::json!({"clientId": ID, "clientSecret": SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["accessToken"]
        .as_str()
        .unwrap()
        .to_string()
}

fn v3(name: Option<&str>, path: &str, extra: &str) -> String {
    let name = name.map(|n| format!("/{n}")).unwrap_or_default();
    format!("/api/v3/secrets/raw{name}?workspaceId={PROJ}&environment=dev&secretPath={path}{extra}")
}

fn v4(name: Option<&str>, path: &str, extra: &str) -> String {
    let name = name.map(|n| format!("/{n}")).unwrap_or_default();
    format!("/api/v4/secrets{name}?projectId={PROJ}&environment=dev&secretPath={path}{extra}")
}

async fn get(base: &str, target: &str, token: &str) -> (u16, Option<String>, String) {
    let r = client()
        .get(format!("{base}{target}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let turned_off = r
        .headers()
        .get(TURNED_OFF_HEADER)
        .map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), turned_off, r.text().await.unwrap())
}

/// A read sent to the vault itself (with the Access headers), bypassing the proxy.
async fn direct_get(vault: &RunningVault, target: &str, token: &str) -> String {
    client()
        .get(format!("{}{target}", vault.base_url()))
        .bearer_auth(token)
        .header("cf-access-client-id", CF_ID)
        .header("cf-access-client-secret", CF_SECRET)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Builds a read target from a secret name (none: the listing), a folder and
/// extra query text.
type Target = fn(Option<&str>, &str, &str) -> String;

/// The read routes each generation has.
fn routes(generation: Generation) -> Vec<Target> {
    match generation {
        Generation::Current => vec![v3, v4],
        Generation::Legacy => vec![v3],
    }
}

#[tokio::test]
async fn an_out_of_scope_import_is_not_served_through_the_proxy() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        let proxy = start_proxy(scoped(&vault)).await;
        let token = login_wide(&proxy.url("")).await;
        for route in routes(generation) {
            let imports = "&include_imports=true&includeImports=true";
            // Straight to the vault, the identity gets the imported value:
            // the proxy's rewrite is what stops it.
            let direct = direct_get(
                &vault,
                &route(Some("SHARED_TOKEN"), "/agents/warden", imports),
                &token,
            )
            .await;
            assert!(direct.contains(SHARED), "{generation:?}: {direct}");

            vault.clear_requests();
            let (status, turned_off, body) = get(
                &proxy.url(""),
                &route(Some("SHARED_TOKEN"), "/agents/warden", imports),
                &token,
            )
            .await;
            assert!(
                !body.contains(SHARED),
                "{generation:?}: imported value served: {body}"
            );
            assert_eq!(status, 404, "{generation:?}: {body}");
            assert!(turned_off.unwrap().contains("includeImports"));
            let sent = vault.requests().pop().unwrap();
            assert_eq!(sent.query_param("include_imports"), Some("false"));
            assert_eq!(sent.query_param("includeImports"), Some("false"));
            assert_eq!(sent.query_param("expandSecretReferences"), Some("false"));

            // A listing with imports asked for: the folder's own secrets only.
            let (status, _, body) =
                get(&proxy.url(""), &route(None, "/agents/warden", imports), &token).await;
            assert_eq!(status, 200, "{body}");
            assert!(!body.contains(SHARED), "{generation:?}: {body}");
            let v: Value = serde_json::from_str(&body).unwrap();
            assert!(v["imports"].as_array().is_none_or(Vec::is_empty), "{v}");
            assert!(body.contains(WARDEN));
        }
    }
}

#[tokio::test]
async fn an_out_of_scope_reference_is_not_expanded() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        let proxy = start_proxy(scoped(&vault)).await;
        let token = login_wide(&proxy.url("")).await;
        for route in routes(generation) {
            let expand = "&expandSecretReferences=true";
            let (status, turned_off, body) = get(
                &proxy.url(""),
                &route(Some("REF_OUT"), "/agents/warden", expand),
                &token,
            )
            .await;
            assert_eq!(status, 200, "{body}");
            assert!(!body.contains(SHARED), "{generation:?}: expanded: {body}");
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["secret"]["secretValue"], "${dev.shared.SHARED_TOKEN}");
            assert_eq!(turned_off.as_deref(), Some("expandSecretReferences"));
            // In a listing too.
            let (_, _, body) = get(&proxy.url(""), &route(None, "/agents/warden", expand), &token).await;
            assert!(!body.contains(SHARED), "{generation:?}: {body}");
            assert!(body.contains("${dev.shared.SHARED_TOKEN}"), "{body}");
        }
        // The fake does expand for a direct caller: the rewrite is what stops it.
        let direct = direct_get(
            &vault,
            &v3(Some("REF_OUT"), "/agents/warden", "&expandSecretReferences=true"),
            &token,
        )
        .await;
        assert!(direct.contains(SHARED), "{generation:?}: {direct}");
    }
}

#[tokio::test]
async fn a_recursive_listing_is_filtered_to_the_scope() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        let proxy = start_proxy(scoped(&vault)).await;
        let token = login_wide(&proxy.url("")).await;
        for route in routes(generation) {
            vault.clear_requests();
            let (status, _, body) =
                get(&proxy.url(""), &route(None, "/agents", "&recursive=true"), &token).await;
            assert_eq!(status, 200, "{generation:?}: {body}");
            let v: Value = serde_json::from_str(&body).unwrap();
            let mut keys: Vec<&str> = common::strings_of(&v["secrets"], "secretKey");
            keys.sort_unstable();
            assert_eq!(
                keys,
                ["DEEP_KEY", "REF_IN", "REF_OUT", "WARDEN_KEY"],
                "{generation:?}"
            );
            assert!(!body.contains(OTHER) && !body.contains(SHARED), "{body}");
            assert_eq!(vault.requests()[0].query_param("recursive"), Some("true"));
        }
        // A recursive listing from a folder that does not lead into the scope
        // is refused before the vault.
        vault.clear_requests();
        let (status, _, body) = get(&proxy.url(""), &v3(None, "/shared", "&recursive=true"), &token).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("ProxyScopeRefused"));
        assert!(vault.requests().is_empty());
    }
}

#[tokio::test]
async fn folder_listings_show_only_the_way_into_the_scope() {
    let vault = vault(Generation::Current).await;
    let proxy = start_proxy(scoped(&vault)).await;
    let token = login_wide(&proxy.url("")).await;
    for target in [
        format!("/api/v1/folders?workspaceId={PROJ}&environment=dev&directory=/agents"),
        format!("/api/v2/folders?projectId={PROJ}&environment=dev&path=/agents"),
    ] {
        let (status, _, body) = get(&proxy.url(""), &target, &token).await;
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let names: Vec<&str> = common::strings_of(&v["folders"], "name");
        assert_eq!(names, ["warden"], "{target}");
    }
}

#[tokio::test]
async fn routes_off_the_allow_list_are_refused_with_a_scope() {
    let vault = vault(Generation::Current).await;
    let proxy = start_proxy(scoped(&vault)).await;
    let token = login_wide(&proxy.url("")).await;
    vault.clear_requests();
    for target in [
        format!("/api/v1/workspace/{PROJ}/secret-snapshots?environment=dev&path=/agents/warden"),
        format!("/api/v1/dashboard/secrets-overview?projectId={PROJ}&environments=dev"),
        format!("/api/v1/secret-imports/secrets?workspaceId={PROJ}&environment=dev&path=/agents/warden"),
        "/api/v3/secrets/raw/id/abc".to_string(),
        "/api/v2/service-token".to_string(),
        "/api/v1/organization".to_string(),
    ] {
        let (status, _, body) = get(&proxy.url(""), &target, &token).await;
        assert_eq!(status, 403, "{target}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"], "ProxyScopeRefused", "{target}");
        assert!(v["message"].as_str().unwrap().contains("allow-list"), "{v}");
    }
    assert!(vault.requests().is_empty(), "a refused route reached the vault");
    // The allow-list itself passes.
    for target in [
        "/api/status".to_string(),
        format!("/api/v1/workspace/{PROJ}"),
        v4(Some("WARDEN_KEY"), "/agents/warden", ""),
    ] {
        let (status, _, body) = get(&proxy.url(""), &target, &token).await;
        assert_eq!(status, 200, "{target}: {body}");
    }
}

#[tokio::test]
async fn the_response_cap_bounds_what_a_scoped_read_holds() {
    let big = "x".repeat(300 * 1024);
    let data = data().secret(PROJ, "dev", "/agents/warden", "BIG", &big);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let vault = FakeVault::new(data)
        .gate(CfGate::Off)
        .identity(Identity::new(
            ID,
            SECRET,
            vec![PermissionRule::read("dev", "/**")],
        ))
        .start(listener)
        .await
        .unwrap();
    let mut s = scoped(&vault);
    s.vault.max_response_bytes = 256 * 1024;
    let proxy = start_proxy(s).await;
    let token = login_wide(&proxy.url("")).await;
    let (status, _, body) = get(&proxy.url(""), &v3(None, "/agents/warden", ""), &token).await;
    assert_eq!(status, 502, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"], "ProxyResponseTooLarge");
    assert!(
        v["message"].as_str().unwrap().contains("--max-response-mib"),
        "{v}"
    );
    assert!(!body.contains("xxxx"));
    // Small answers still pass.
    let (status, _, _) = get(
        &proxy.url(""),
        &v3(Some("WARDEN_KEY"), "/agents/warden", ""),
        &token,
    )
    .await;
    assert_eq!(status, 200);
}

/// This machine's address on a non-loopback interface, if it has one: the
/// route lookup of a UDP connect sends nothing.
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket
        .connect("192.0.2.1:9")
        .or_else(|_| socket.connect("10.255.255.1:9"))
        .ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test]
async fn remote_clients_need_the_client_token() {
    // No token: the binary refuses to start, naming the variable.
    let mut p = spawn_binary(
        &["proxy", "--listen", "0.0.0.0:0", "--allow-remote"],
        &[("INFISICAL_HOST_URL", "https://vault.example.com")],
    );
    assert_eq!(p.wait_exit().code(), Some(2), "{:#?}", p.stderr);
    assert!(
        p.stderr_text().contains("INFISICAL_PROXY_TOKEN"),
        "{:#?}",
        p.stderr
    );

    let vault = vault(Generation::Current).await;
    let mut s = scoped(&vault);
    s.policy.allow_remote = true;
    s.policy.client_token = Some(SecretString::from(CLIENT_TOKEN));
    let listener = proxy::bind("0.0.0.0:0".parse().unwrap()).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (_stop, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(proxy::run(listener, s, async move {
        let _ = rx.await;
    }));
    // Loopback clients are unchanged: no token needed.
    let local = format!("http://127.0.0.1:{port}");
    let token = login_wide(&local).await;
    let Some(ip) = non_loopback_ip() else {
        eprintln!("no non-loopback interface here: the remote leg is covered by the policy unit test");
        return;
    };
    let remote = format!("http://{ip}:{port}");
    let target = format!("{remote}{}", v3(Some("WARDEN_KEY"), "/agents/warden", ""));
    vault.clear_requests();
    let without = client().get(&target).bearer_auth(&token);
    let (status, v) = refusal(without).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (401, Some("ProxyClientTokenMissing"))
    );
    let wrong = client()
        .get(&target)
        .bearer_auth(&token)
        .header("x-proxy-token", "client-token-for-remote-WRONG");
    let (status, v) = refusal(wrong).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (403, Some("ProxyClientTokenRefused"))
    );
    assert!(
        vault.requests().is_empty(),
        "an unauthenticated client reached the vault"
    );
    for (name, value) in [
        ("x-proxy-token", CLIENT_TOKEN.to_string()),
        ("proxy-authorization", format!("Bearer {CLIENT_TOKEN}")),
    ] {
        let r = client()
            .get(&target)
            .bearer_auth(&token)
            .header(name, &value)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
        assert!(r.text().await.unwrap().contains(WARDEN));
    }
    // The client token is the proxy's: it never reaches the vault.
    for req in vault.requests() {
        assert!(
            req.headers.iter().all(|(_, v)| !v.contains(CLIENT_TOKEN)),
            "{req:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_applies_the_scope_flag_and_says_so_in_help() {
    let help = std::process::Command::new(binary_path())
        .args(["proxy", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    common::assert_contains_all(
        "proxy --help",
        &help,
        &[
            "expandSecretReferences=false",
            "includeImports=false",
            "INFISICAL_PROXY_TOKEN",
            "--max-response-mib",
        ],
    );

    let vault = vault(Generation::Legacy).await;
    let mut env = vec![
        ("INFISICAL_HOST_URL", vault.base_url()),
        ("CF_ACCESS_CLIENT_ID", CF_ID.to_string()),
        ("CF_ACCESS_CLIENT_SECRET", CF_SECRET.to_string()),
    ];
    env.push(("INFISICAL_SCOPE", SCOPE.to_string()));
    let mut proxy = spawn_binary(&["proxy", "--listen", "127.0.0.1:0"], &env_refs(&env));
    proxy.wait_listening();
    let base = proxy.url("");
    let token = login_wide(&base).await;
    for target in [
        v3(Some("SHARED_TOKEN"), "/agents/warden", "&include_imports=true"),
        v3(Some("REF_OUT"), "/agents/warden", "&expandSecretReferences=true"),
        v3(
            None,
            "/agents",
            "&recursive=true&include_imports=true&expandSecretReferences=true",
        ),
    ] {
        let (_, _, body) = get(&base, &target, &token).await;
        assert!(
            !body.contains(SHARED) && !body.contains(OTHER),
            "{target}: {body}"
        );
    }
    let (status, _, body) = get(&base, &v3(None, "/agents", "&recursive=true"), &token).await;
    assert_eq!(status, 200);
    assert!(body.contains(WARDEN) && body.contains(DEEP), "{body}");
}

/// With the configured project known, a read naming another project is
/// refused before the vault, on every read route of both generations; the
/// same read of the configured project, or of one the operator named, passes.
#[tokio::test]
async fn another_projects_reads_are_refused_when_the_project_is_known() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        let mut settings = scoped(&vault);
        if let Some(rule) = settings.policy.scope.as_mut() {
            rule.projects = Some(ProjectRule {
                default: Some(PROJ.into()),
                projects: ProjectScope::default(),
            });
        }
        let proxy = start_proxy(settings).await;
        let token = login_wide(&proxy.url("")).await;
        for route in routes(generation) {
            let mine = route(Some("WARDEN_KEY"), "/agents/warden", "");
            let (status, _, body) = get(&proxy.url(""), &mine, &token).await;
            assert_eq!(status, 200, "{generation:?}: {body}");
            assert!(body.contains(WARDEN));
            for target in [
                mine.replace(PROJ, PROJ_OTHER),
                route(None, "/agents/warden", "").replace(PROJ, PROJ_OTHER),
            ] {
                // Straight to the vault, the identity reads the other project.
                let direct = direct_get(&vault, &target.replace("/WARDEN_KEY", ""), &token).await;
                assert!(direct.contains(OTHER_PROJECT_VALUE), "{generation:?}: {direct}");
                vault.clear_requests();
                let (status, _, body) = get(&proxy.url(""), &target, &token).await;
                assert_eq!(status, 403, "{generation:?} {target}: {body}");
                assert!(!body.contains(OTHER_PROJECT_VALUE));
                let v: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(v["error"], "ProxyProjectRefused", "{v}");
                assert!(
                    v["message"]
                        .as_str()
                        .unwrap()
                        .contains("INFISICAL_ALLOWED_PROJECTS")
                );
                assert!(vault.requests().is_empty(), "a refused read reached the vault");
            }
        }
        for target in [
            format!("/api/v1/folders?workspaceId={PROJ_OTHER}&environment=dev&directory=/agents"),
            format!("/api/v1/secret-imports?workspaceId={PROJ_OTHER}&environment=dev&path=/agents/warden"),
            format!("/api/v1/workspace/{PROJ_OTHER}"),
        ] {
            let (status, _, body) = get(&proxy.url(""), &target, &token).await;
            assert_eq!(status, 403, "{generation:?} {target}: {body}");
            assert!(body.contains("ProxyProjectRefused"), "{body}");
        }

        // Named by the operator: served.
        let mut settings = scoped(&vault);
        if let Some(rule) = settings.policy.scope.as_mut() {
            rule.projects = Some(ProjectRule {
                default: Some(PROJ.into()),
                projects: ProjectScope {
                    also: vec![PROJ_OTHER.into()],
                    ..ProjectScope::default()
                },
            });
        }
        let named = start_proxy(settings).await;
        for route in routes(generation) {
            let target = route(Some("WARDEN_KEY"), "/agents/warden", "").replace(PROJ, PROJ_OTHER);
            let (status, _, body) = get(&named.url(""), &target, &token).await;
            assert_eq!(status, 200, "{generation:?}: {body}");
            assert!(body.contains(OTHER_PROJECT_VALUE));
        }
    }
}

/// A ';' in a scoped path never reaches the vault, and neither does a query
/// parameter the route does not define.
#[tokio::test]
async fn semicolons_and_unknown_parameters_never_reach_the_vault() {
    for generation in [Generation::Current, Generation::Legacy] {
        let vault = vault(generation).await;
        let proxy = start_proxy(scoped(&vault)).await;
        let token = login_wide(&proxy.url("")).await;
        vault.clear_requests();
        for target in [
            format!(
                "/api/v3/secrets/raw/OTHER_KEY;secretPath=/agents/other?workspaceId={PROJ}&environment=dev&secretPath=/agents/warden"
            ),
            format!("/api/v3/secrets/raw;x?workspaceId={PROJ}&environment=dev&secretPath=/agents/warden"),
            format!(
                "/api/v3/secrets/raw?workspaceId={PROJ}&environment=dev&secretPath=/agents/warden&workspaceSlug=scope"
            ),
            format!(
                "/api/v3/secrets/raw?workspaceId={PROJ}&environment=dev&secretPath=/agents/warden&SecretPath=/agents/other"
            ),
        ] {
            let (status, _, body) = get(&proxy.url(""), &target, &token).await;
            assert!(
                status == 400 || status == 403,
                "{generation:?} {target}: {status} {body}"
            );
            assert!(!body.contains(OTHER), "{body}");
        }
        assert!(vault.requests().is_empty(), "{:?}", vault.requests());
    }
}
