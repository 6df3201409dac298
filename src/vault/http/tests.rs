//! The tests of `http`, apart so that the module reads as one concept.

use super::*;

fn answer(status: u16, headers: &[(&'static str, &str)], body: &str) -> Answer {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            HeaderName::from_static(k),
            HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
        );
    }
    Answer {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
        headers: map,
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn cloudflare_login_redirect_is_an_access_rejection() {
    let a = answer(
        302,
        &[(
            "location",
            "https://team.cloudflareaccess.com/cdn-cgi/access/login/vault.example.com?kid=1",
        )],
        "<html></html>",
    );
    assert!(matches!(
        gateway_error("u", &a),
        Some(VaultError::CloudflareAccessRejected { .. })
    ));
}

#[test]
fn html_403_is_an_access_rejection_but_json_403_is_not() {
    let html = answer(
        403,
        &[("content-type", "text/html")],
        "<!DOCTYPE html><title>Forbidden</title>",
    );
    assert!(matches!(
        gateway_error("u", &html),
        Some(VaultError::CloudflareAccessRejected { .. })
    ));
    let json = answer(
        403,
        &[("content-type", "application/json")],
        r#"{"statusCode":403,"error":"PermissionDenied"}"#,
    );
    assert!(gateway_error("u", &json).is_none());
}

#[test]
fn bot_block_is_recognised() {
    let a = answer(403, &[("content-type", "text/plain")], "error code: 1010");
    assert!(matches!(
        gateway_error("u", &a),
        Some(VaultError::CloudflareBotBlocked)
    ));
}

#[test]
fn legacy_rate_limit_is_a_500_with_headers() {
    let a = answer(
        500,
        &[("retry-after", "60"), ("x-ratelimit-remaining", "0")],
        r#"{"message":"Something went wrong"}"#,
    );
    assert!(a.is_rate_limited());
    assert_eq!(a.retry_after(), Some(Duration::from_secs(60)));
    let plain = answer(500, &[], r#"{"message":"Something went wrong"}"#);
    assert!(!plain.is_rate_limited());
}

#[test]
fn only_the_generic_500_counts_as_passing() {
    let generic = answer(
        500,
        &[],
        r#"{"statusCode":500,"message":"Something went wrong","error":"InternalServerError"}"#,
    );
    assert!(generic.is_generic_failure());
    assert!(answer(500, &[], "upstream died").is_generic_failure());
    let lookup = answer(
        500,
        &[],
        r#"{"statusCode":500,"message":"Something went wrong","error":"Find by secret path"}"#,
    );
    assert!(!lookup.is_generic_failure());
}

#[test]
fn zod_issue_arrays_become_one_line() {
    let a = answer(
        422,
        &[],
        r#"{"statusCode":422,"message":[{"path":["recursive"],"message":"Invalid enum value"}],"error":"ValidationFailure"}"#,
    );
    assert_eq!(a.api_error().text(), "recursive: Invalid enum value");
}

#[test]
fn backoff_stays_within_its_cap() {
    for attempt in 1..10 {
        assert!(backoff(attempt) <= BACKOFF_CAP);
    }
}
