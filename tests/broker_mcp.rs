//! `serve --broker-rules`: list-secrets marks brokered secrets, get-secret
//! refuses the value of a use_only one with its own error kind and a hint
//! that shows the broker URL and a curl line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use infisical_fakevault::{Generation, SecretEntry, VaultData};
use serde_json::json;

const PROJECT: &str = infisical_fakevault::DEMO_PROJECT_ID;

#[tokio::test]
async fn use_only_secrets_are_marked_and_refused() {
    let data = VaultData::sample()
        .folder(PROJECT, "dev", "/agents/warden/api")
        .add_secret(
            PROJECT,
            "dev",
            "/agents/warden/api",
            SecretEntry::new("UPSTREAM_TOKEN", "tok-FAKE-mcp-9911"),
        )
        .add_secret(
            PROJECT,
            "dev",
            "/agents/warden/api",
            SecretEntry::new("PLAIN", "plain-FAKE-value"),
        )
        .folder(PROJECT, "dev", "/agents/warden/bot")
        .add_secret(
            PROJECT,
            "dev",
            "/agents/warden/bot",
            SecretEntry::new("PRIVATE_KEY_PEM", "pem-FAKE-bot-key"),
        );
    let vault = common::start_vault_with(data, Generation::Current, common::login_gate()).await;
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"api\"\nupstream = \"https://api.example.com\"\nsecret = \"dev:/agents/warden/api/UPSTREAM_TOKEN\"\n\
         header = \"Authorization\"\ntemplate = \"Bearer {}\"\nmethods = [\"GET\"]\npaths = [\"/v1/**\"]\nuse_only = true\n\
         [[rule]]\nname = \"github\"\nupstream = \"https://api.github.com\"\ngithub_app = \"dev:/agents/warden/bot\"\n\
         methods = [\"POST\"]\npaths = [\"/repos/acme/app/issues\"]\nuse_only = true\n",
    )
    .unwrap();
    let mut env = common::good_env(&vault);
    env.insert("INFISICAL_BROKER_URL".into(), "http://127.0.0.1:2999".into());
    let served = common::serve(&env, &["serve", "--broker-rules", rules.to_str().unwrap()]).await;

    let refused = served
        .call(
            "get-secret",
            json!({"secretName": "UPSTREAM_TOKEN", "secretPath": "/agents/warden/api"}),
        )
        .await;
    assert!(common::is_error(&refused));
    let text = common::text(&refused);
    assert!(!text.contains("tok-FAKE-mcp-9911"), "{text}");
    let detail = common::structured(&refused);
    assert_eq!(detail["error"]["kind"], "brokered_use_only", "{detail}");
    let hint = detail["error"]["hint"].as_str().unwrap();
    assert!(
        hint.contains("http://127.0.0.1:2999/api/")
            && hint.contains("curl -X GET http://127.0.0.1:2999/api/v1"),
        "{hint}"
    );

    // A GitHub App rule brokers the bot's private key: get-secret keeps it too.
    let key = served
        .call(
            "get-secret",
            json!({"secretName": "PRIVATE_KEY_PEM", "secretPath": "/agents/warden/bot"}),
        )
        .await;
    assert!(!common::text(&key).contains("pem-FAKE-bot-key"));
    let detail = common::structured(&key);
    assert_eq!(detail["error"]["kind"], "brokered_use_only", "{detail}");
    assert!(
        detail["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("curl -X POST http://127.0.0.1:2999/github/repos/acme/app/issues"),
        "{detail}"
    );

    let plain = served
        .call(
            "get-secret",
            json!({"secretName": "PLAIN", "secretPath": "/agents/warden/api"}),
        )
        .await;
    assert!(!common::is_error(&plain));
    assert!(common::text(&plain).contains("plain-FAKE-value"));

    let listed = served
        .call("list-secrets", json!({"secretPath": "/agents/warden/api"}))
        .await;
    let notes = common::structured(&listed)["notes"].to_string();
    assert!(
        notes.contains("UPSTREAM_TOKEN (dev:/agents/warden/api) brokered: api at http://127.0.0.1:2999/api/"),
        "{notes}"
    );
    assert!(!notes.contains("PLAIN"));
    let stderr = served.stderr_text();
    assert!(!stderr.contains("tok-FAKE-mcp-9911") && !stderr.contains("pem-FAKE-bot-key"));
}
