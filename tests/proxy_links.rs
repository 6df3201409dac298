//! The proxy's connections to the vault: a client connection keeps one for
//! all its requests, leaves it to the next client connection when it closes
//! (a short CLI run reuses the last one's connection, TLS and all), and a
//! connection the vault closed while idle, or one whose answer was cut off,
//! is never used again: the next request gets a fresh one, not an error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod proxy_support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use infisical_mcp_rs::agent::proxy::{self, ProxySettings};
use proxy_support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

fn settings(base_url: &str) -> ProxySettings {
    ProxySettings::new(vault_settings(base_url, false))
}

/// A client that opens a new connection for every request.
fn one_shot_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

fn peers(up: &Upstream) -> HashSet<SocketAddr> {
    up.requests().iter().map(|r| r.peer).collect()
}

#[tokio::test]
async fn a_client_connection_keeps_one_vault_connection_for_all_its_requests() {
    let up = upstream(false, 1).await;
    let proxy = start_proxy(settings(&up.base_url())).await;
    let client = client();
    for _ in 0..5 {
        let r = client.get(proxy.url("/api/status")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap();
    }
    assert_eq!(up.requests().len(), 5);
    assert_eq!(peers(&up).len(), 1, "five requests, one upstream connection");
}

#[tokio::test]
async fn closed_client_connections_leave_their_vault_connection_to_the_next() {
    let up = upstream(false, 1).await;
    let proxy = start_proxy(settings(&up.base_url())).await;
    // Each worker keeps its own idle connections, and a client connection
    // lands on any worker: at most one upstream connection per worker.
    let workers = proxy::worker_count();
    let runs = 3 * workers;
    let client = one_shot_client();
    for _ in 0..runs {
        let r = client.get(proxy.url("/api/status")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap();
    }
    assert_eq!(up.requests().len(), runs);
    let used = peers(&up).len();
    assert!(
        used <= workers,
        "{runs} client connections one after another used {used} upstream connections (workers: {workers})"
    );
}

/// An upstream that answers one request per connection and then closes it
/// without saying so (no `Connection: close`), as a vault does when its
/// keep-alive timeout ends between two requests. Each close is reported.
async fn closing_upstream() -> (SocketAddr, Arc<AtomicUsize>, mpsc::UnboundedReceiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let (closed_tx, closed) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let closed_tx = closed_tx.clone();
            tokio::spawn(async move {
                if common::read_request(&mut stream).await.is_none() {
                    return;
                }
                let body = r#"{"ok":true}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
                drop(stream);
                let _ = closed_tx.send(());
            });
        }
    });
    (addr, accepted, closed)
}

#[tokio::test]
async fn a_vault_connection_closed_while_idle_is_replaced_not_reported() {
    let (addr, accepted, mut closed) = closing_upstream().await;
    let proxy = start_proxy(settings(&format!("http://{addr}"))).await;
    // The same client connection (its own upstream connection closed under
    // it), then new client connections (finding closed idle ones).
    let keep_alive = client();
    let one_shot = one_shot_client();
    for client in [&keep_alive, &keep_alive, &keep_alive, &one_shot, &one_shot] {
        let r = client.get(proxy.url("/api/status")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), r#"{"ok":true}"#);
        // The vault has closed that connection before the next request.
        closed.recv().await.unwrap();
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        5,
        "one upstream connection per request"
    );
}

#[tokio::test]
async fn an_answer_cut_off_by_the_client_takes_its_vault_connection_with_it() {
    let up = upstream(false, 1).await;
    let proxy = start_proxy(settings(&up.base_url())).await;
    let r = one_shot_client().get(proxy.url("/drip")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let mut body = r.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(10), body.next())
        .await
        .unwrap();
    assert_eq!(&first.unwrap().unwrap()[..], b"first;");
    // The client goes away with the rest of the answer still in the vault.
    drop(body);
    up.release();
    let r = one_shot_client()
        .get(proxy.url("/api/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap();
    let seen = up.requests();
    assert_eq!(seen.len(), 2);
    assert_ne!(
        seen[0].peer, seen[1].peer,
        "a connection with an unread answer on it must not carry the next request"
    );
}
