//! Fake vault: the Cloudflare Access gate (302 login redirect, 403 page,
//! pass with a CF_Authorization cookie) and the WAF's User-Agent rule.

mod support;

use infisical_fakevault::{CfGate, Generation};
use serde_json::json;
use support::*;

const CF_ID: &str = "gate-test.access";
const CF_SECRET: &str = "gate-test-FAKE-secret";

fn redirect_gate() -> CfGate {
    CfGate::LoginRedirect {
        client_id: CF_ID.to_owned(),
        client_secret: CF_SECRET.to_owned(),
    }
}

#[tokio::test]
async fn login_redirect_app_answers_302_to_the_access_login() -> TestResult {
    let v = start(vault(Generation::Current).gate(redirect_gate())).await?;
    let c = client()?;
    let a = get_anon(&c, &format!("{}/api/status", v.base_url())).await?;
    assert_eq!(a.status, 302);
    let location = a.header("location").unwrap_or_default().to_owned();
    assert!(
        location.starts_with("https://raxx-fake.cloudflareaccess.com/cdn-cgi/access/login/127.0.0.1?kid="),
        "{location}"
    );
    assert!(location.contains("&redirect_url=%2Fapi%2Fstatus"), "{location}");
    assert!(
        a.header("content-type")
            .is_some_and(|ct| ct.starts_with("text/html"))
    );
    assert!(a.text.contains("<html>"));

    // Wrong secret: same answer, and the vault never sees the login.
    let wrong = c
        .post(format!("{}/api/v1/auth/universal-auth/login", v.base_url()))
        .header("CF-Access-Client-Id", CF_ID)
        .header("CF-Access-Client-Secret", "wrong")
        .json(&json!({"clientId": WARDEN_ID, "clientSecret": WARDEN_SECRET}))
        .send()
        .await?;
    assert_eq!(wrong.status(), 302);
    assert_eq!(v.login_count(), 0);
    let log = v.requests();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|r| !r.gate_passed && r.status == Some(302)));
    Ok(())
}

#[tokio::test]
async fn service_auth_only_app_answers_a_403_page() -> TestResult {
    let gate = CfGate::ServiceAuthOnly {
        client_id: CF_ID.to_owned(),
        client_secret: CF_SECRET.to_owned(),
    };
    let v = start(vault(Generation::Current).gate(gate)).await?;
    let a = get(&client()?, &format!("{}/api/v4/secrets", v.base_url()), "tok").await?;
    assert_eq!(a.status, 403);
    assert!(
        a.header("content-type")
            .is_some_and(|ct| ct.starts_with("text/html"))
    );
    assert!(a.text.contains("Forbidden") && serde_json::from_str::<serde_json::Value>(&a.text).is_err());
    Ok(())
}

#[tokio::test]
async fn valid_service_token_passes_and_gets_a_cookie() -> TestResult {
    let v = start(vault(Generation::Current).gate(redirect_gate())).await?;
    let c = client()?;
    // Header names are case-insensitive on the wire.
    let a = c
        .post(format!("{}/api/v1/auth/universal-auth/login/", v.base_url()))
        .header("cf-access-client-id", CF_ID)
        .header("CF-ACCESS-CLIENT-SECRET", CF_SECRET)
        .json(&json!({"clientId": WARDEN_ID, "clientSecret": WARDEN_SECRET}))
        .send()
        .await?;
    assert_eq!(a.status(), 200);
    let cookie = a
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(cookie.starts_with("CF_Authorization=eyJ"), "{cookie}");
    assert_eq!(v.login_count(), 1);
    let recorded = v.requests();
    assert!(recorded[0].gate_passed);
    assert_eq!(recorded[0].header("cf-access-client-id"), Some(CF_ID));

    // The cookie alone is accepted afterwards…
    let value = cookie.split(';').next().unwrap_or_default().to_owned();
    let again = c
        .get(format!("{}/api/status", v.base_url()))
        .header("cookie", &value)
        .send()
        .await?;
    assert_eq!(again.status(), 200);
    // A cookie is checked, not just its shape: other claims under the same
    // signature are refused.
    let mut parts: Vec<&str> = value.split('.').collect();
    assert_eq!(parts.len(), 3, "{value}");
    parts[1] = "eyJzdWIiOiJzb21lb25lLWVsc2UifQ";
    let forged = c
        .get(format!("{}/api/status", v.base_url()))
        .header("cookie", parts.join("."))
        .send()
        .await?;
    assert_eq!(forged.status(), 302);
    // …until the gate changes.
    v.set_gate(redirect_gate());
    let after = c
        .get(format!("{}/api/status", v.base_url()))
        .header("cookie", &value)
        .send()
        .await?;
    assert_eq!(after.status(), 302);
    v.set_gate(CfGate::Off);
    let off = c.get(format!("{}/api/status", v.base_url())).send().await?;
    assert_eq!(off.status(), 200);
    assert!(off.headers().get("set-cookie").is_none());
    Ok(())
}

#[tokio::test]
async fn waf_blocks_scripted_user_agents_only_when_enabled() -> TestResult {
    let v = start(vault(Generation::Current).block_default_user_agents(true)).await?;
    let url = format!("{}/api/status", v.base_url());
    let bare = reqwest::Client::new();
    for agent in [
        None,
        Some("python-requests/2.32"),
        Some("curl/8.5.0"),
        Some("Go-http-client/1.1"),
        Some("node-fetch/1.0"),
        Some("axios/1.7"),
    ] {
        let mut req = bare.get(&url);
        if let Some(agent) = agent {
            req = req.header("user-agent", agent);
        }
        let a = req.send().await?;
        assert_eq!(a.status(), 403, "{agent:?}");
        assert_eq!(a.text().await?, "error code: 1010");
    }
    let ok = bare
        .get(&url)
        .header("user-agent", "infisical-mcp-rs/0.1")
        .send()
        .await?;
    assert_eq!(ok.status(), 200);
    v.set_block_default_user_agents(false);
    assert_eq!(bare.get(&url).send().await?.status(), 200);
    Ok(())
}
