//! The server's stdin and stdout, read and written on the runtime's own
//! event loop when they are pipes or Unix sockets — how MCP clients start a
//! server (Node's child processes get socket pairs, Python's and Rust's
//! pipes).
//!
//! tokio's `stdin()`/`stdout()` do every read and write on a blocking
//! thread: two threads started before the first answer, and two
//! cross-thread hand-offs for every message. Here the descriptors are
//! duplicated, made non-blocking and registered with the reactor instead.
//! A terminal or a file keeps tokio's versions: non-blocking mode belongs
//! to the open file, which a shell may share.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::FileTypeExt as _;
use std::os::unix::net::UnixStream;

use tokio::io::{AsyncRead, AsyncWrite};

type Reader = Box<dyn AsyncRead + Send + Unpin>;
type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// Standard input as an async reader.
pub fn stdin() -> Reader {
    on_reactor(
        io::stdin().as_fd().try_clone_to_owned(),
        |file| Ok(Box::new(tokio::net::unix::pipe::Receiver::from_file(file)?) as Reader),
        |socket| Ok(Box::new(tokio::net::UnixStream::from_std(socket)?) as Reader),
    )
    .unwrap_or_else(|| Box::new(tokio::io::stdin()))
}

/// Standard output as an async writer.
pub fn stdout() -> Writer {
    on_reactor(
        io::stdout().as_fd().try_clone_to_owned(),
        |file| Ok(Box::new(tokio::net::unix::pipe::Sender::from_file(file)?) as Writer),
        |socket| Ok(Box::new(tokio::net::UnixStream::from_std(socket)?) as Writer),
    )
    .unwrap_or_else(|| Box::new(tokio::io::stdout()))
}

/// The duplicated descriptor on this runtime's reactor, through `pipe` for
/// a pipe or `socket` for a Unix socket (already non-blocking; tokio's pipe
/// types set that themselves); `None` for anything else or on any error.
fn on_reactor<T>(
    fd: io::Result<OwnedFd>,
    pipe: impl FnOnce(File) -> io::Result<T>,
    socket: impl FnOnce(UnixStream) -> io::Result<T>,
) -> Option<T> {
    let file = File::from(fd.ok()?);
    let kind = file.metadata().ok()?.file_type();
    if kind.is_fifo() {
        return pipe(file).ok();
    }
    if kind.is_socket() {
        let unix = UnixStream::from(OwnedFd::from(file));
        // A TCP socket (inetd-style start) is not a Unix stream: the
        // address family tells, and such a start keeps tokio's stdio.
        unix.local_addr().ok()?;
        unix.set_nonblocking(true).ok()?;
        return socket(unix).ok();
    }
    None
}
