//! The proxy in process on 127.0.0.1:0, driven by real HTTP clients, in front
//! of a small streaming upstream (behind the same CF check as the fake vault)
//! for what the fake vault does not do: bodies of 50 MiB, answers held back
//! mid-body, a barrier that only opens with 200 requests in flight, and a
//! request held open across a shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod proxy_support;

use std::time::Duration;

use futures::StreamExt;
use infisical_mcp_rs::agent::proxy::ProxySettings;
use proxy_support::*;

fn settings(up: &Upstream) -> ProxySettings {
    ProxySettings::new(vault_settings(&up.base_url(), true))
}

#[tokio::test]
async fn redirects_from_the_vault_are_passed_through_not_followed() {
    let up = upstream(true, 1).await;
    let proxy = start_proxy(settings(&up)).await;
    let r = client().get(proxy.url("/redirect")).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "https://elsewhere.example/next");
    assert_eq!(up.requests().len(), 1);
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
        (0..SIZE / (1 << 16)).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'y'; 1 << 16]))),
    );
    let r = client()
        .put(proxy.url("/count"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["bytes"], SIZE);
    assert!(v["frames"].as_u64().unwrap() > 1, "arrived in many chunks: {v}");
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
    let in_flight =
        tokio::spawn(async move { client().get(url).send().await.unwrap().text().await.unwrap() });
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
    let r = client().head(proxy.url("/api/status")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(up.requests()[0].method, "HEAD");
}
