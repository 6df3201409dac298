//! Fake vault: the demo dataset, identity and gate used by the `demo`
//! command work together end to end.

mod support;

use infisical_fakevault::{
    DEMO_CF_CLIENT_ID, DEMO_CF_CLIENT_SECRET, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, FakeVault, VaultData,
    demo_gate, demo_identity,
};
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn demo_vault_end_to_end() -> TestResult {
    let v = start(
        FakeVault::new(VaultData::sample())
            .gate(demo_gate())
            .identity(demo_identity()),
    )
    .await?;
    let c = client()?;
    let send = |path: String, token: Option<String>| {
        let mut req = c
            .get(format!("{}{path}", v.base_url()))
            .header("CF-Access-Client-Id", DEMO_CF_CLIENT_ID)
            .header("CF-Access-Client-Secret", DEMO_CF_CLIENT_SECRET);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let login = c
        .post(format!("{}/api/v1/auth/universal-auth/login", v.base_url()))
        .header("CF-Access-Client-Id", DEMO_CF_CLIENT_ID)
        .header("CF-Access-Client-Secret", DEMO_CF_CLIENT_SECRET)
        .json(&json!({"clientId": DEMO_CLIENT_ID, "clientSecret": DEMO_CLIENT_SECRET}))
        .send()
        .await?
        .json::<Value>()
        .await?;
    assert_eq!(login["expiresIn"], 3600);
    let token = login["accessToken"].as_str().unwrap_or_default().to_owned();

    let cf: Value = send(
        format!("/api/v4/secrets?projectId={P}&environment=prod&secretPath=/MooseQuest/cloudflare"),
        Some(token.clone()),
    )
    .await?
    .json()
    .await?;
    let names = keys(&cf);
    for expected in [
        "CF_DNS_EDIT_RAXX_APP",
        "CF_DNS_EDIT_RAXX_APP__EXPIRES_AT",
        "CF_DNS_EDIT_RAXX_APP__SCOPES",
        "CF_WAF_EDIT_RAXX_APP__EXPIRES_AT",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} not in {names:?}");
    }
    let alpaca: Value = send(
        format!("/api/v4/secrets/ALP_PAPER_TRADING?projectId={P}&environment=prod&secretPath=/MooseQuest/alpaca&expandSecretReferences=true"),
        Some(token.clone()),
    )
    .await?
    .json()
    .await?;
    assert_eq!(
        alpaca["secret"]["secretValue"],
        "PKFAKE0000PAPER:paper-FAKE-secret-Zx81"
    );

    let warden = send(format!("/api/v4/secrets?projectId={P}&environment=dev&secretPath=/agents/warden&expandSecretReferences=true&includeImports=true"), Some(token.clone())).await?;
    assert_eq!(warden.status(), 200);
    let body: Value = warden.json().await?;
    // The /shared import is out of scope: listed, without its secrets.
    assert_eq!(body["imports"][0]["secretPath"], "/shared", "{body}");
    assert_eq!(body["imports"][0]["secrets"], json!([]), "{body}");

    let staging = send(format!("/api/v4/secrets/CF_ACCESS_SVC_VAULT?projectId={P}&environment=staging&secretPath=/MooseQuest/cloudflare"), Some(token)).await?;
    assert_eq!(staging.status(), 403);
    Ok(())
}
