//! Upstream connections, each driven by the client connection that uses it.
//!
//! A client connection takes one keep-alive HTTP/1.1 connection to the vault
//! (a [`Link`]) for its first request, keeps it in its [`Seat`] for the
//! requests after, and when it closes hands it to its worker's [`Idle`] list,
//! where the next client connection finds it: a CLI run that opens a
//! connection, asks three things and exits leaves its upstream connection,
//! TLS session included, to the next run.
//!
//! Why not a pooled client: hyper-util's pool runs every upstream connection
//! as a task of its own and passes each request and answer through channels
//! to it, so one request was polled in three tasks, and each hand-off waited
//! its turn behind the worker's other ready tasks. Here the request is
//! written and the answer read by the client connection's own task, in the
//! poll that finds them ready, the way nginx handles each event in one
//! callback: 11 % fewer instructions per request (bench/analysis.md).
//!
//! A link is only ever polled by the task that holds it; one that sits in the
//! idle list is not polled, so a vault that closed it meanwhile is noticed
//! when it is taken again ([`Link::usable`]), and a request that could not be
//! written on a reused link goes out again on another (as hyper-util did).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::TrySendError;
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper::{Request, Response};

/// The byte stream to the vault: plain TCP, or TLS over it.
type Stream = hyper_rustls::MaybeHttpsStream<hyper_util::rt::TokioIo<tokio::net::TcpStream>>;

/// A link idle this long is closed rather than reused (hyper-util's
/// default before; vaults and Cloudflare close idle connections after a
/// while, and a link that waited this long is likely one of them).
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Idle links kept per worker; beyond that the oldest are closed.
const IDLE_MAX: usize = 256;

/// One keep-alive connection to the vault.
pub(crate) struct Link {
    sender: SendRequest<Incoming>,
    /// hyper's connection state machine: reads and writes the socket when
    /// polled, which only the holder of the link does.
    driver: Pin<Box<Connection<Stream, Incoming>>>,
    /// The connection has ended (closed by the vault, or broken); it is
    /// never polled again.
    ended: bool,
    /// It carried a request before, so the vault may have closed it.
    reused: bool,
    idle_since: Instant,
}

impl Link {
    pub fn new(sender: SendRequest<Incoming>, driver: Connection<Stream, Incoming>) -> Self {
        Self {
            sender,
            driver: Box::pin(driver),
            ended: false,
            reused: false,
            idle_since: Instant::now(),
        }
    }

    /// Lets the connection read and write what it can.
    fn drive(&mut self, cx: &mut Context<'_>) {
        if !self.ended && self.driver.as_mut().poll(cx).is_ready() {
            self.ended = true;
        }
    }

    /// Whether a request can go out on it now. A link that has been idle is
    /// driven once first, so that a close by the vault is read; anything but
    /// "ready now" counts as unusable (a fresh connection costs less than a
    /// request stuck on a bad one).
    pub fn usable(&mut self, cx: &mut Context<'_>) -> bool {
        if self.idle_since.elapsed() > IDLE_TIMEOUT {
            return false;
        }
        self.drive(cx);
        !self.ended && matches!(self.sender.poll_ready(cx), Poll::Ready(Ok(())))
    }

    pub fn reused(&self) -> bool {
        self.reused
    }

    /// Sends one request and waits for the answer's head, driving the
    /// connection meanwhile. A request the connection could not write comes
    /// back inside the error.
    pub async fn exchange(
        &mut self,
        request: Request<Incoming>,
    ) -> Result<Response<Incoming>, TrySendError<Request<Incoming>>> {
        self.reused = true;
        let mut answer = std::pin::pin!(self.sender.try_send_request(request));
        std::future::poll_fn(|cx| {
            self.drive(cx);
            answer.as_mut().poll(cx)
        })
        .await
    }
}

/// The link a client connection is using, between its requests.
#[derive(Clone, Default)]
pub(crate) struct Seat(Arc<Mutex<Option<Link>>>);

impl Seat {
    fn lock(&self) -> MutexGuard<'_, Option<Link>> {
        // A panic while holding it cannot leave a half-written Option.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn take(&self) -> Option<Link> {
        self.lock().take()
    }

    /// Puts back a link whose answer has been read to the end.
    pub fn put(&self, mut link: Link) {
        if !link.ended {
            link.idle_since = Instant::now();
            *self.lock() = Some(link);
        }
    }
}

/// A worker's links that no client connection holds, most recent last.
#[derive(Default)]
pub(crate) struct Idle(Mutex<Vec<Link>>);

impl Idle {
    fn lock(&self) -> MutexGuard<'_, Vec<Link>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recently used idle link (its TLS session is the freshest).
    pub fn take(&self) -> Option<Link> {
        self.lock().pop()
    }

    /// Keeps a link a closing client connection leaves behind.
    pub fn put(&self, link: Link) {
        if link.ended {
            return;
        }
        let mut idle = self.lock();
        if idle.len() >= IDLE_MAX {
            idle.remove(0);
        }
        idle.push(link);
    }

    /// Closes the links idle longer than [`IDLE_TIMEOUT`], so that a proxy
    /// nobody uses does not hold sockets the vault has closed.
    pub fn sweep(&self) -> usize {
        let mut idle = self.lock();
        let before = idle.len();
        idle.retain(|link| link.idle_since.elapsed() <= IDLE_TIMEOUT);
        before - idle.len()
    }
}

/// The vault's answer body, driving the link it arrives on; when the body
/// has been read to its end the link goes back to the client connection's
/// seat. A body dropped before its end closes the link with it: a
/// connection with an unread answer on it cannot carry another.
pub(crate) struct DrivenBody {
    body: Incoming,
    link: Option<Link>,
    seat: Seat,
}

impl DrivenBody {
    /// `body` arrived on `link`. An empty answer (HEAD, 204, 304) hands the
    /// link back at once.
    pub fn new(body: Incoming, link: Link, seat: Seat) -> Self {
        let mut driven = Self {
            body,
            link: Some(link),
            seat,
        };
        if driven.body.is_end_stream() {
            driven.give_back();
        }
        driven
    }

    fn give_back(&mut self) {
        if let Some(link) = self.link.take() {
            self.seat.put(link);
        }
    }
}

impl Body for DrivenBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let mut polled = Pin::new(&mut this.body).poll_frame(cx);
        if polled.is_pending()
            && let Some(link) = this.link.as_mut()
        {
            // The connection reads the next chunk into the body's channel.
            link.drive(cx);
            polled = Pin::new(&mut this.body).poll_frame(cx);
        }
        match &polled {
            Poll::Ready(None) => this.give_back(),
            Poll::Ready(Some(Ok(_))) if this.body.is_end_stream() => this.give_back(),
            Poll::Ready(Some(Err(_))) => this.link = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
