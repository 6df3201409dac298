//! Fake vault: status, universal-auth login, token renew/revoke, token
//! failure modes, and the projects routes, on both generations.

mod support;

use std::time::Duration;

use infisical_fakevault::{FakeVault, Generation, Identity, PermissionRule, VaultData};
use serde_json::json;
use support::*;

#[tokio::test]
async fn status_needs_no_auth() -> TestResult {
    let v = start(vault(Generation::Current)).await?;
    let a = get_anon(&client()?, &format!("{}/api/status", v.base_url())).await?;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["message"], "Ok");
    assert!(
        a.json()["date"]
            .as_str()
            .is_some_and(|d| d.ends_with('Z') && d.len() == 24)
    );
    v.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn login_returns_a_bearer_token_with_and_without_trailing_slash() -> TestResult {
    let v = start(vault(Generation::Current)).await?;
    let c = client()?;
    for path in [
        "/api/v1/auth/universal-auth/login",
        "/api/v1/auth/universal-auth/login/",
    ] {
        let a = post(
            &c,
            &format!("{}{path}", v.base_url()),
            json!({"clientId": WARDEN_ID, "clientSecret": WARDEN_SECRET}),
        )
        .await?;
        assert_eq!(a.status, 200, "{}", a.text);
        let body = a.json();
        assert!(
            body["accessToken"]
                .as_str()
                .is_some_and(|t| t.starts_with("eyJ") && t.split('.').count() == 3)
        );
        assert_eq!(body["expiresIn"], 2_592_000);
        assert_eq!(body["accessTokenMaxTTL"], 2_592_000);
        assert_eq!(body["tokenType"], "Bearer");
    }
    assert_eq!(v.login_count(), 2);
    Ok(())
}

#[tokio::test]
async fn login_failures_current() -> TestResult {
    let v = start(vault(Generation::Current).login_lockout(false)).await?;
    let c = client()?;
    let url = format!("{}/api/v1/auth/universal-auth/login", v.base_url());
    let wrong = post(&c, &url, json!({"clientId": WARDEN_ID, "clientSecret": "nope"})).await?;
    assert_current_error(&wrong, 401, "UnauthorizedError", "Invalid credentials");
    let unknown = post(&c, &url, json!({"clientId": "who", "clientSecret": "x"})).await?;
    assert_current_error(&unknown, 401, "UnauthorizedError", "Invalid credentials");
    let malformed = post(&c, &url, json!({"clientId": WARDEN_ID})).await?;
    assert_eq!(malformed.status, 422);
    let body = malformed.json();
    assert_eq!(body["error"], "ValidationFailure");
    assert_eq!(body["message"][0]["path"], json!(["clientSecret"]));
    assert_eq!(body["message"][0]["code"], "invalid_type");
    assert_eq!(v.login_count(), 3);
    Ok(())
}

#[tokio::test]
async fn login_failures_legacy() -> TestResult {
    let v = start(vault(Generation::Legacy)).await?;
    let c = client()?;
    let url = format!("{}/api/v1/auth/universal-auth/login", v.base_url());
    let unknown = post(&c, &url, json!({"clientId": "who", "clientSecret": "x"})).await?;
    assert_legacy_error(
        &unknown,
        404,
        "NotFound",
        "No identity with specified client ID was found",
    );
    let wrong = post(&c, &url, json!({"clientId": WARDEN_ID, "clientSecret": "nope"})).await?;
    assert_legacy_error(&wrong, 401, "UnauthorizedError", "Invalid credentials");
    let malformed = post(&c, &url, json!({"clientId": WARDEN_ID})).await?;
    assert_eq!(malformed.status, 401);
    assert_eq!(malformed.json()["error"], "ValidationFailure");
    assert!(malformed.json()["message"].is_array());
    Ok(())
}

#[tokio::test]
async fn repeated_wrong_secrets_lock_the_identity_on_current() -> TestResult {
    let v = start(vault(Generation::Current)).await?;
    let c = client()?;
    let url = format!("{}/api/v1/auth/universal-auth/login", v.base_url());
    for _ in 0..3 {
        let a = post(&c, &url, json!({"clientId": WARDEN_ID, "clientSecret": "no"})).await?;
        assert_eq!(a.json()["message"], "Invalid credentials");
    }
    let locked = post(
        &c,
        &url,
        json!({"clientId": WARDEN_ID, "clientSecret": WARDEN_SECRET}),
    )
    .await?;
    assert_current_error(
        &locked,
        401,
        "UnauthorizedError",
        "This identity auth method is temporarily locked, please try again later",
    );
    Ok(())
}

#[tokio::test]
async fn token_failures_per_generation() -> TestResult {
    for generation in [Generation::Current, Generation::Legacy] {
        let v = start(vault(generation)).await?;
        let c = client()?;
        let url = format!("{}/api/v1/workspace/{P}", v.base_url());
        let check = |a: &Answer, status: u16, error: &str, message: &str| match generation {
            Generation::Current => assert_current_error(a, status, error, message),
            Generation::Legacy => assert_legacy_error(a, status, error, message),
        };

        let none = get_anon(&c, &url).await?;
        check(&none, 401, "UnauthorizedError", "Token missing");
        let garbage = get(&c, &url, "garbage").await?;
        check(
            &garbage,
            403,
            "TokenError",
            "The provided access token is malformed. Please use a valid token or generate a new one and try again.",
        );
        let forged = get(&c, &url, "eyJhbGciOiJIUzI1NiJ9.eyJmYWtlIjp0cnVlfQ.c2lnbmF0dXJl").await?;
        check(&forged, 403, "TokenError", "invalid signature");

        let token = login(&c, &v, WARDEN_ID, WARDEN_SECRET).await?;
        assert_eq!(get(&c, &url, &token).await?.status, 200);
        v.revoke_tokens();
        check(
            &get(&c, &url, &token).await?,
            401,
            "UnauthorizedError",
            "No identity access token found",
        );

        let token = login(&c, &v, WARDEN_ID, WARDEN_SECRET).await?;
        v.expire_tokens();
        check(
            &get(&c, &url, &token).await?,
            403,
            "TokenError",
            "Your token has expired. Please re-authenticate.",
        );
        // A fresh login after the expiry works again.
        let token = login(&c, &v, WARDEN_ID, WARDEN_SECRET).await?;
        assert_eq!(get(&c, &url, &token).await?.status, 200);
        v.shutdown().await;
    }
    Ok(())
}

#[tokio::test]
async fn ttl_expiry_happens_in_real_time() -> TestResult {
    let short =
        Identity::new("short", "short-secret", vec![]).ttl(Duration::from_millis(1), Duration::from_secs(10));
    let v = start(FakeVault::new(VaultData::sample()).identity(short)).await?;
    let c = client()?;
    let token = login(&c, &v, "short", "short-secret").await?;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let a = get_at(&c, &v, "/api/v1/workspace", &token).await?;
    assert_current_error(
        &a,
        403,
        "TokenError",
        "Your token has expired. Please re-authenticate.",
    );
    Ok(())
}

/// The recorded 2024 build answers a renewal with the same JWT string.
#[tokio::test]
async fn legacy_renew_returns_the_same_token() -> TestResult {
    let id = Identity::new(
        "renewable",
        "renew-secret",
        vec![PermissionRule::read("dev", "/**")],
    )
    .ttl(Duration::from_secs(60), Duration::from_secs(3600));
    let v = start(
        FakeVault::new(VaultData::sample())
            .generation(Generation::Legacy)
            .identity(id),
    )
    .await?;
    let c = client()?;
    let token = login(&c, &v, "renewable", "renew-secret").await?;
    let url = format!("{}/api/v1/auth/token/renew", v.base_url());
    let a = post(&c, &url, json!({"accessToken": token})).await?;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["accessToken"], token.as_str());
    assert_eq!(a.json()["expiresIn"], 60);
    assert_eq!(a.json()["accessTokenMaxTTL"], 3600);
    let one = get_at(&c, &v, &format!("/api/v1/workspace/{P}"), &token).await?;
    assert_eq!(one.status, 200, "{}", one.text);
    Ok(())
}

#[tokio::test]
async fn renew_issues_a_new_token_within_max_ttl() -> TestResult {
    let id = Identity::new(
        "renewable",
        "renew-secret",
        vec![PermissionRule::read("dev", "/**")],
    )
    .ttl(Duration::from_secs(60), Duration::from_secs(3600));
    let v = start(FakeVault::new(VaultData::sample()).identity(id)).await?;
    let c = client()?;
    let token = login(&c, &v, "renewable", "renew-secret").await?;
    let url = format!("{}/api/v1/auth/token/renew", v.base_url());
    let a = post(&c, &url, json!({"accessToken": token})).await?;
    assert_eq!(a.status, 200, "{}", a.text);
    let renewed = a.json()["accessToken"].as_str().unwrap_or_default().to_owned();
    assert!(renewed.starts_with("eyJ") && renewed != token);
    assert_eq!(a.json()["expiresIn"], 60);
    assert_eq!(a.json()["accessTokenMaxTTL"], 3600);
    assert_eq!(a.json()["tokenType"], "Bearer");
    let list = get_at(&c, &v, "/api/v1/workspace", &renewed).await?;
    assert_eq!(list.status, 200);

    let garbage = post(&c, &url, json!({"accessToken": "nope"})).await?;
    assert_eq!(garbage.status, 403);
    assert_eq!(garbage.json()["error"], "TokenError");
    Ok(())
}

#[tokio::test]
async fn renew_when_ttl_equals_max_ttl_fails_and_deletes_the_token() -> TestResult {
    for generation in [Generation::Current, Generation::Legacy] {
        let s = Session::warden(generation).await?;
        let url = format!("{}/api/v1/auth/token/renew", s.v.base_url());
        let a = post(&s.c, &url, json!({"accessToken": s.t})).await?;
        assert_eq!(a.status, 401);
        assert_eq!(
            a.json()["message"],
            "Failed to renew MI access token past its Max TTL expiration"
        );
        let after = s.get(&format!("/api/v1/workspace/{P}")).await?;
        assert_eq!(after.status, 401);
        assert_eq!(after.json()["message"], "No identity access token found");
    }
    Ok(())
}

#[tokio::test]
async fn revoke_route_revokes() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    let a = post(
        &s.c,
        &format!("{}/api/v1/auth/token/revoke", s.v.base_url()),
        json!({"accessToken": s.t}),
    )
    .await?;
    assert_eq!(a.status, 200);
    assert_eq!(a.json(), json!({"message": "Successfully revoked access token"}));
    let after = s.get("/api/v1/workspace").await?;
    assert_current_error(&after, 401, "UnauthorizedError", "No identity access token found");
    Ok(())
}

#[tokio::test]
async fn issued_tokens_work_without_a_login() -> TestResult {
    let v = start(vault(Generation::Current)).await?;
    let c = client()?;
    let token = v.issue_token(WARDEN_ID);
    let a = get_at(
        &c,
        &v,
        &format!("/api/v3/secrets/raw?workspaceId={P}&environment=dev&secretPath=/agents/warden"),
        &token,
    )
    .await?;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(v.login_count(), 0);
    Ok(())
}

#[tokio::test]
async fn projects_routes() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    let list = s.get("/api/v1/workspace").await?;
    assert_eq!(list.status, 200);
    let ws = &list.json()["workspaces"][0];
    assert_eq!(ws["id"], P);
    assert_eq!(ws["_id"], P);
    assert_eq!(ws["name"], "raxx-secrets");
    assert_eq!(ws["type"], "secret-manager");
    let slugs: Vec<&str> = ws["environments"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["slug"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(slugs, ["dev", "staging", "prod"]);

    let one = s.get(&format!("/api/v1/workspace/{P}")).await?;
    assert_eq!(one.json()["workspace"]["slug"], "raxx-secrets");
    let missing = s.get("/api/v1/workspace/nope").await?;
    assert_current_error(&missing, 404, "NotFound", "Project with ID 'nope' not found");

    let legacy = start(vault(Generation::Legacy)).await?;
    let t = login(&s.c, &legacy, WARDEN_ID, WARDEN_SECRET).await?;
    let denied = get_at(&s.c, &legacy, "/api/v1/workspace", &t).await?;
    assert_legacy_error(
        &denied,
        403,
        "Forbidden access to /api/v1/workspace",
        "You are not allowed to access this resource",
    );
    let one = get_at(&s.c, &legacy, &format!("/api/v1/workspace/{P}"), &t).await?;
    assert_eq!(one.status, 200);
    Ok(())
}
