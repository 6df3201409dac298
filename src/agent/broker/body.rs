//! The answer's body on its way to the client: redacted chunk by chunk,
//! counted, and audited once it ends (or the client goes away).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming};

use super::audit::Pending;
use super::redact::Stream;
use crate::agent::proxy::BoxError;

pub struct Redacting {
    inner: Incoming,
    stream: Option<Stream>,
    bytes: u64,
    pending: Option<Pending>,
    started: Instant,
}

impl Redacting {
    pub fn new(inner: Incoming, stream: Stream, pending: Pending, started: Instant) -> Self {
        Self {
            inner,
            stream: Some(stream),
            bytes: 0,
            pending: Some(pending),
            started,
        }
    }

    fn finish(&mut self, outcome: &'static str) {
        if let Some(pending) = self.pending.take() {
            pending.record(self.bytes, outcome, self.started);
        }
    }
}

impl Body for Redacting {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        loop {
            let Some(stream) = this.stream.as_mut() else {
                return Poll::Ready(None);
            };
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => {
                    // Trailers are dropped: they could carry anything, and
                    // HTTP/1.1 clients rarely read them.
                    let Ok(data) = frame.into_data() else { continue };
                    let out = stream.push(&data);
                    if out.is_empty() {
                        continue;
                    }
                    this.bytes += out.len() as u64;
                    return Poll::Ready(Some(Ok(Frame::data(out))));
                }
                Poll::Ready(Some(Err(e))) => {
                    this.stream = None;
                    this.finish("upstream_body_error");
                    return Poll::Ready(Some(Err(Box::new(e))));
                }
                Poll::Ready(None) => {
                    let out = stream.finish();
                    this.stream = None;
                    this.bytes += out.len() as u64;
                    this.finish("ok");
                    if out.is_empty() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(out))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.stream.is_none()
    }
}

impl Drop for Redacting {
    fn drop(&mut self) {
        self.finish("client_gone");
    }
}

/// A whole body already redacted (decoded answers, refusals), audited when
/// handed over.
pub fn whole(bytes: Bytes, pending: Option<Pending>, started: Instant) -> http_body_util::Full<Bytes> {
    if let Some(p) = pending {
        p.record(bytes.len() as u64, "ok", started);
    }
    http_body_util::Full::new(bytes)
}

/// Shared so that bodies outlive the handler.
pub type SharedAudit = Option<Arc<crate::audit::AuditLog>>;
