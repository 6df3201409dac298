//! The log sink behind stderr and `--log-dir`: the thread that logs appends
//! its formatted line to a shared buffer, and one writer thread drains that
//! buffer with one `write(2)` per batch.
//!
//! Why not `tracing-appender`'s non-blocking writer: it sends every line as
//! its own allocation through a channel and wakes the writer thread for it,
//! so the proxy paid a futex wake-up and a context switch per request
//! (bench/analysis.md). Here only the line that finds the buffer empty wakes
//! the writer, which then waits [`LINGER`] for the rest of the burst: under
//! load that is a few hundred wake-ups a second whatever the request rate,
//! and an idle process has no timer at all. A line reaches the file at most
//! [`LINGER`] (plus the write) after it was logged.
//!
//! If the sink stalls (a terminal nobody reads), the buffer stops at
//! [`MAX_PENDING`] bytes and further lines are dropped and counted, as the
//! old writer's bounded queue did; the count is written once the sink moves
//! again. Dropping the [`Guard`] writes what is left and stops the thread.
//!
//! The thread is started by the first line, not at start-up: the stdio
//! server logs only warnings by default, usually none, and its `initialize`
//! answer should not wait for a thread it may never need.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the writer waits, after the first line of a burst, for more.
pub const LINGER: Duration = Duration::from_millis(2);
/// Bytes held for a stalled sink before lines are dropped (about 4,000
/// access-log lines, a 200 ms stall at the proxy's full rate).
pub const MAX_PENDING: usize = 1 << 20;

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    dropped: u64,
    closed: bool,
    /// The sink until the writer thread takes it.
    sink: Option<Box<dyn Write + Send>>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves only bytes behind: keep going.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The `MakeWriter` handed to `tracing_subscriber::fmt`: cheap to clone.
#[derive(Clone)]
pub struct BatchWriter {
    shared: Arc<Shared>,
}

/// Stops the writer thread after writing what is pending.
pub struct Guard {
    shared: Arc<Shared>,
}

/// Sets up the writer for `sink`; its thread starts with the first line.
pub fn spawn<W: Write + Send + 'static>(sink: W) -> std::io::Result<(BatchWriter, Guard)> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            sink: Some(Box::new(sink)),
            ..State::default()
        }),
        ready: Condvar::new(),
    });
    Ok((
        BatchWriter {
            shared: shared.clone(),
        },
        Guard { shared },
    ))
}

/// Starts the writer thread with the sink, if it has not started yet.
/// Called with the state locked; the thread waits for that lock.
fn start(shared: &Arc<Shared>, state: &mut State) {
    let Some(sink) = state.sink.take() else { return };
    let (handoff, taken) = std::sync::mpsc::channel::<Box<dyn Write + Send>>();
    let spawned = std::thread::Builder::new()
        .name("log-writer".into())
        // It formats nothing: a small stack is plenty.
        .stack_size(64 * 1024)
        .spawn({
            let shared = shared.clone();
            move || {
                if let Ok(sink) = taken.recv() {
                    drain(&shared, sink);
                }
            }
        });
    match spawned {
        Ok(thread) => {
            let _ = handoff.send(sink);
            state.thread = Some(thread);
        }
        // No thread (resource limits): write each batch from here instead.
        Err(_) => state.sink = Some(sink),
    }
}

fn drain(shared: &Shared, mut sink: Box<dyn Write + Send>) {
    let mut batch = Vec::new();
    loop {
        let mut state = shared.lock();
        while state.pending.is_empty() && !state.closed {
            state = shared.ready.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        if !state.closed {
            // Let the rest of the burst arrive: one write for many lines.
            drop(state);
            std::thread::sleep(LINGER);
            state = shared.lock();
        }
        std::mem::swap(&mut state.pending, &mut batch);
        let dropped = std::mem::take(&mut state.dropped);
        let closed = state.closed;
        drop(state);
        // Nowhere to report a failing sink but the sink itself: ignored, as
        // tracing-appender did.
        let _ = sink.write_all(&batch);
        if dropped > 0 {
            let _ = writeln!(
                sink,
                "infisical-mcp-rs: {dropped} log lines dropped (the log output was not being read fast enough)"
            );
        }
        let _ = sink.flush();
        batch.clear();
        if closed && shared.lock().pending.is_empty() {
            return;
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let thread = {
            let mut state = self.shared.lock();
            state.closed = true;
            state.thread.take()
        };
        self.shared.ready.notify_one();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// One event's handle: `fmt` writes the whole formatted line in one call.
pub struct LineWriter<'a> {
    shared: &'a Arc<Shared>,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut state = self.shared.lock();
        if state.closed {
            return Ok(line.len());
        }
        if state.pending.len() + line.len() > MAX_PENDING {
            state.dropped += 1;
            return Ok(line.len());
        }
        let was_empty = state.pending.is_empty();
        state.pending.extend_from_slice(line);
        if state.thread.is_none() {
            start(self.shared, &mut state);
            let state = &mut *state;
            if let Some(sink) = state.sink.as_mut() {
                // No writer thread could be started: written here.
                let pending = std::mem::take(&mut state.pending);
                let _ = sink.write_all(&pending);
                let _ = sink.flush();
                return Ok(line.len());
            }
        }
        drop(state);
        if was_empty {
            self.shared.ready.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchWriter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter { shared: &self.shared }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use tracing_subscriber::fmt::MakeWriter as _;

    /// A sink the test can read after the guard is gone.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_in_order_by_the_time_the_guard_is_dropped() {
        let sink = Shared::default();
        let (writer, guard) = spawn(sink.clone()).unwrap();
        for i in 0..1000 {
            writer
                .make_writer()
                .write_all(format!("line {i}\n").as_bytes())
                .unwrap();
        }
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1000);
        assert_eq!(lines[0], "line 0");
        assert_eq!(lines[999], "line 999");
    }

    /// A sink that blocks until the test lets it go.
    struct Stalled(std::sync::mpsc::Receiver<()>, Shared);

    impl Write for Stalled {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _ = self.0.recv();
            self.1.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_sink_bounds_the_buffer_and_the_drop_is_reported() {
        let (go, wait) = std::sync::mpsc::channel();
        let sink = Shared::default();
        let (writer, guard) = spawn(Stalled(wait, sink.clone())).unwrap();
        let line = vec![b'x'; 1023];
        // The writer thread may take up to a full buffer before it stalls;
        // the next lines fill the buffer to its cap, the rest are dropped.
        let total = 2 * (MAX_PENDING / 1024) + 200;
        for _ in 0..total {
            let mut l = line.clone();
            l.push(b'\n');
            writer.make_writer().write_all(&l).unwrap();
        }
        assert!(writer.shared.lock().pending.len() <= MAX_PENDING);
        assert!(writer.shared.lock().dropped > 0);
        drop(go);
        drop(guard);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains("log lines dropped"),
            "{}",
            &text[text.len() - 200..]
        );
        let written = text.lines().filter(|l| l.starts_with('x')).count();
        assert!(written < total && written >= MAX_PENDING / 1024, "{written}");
    }
}
