//! A small closed-loop HTTP/1.1 load generator: `conns` tasks, each sending
//! a fixed number of GETs one after another on a keep-alive connection pool
//! (bounded in count; every request also has a timeout), recording each
//! request's latency. Throughput is measured requests over the wall time from
//! the first measured request to the last answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::header::{HeaderName, HeaderValue};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::stats::{Summary, summarize};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub struct Target {
    pub name: String,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Extra headers the client sends (the direct run sends the CF headers itself).
    pub headers: Vec<(String, String)>,
}

#[derive(Clone, Debug, Default)]
pub struct LoadResult {
    pub conns: usize,
    pub requests: usize,
    pub wall: Duration,
    pub latency: Summary,
    pub rps: f64,
    /// CPU time the proxy process tree spent per request (µs), when measured.
    pub cpu_us_per_req: Option<f64>,
    /// Every measured request's latency, so that passes can be pooled.
    pub samples: Vec<Duration>,
    /// The p99 (ms) and req/s of each pass pooled into this result, in the
    /// order run.
    pub pass_p99: Vec<f64>,
    pub pass_rps: Vec<f64>,
}

pub async fn run(
    target: &Target,
    path_and_query: &str,
    conns: usize,
    per_conn: usize,
    warmup_per_conn: usize,
) -> Result<LoadResult> {
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(conns)
        .build(connector);
    let uri: hyper::Uri = format!("{}{}", target.base, path_and_query).parse()?;
    let mut headers = hyper::HeaderMap::new();
    for (k, v) in &target.headers {
        headers.append(HeaderName::from_bytes(k.as_bytes())?, HeaderValue::from_str(v)?);
    }
    let headers = Arc::new(headers);
    let barrier = Arc::new(tokio::sync::Barrier::new(conns));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..conns {
        let client = client.clone();
        let uri = uri.clone();
        let headers = headers.clone();
        let barrier = barrier.clone();
        tasks.spawn(async move {
            let once = || async {
                let mut req = hyper::Request::get(uri.clone()).body(Empty::<Bytes>::new())?;
                *req.headers_mut() = (*headers).clone();
                let resp = tokio::time::timeout(REQUEST_TIMEOUT, client.request(req))
                    .await
                    .context("request timed out")??;
                let status = resp.status();
                let body = tokio::time::timeout(REQUEST_TIMEOUT, resp.into_body().collect())
                    .await
                    .context("body timed out")??
                    .to_bytes();
                if status != hyper::StatusCode::OK {
                    bail!("answered {status}: {}", String::from_utf8_lossy(&body));
                }
                anyhow::Ok(())
            };
            for _ in 0..warmup_per_conn {
                once().await?;
            }
            barrier.wait().await;
            let start = Instant::now();
            let mut lat = Vec::with_capacity(per_conn);
            for _ in 0..per_conn {
                let t0 = Instant::now();
                once().await?;
                lat.push(t0.elapsed());
            }
            anyhow::Ok((start, Instant::now(), lat))
        });
    }
    let mut first: Option<Instant> = None;
    let mut last: Option<Instant> = None;
    let mut all = Vec::with_capacity(conns * per_conn);
    while let Some(joined) = tasks.join_next().await {
        let (start, end, lat) = joined.context("load task panicked")??;
        first = Some(first.map_or(start, |f| f.min(start)));
        last = Some(last.map_or(end, |l| l.max(end)));
        all.extend(lat);
    }
    let wall = match (first, last) {
        (Some(f), Some(l)) => l - f,
        _ => Duration::ZERO,
    };
    let latency = summarize(&all);
    let rps = all.len() as f64 / wall.as_secs_f64().max(1e-9);
    Ok(LoadResult {
        conns,
        requests: all.len(),
        wall,
        rps,
        cpu_us_per_req: None,
        pass_p99: vec![latency.p99],
        pass_rps: vec![rps],
        latency,
        samples: all,
    })
}
