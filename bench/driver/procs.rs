//! Processes: resident memory from /proc (Linux; `None` elsewhere), the
//! process tree under a pid, free loopback ports, signals by pid.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

fn status_field_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// VmRSS of one process, KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_field_kib(pid, "VmRSS:")
}

/// RssAnon of one process (heap, stacks: its private memory), KiB.
pub fn rss_anon_kib(pid: u32) -> Option<u64> {
    status_field_kib(pid, "RssAnon:")
}

/// Resident KiB per mapped file (`[anon]` for private memory), largest
/// first, from /proc/PID/smaps: where a process's VmRSS lives.
pub fn rss_by_mapping(pid: u32) -> Vec<(String, u64)> {
    let Ok(smaps) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) else {
        return Vec::new();
    };
    let mut by: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    let mut current = String::new();
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or_default();
        if first.contains('-') && !first.ends_with(':') {
            // A mapping's header: range perms offset dev inode [path].
            let path = line.split_whitespace().nth(5).unwrap_or("[anon]");
            current = path.rsplit('/').next().unwrap_or(path).to_string();
        } else if first == "Rss:" {
            let kib: u64 = words.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            *by.entry(current.clone()).or_default() += kib;
        }
    }
    let mut out: Vec<(String, u64)> = by.into_iter().filter(|(_, k)| *k > 0).collect();
    out.sort_by_key(|(_, kib)| std::cmp::Reverse(*kib));
    out
}

/// The deepest process under `pid` (the server itself when a launcher such
/// as npx sits above it; `pid` when nothing does).
pub fn leaf(pid: u32) -> u32 {
    tree(pid).last().copied().unwrap_or(pid)
}

/// CPU time (user + system) used so far by `pid` and its descendants, in
/// clock ticks (`getconf CLK_TCK`, 100 on Linux).
pub fn tree_cpu_ticks(pid: u32) -> Option<u64> {
    let mut total = 0;
    let mut any = false;
    for p in tree(pid) {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else { continue };
        // Fields after the command: state is field 3, utime 14, stime 15.
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        if let (Some(u), Some(s)) = (fields.get(11), fields.get(12))
            && let (Ok(u), Ok(s)) = (u.parse::<u64>(), s.parse::<u64>())
        {
            total += u + s;
            any = true;
        }
    }
    any.then_some(total)
}

pub const TICKS_PER_SEC: f64 = 100.0;

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (2nd field) may contain spaces; fields after ')' are plain.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// `pid` and all its descendants (a snapshot).
pub fn tree(pid: u32) -> Vec<u32> {
    let mut all: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.flatten() {
            if let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok())
                && let Some(pp) = parent_of(p)
            {
                all.push((p, pp));
            }
        }
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(all.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    out
}

/// Summed VmRSS of `pid` and its descendants, KiB. Pages shared between the
/// processes (e.g. the node binary) count once per process, as `ps` would.
pub fn tree_rss_kib(pid: u32) -> Option<u64> {
    let pids = tree(pid);
    let mut total = 0;
    let mut any = false;
    for p in pids {
        if let Some(k) = rss_kib(p) {
            total += k;
            any = true;
        }
    }
    any.then_some(total)
}

/// A port free on 127.0.0.1 right now (bound to :0, then released).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until something accepts connections on `addr`.
pub fn wait_listening(addr: SocketAddr, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Sends `sig` (e.g. "TERM", "KILL") to each pid with the system's `kill`.
pub fn signal(pids: &[u32], sig: &str) {
    if pids.is_empty() {
        return;
    }
    let _ = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .args(pids.iter().map(u32::to_string))
        .stderr(std::process::Stdio::null())
        .status();
}

pub fn alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; its state letter is Z.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| stat[i + 2..].chars().next())
            .is_some_and(|state| state != 'Z'),
        Err(_) => false,
    }
}

/// Samples the peak tree RSS of `pid` every `every` until told to stop.
pub struct RssSampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<Option<u64>>>,
}

impl RssSampler {
    pub fn start(pid: u32, every: Duration) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut peak: Option<u64> = None;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(k) = tree_rss_kib(pid) {
                    peak = Some(peak.map_or(k, |p| p.max(k)));
                }
                std::thread::sleep(every);
            }
            peak
        });
        RssSampler {
            stop,
            handle: Some(handle),
        }
    }

    pub fn finish(mut self) -> Option<u64> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.handle.take().and_then(|h| h.join().ok()).flatten()
    }
}
