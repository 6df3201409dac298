//! Fake vault: injected faults — gateway errors, 500, rate limiting per
//! generation, dropped connections, latency — and shutdown.

mod support;

use std::time::{Duration, Instant};

use infisical_fakevault::Generation;
use support::*;

#[tokio::test]
async fn gateway_errors_then_recovery() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    let url = format!(
        "{}/api/v4/secrets?projectId={P}&environment=dev&secretPath=/agents/warden",
        s.v.base_url()
    );
    s.v.faults().fail_next(2, 503);
    for _ in 0..2 {
        let a = get(&s.c, &url, &s.t).await?;
        assert_eq!(a.status, 503);
        assert!(
            a.header("content-type")
                .is_some_and(|ct| ct.starts_with("text/html"))
        );
    }
    assert_eq!(get(&s.c, &url, &s.t).await?.status, 200);

    s.v.faults().fail_next(1, 500);
    let a = get(&s.c, &url, &s.t).await?;
    assert_current_error(&a, 500, "InternalServerError", "Something went wrong");

    // A prefix lets the login through and fails the read.
    s.v.faults().fail_next_on("/api/v4/", 1, 502);
    let t2 = login(&s.c, &s.v, WARDEN_ID, WARDEN_SECRET).await?;
    assert_eq!(get(&s.c, &url, &t2).await?.status, 502);
    Ok(())
}

#[tokio::test]
async fn rate_limit_current_is_429_with_retry_after() -> TestResult {
    let s = Session::warden(Generation::Current).await?;
    s.v.faults().rate_limit_next(1);
    let a = s.get("/api/v1/workspace").await?;
    assert_current_error(
        &a,
        429,
        "RateLimitExceeded",
        "Rate limit exceeded. Please try again in 60 seconds",
    );
    assert_eq!(a.header("retry-after"), Some("60"));
    assert_eq!(a.header("x-ratelimit-remaining"), Some("0"));
    Ok(())
}

#[tokio::test]
async fn rate_limit_legacy_is_a_500_with_retry_after() -> TestResult {
    let s = Session::warden(Generation::Legacy).await?;
    s.v.faults().rate_limit_next_with(1, 42, None);
    // /api/status is allow-listed and does not consume the budget.
    let status = get_anon(&s.c, &format!("{}/api/status", s.v.base_url())).await?;
    assert_eq!(status.status, 200);
    let a = s
        .get(&format!(
            "/api/v3/secrets/raw?workspaceId={P}&environment=dev&secretPath=/agents/warden"
        ))
        .await?;
    assert_eq!(a.status, 500);
    assert_eq!(
        a.text,
        r#"{"statusCode":500,"message":"Something went wrong","error":"InternalServerError"}"#
    );
    assert_eq!(a.header("retry-after"), Some("42"));
    assert_eq!(a.header("x-ratelimit-remaining"), Some("0"));
    Ok(())
}

#[tokio::test]
async fn dropped_connections_get_no_answer() -> TestResult {
    let v = start(vault(Generation::Current)).await?;
    let c = client()?;
    v.faults().drop_next(1);
    let url = format!("{}/api/status", v.base_url());
    let dropped = c.get(&url).send().await;
    assert!(dropped.is_err(), "{dropped:?}");
    assert_eq!(c.get(&url).send().await?.status(), 200);
    let log = v.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].status, None);
    assert_eq!(log[1].status, Some(200));
    Ok(())
}

#[tokio::test]
async fn latency_delays_answers() -> TestResult {
    let v = start(vault(Generation::Current)).await?;
    let c = client()?;
    v.faults().set_latency(Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(
        c.get(format!("{}/api/status", v.base_url()))
            .send()
            .await?
            .status(),
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
    v.faults().clear();
    Ok(())
}

#[tokio::test]
async fn shutdown_stops_serving() -> TestResult {
    let v = start(vault(Generation::Current)).await?;
    let c = client()?;
    let url = format!("{}/api/status", v.base_url());
    assert_eq!(c.get(&url).send().await?.status(), 200);
    v.clone().shutdown().await;
    let fresh = client()?;
    assert!(fresh.get(&url).send().await.is_err());
    Ok(())
}
