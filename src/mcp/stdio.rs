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

/// Standard input as an async reader.
pub fn stdin() -> Box<dyn AsyncRead + Send + Unpin> {
    match on_reactor(io::stdin().as_fd().try_clone_to_owned()) {
        Some(Stream::Pipe(file)) => {
            if let Ok(pipe) = tokio::net::unix::pipe::Receiver::from_file(file) {
                return Box::new(pipe);
            }
        }
        Some(Stream::Socket(socket)) => {
            if let Ok(socket) = tokio::net::UnixStream::from_std(socket) {
                return Box::new(socket);
            }
        }
        None => {}
    }
    Box::new(tokio::io::stdin())
}

/// Standard output as an async writer.
pub fn stdout() -> Box<dyn AsyncWrite + Send + Unpin> {
    match on_reactor(io::stdout().as_fd().try_clone_to_owned()) {
        Some(Stream::Pipe(file)) => {
            if let Ok(pipe) = tokio::net::unix::pipe::Sender::from_file(file) {
                return Box::new(pipe);
            }
        }
        Some(Stream::Socket(socket)) => {
            if let Ok(socket) = tokio::net::UnixStream::from_std(socket) {
                return Box::new(socket);
            }
        }
        None => {}
    }
    Box::new(tokio::io::stdout())
}

enum Stream {
    Pipe(File),
    Socket(UnixStream),
}

/// A duplicate of the descriptor, if it is a pipe or a Unix socket, with
/// the socket already non-blocking (tokio's pipe types set that themselves).
fn on_reactor(fd: io::Result<OwnedFd>) -> Option<Stream> {
    let file = File::from(fd.ok()?);
    let kind = file.metadata().ok()?.file_type();
    if kind.is_fifo() {
        return Some(Stream::Pipe(file));
    }
    if kind.is_socket() {
        let socket = UnixStream::from(OwnedFd::from(file));
        // A TCP socket (inetd-style start) is not a Unix stream: the
        // address family tells, and such a start keeps tokio's stdio.
        socket.local_addr().ok()?;
        socket.set_nonblocking(true).ok()?;
        return Some(Stream::Socket(socket));
    }
    None
}
