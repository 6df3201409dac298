//! `--hot-text-map`: regenerates `link/hot-text.ld`, the list of functions
//! the linker places together at the front of the binary's code (see
//! `build.rs` and bench/README.md, "Hot text").
//!
//! Why: the kernel maps a program's code in 64 KiB blocks around each page
//! it touches (fault-around). The code a serving process runs is ~2 MB
//! spread over all of the binary's ~8 MB of `.text`, so nearly every block
//! ends up resident. Packed together, the same code takes a third of that.
//!
//! How: the release binary, linked with a map (`INFISICAL_MCP_LINK_MAP`),
//! runs the same sessions the benchmarks measure under
//! `valgrind --tool=lackey --trace-superblocks=yes`, which logs the address
//! of every block of code executed. Each address falls in one input section
//! of the map (`.text.<mangled name>`, rustc emits one per function); the
//! sections, in order of first use — the stdio server's first, then what
//! only the proxy adds — are written by exact name, then again as patterns
//! with the parts of a mangled name that change between builds (crate
//! hashes) left as `*` (see [`linker_script`]).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use infisical_fakevault::{
    DEMO_CF_CLIENT_ID, DEMO_CF_CLIENT_SECRET, DEMO_CLIENT_ID, DEMO_PROJECT_ID, RunningVault,
};
use serde_json::json;

use crate::{ENV, load, mcp, procs, proxies};

/// Calls of each kind per traced session: enough to reach every path a
/// long-running session takes (caches filled, reused and expired are all
/// the same code), few enough for valgrind (~50× slower).
const TRACED_CALLS: usize = 25;

/// One function's code, as the linker sees it: an input section of the map.
#[derive(Debug, Clone, PartialEq)]
struct Section {
    start: u64,
    end: u64,
    name: String,
}

/// Input sections of the executable's code, sorted by address, from a
/// `--Map` file written by LLD (the linker Rust uses on x86-64 Linux).
fn code_sections(map: &str) -> Vec<Section> {
    let mut out = Vec::new();
    for line in map.lines() {
        // `VMA LMA Size Align  <file>:(<section>)`; output sections and
        // symbols have no `:(`.
        let mut words = line.split_whitespace();
        let (Some(vma), Some(_lma), Some(size)) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        let (Ok(vma), Ok(size)) = (u64::from_str_radix(vma, 16), u64::from_str_radix(size, 16)) else {
            continue;
        };
        let Some(name) = line.rfind(":(").and_then(|at| line[at + 2..].strip_suffix(')')) else {
            continue;
        };
        if size > 0 && name.starts_with(".text.") {
            out.push(Section {
                start: vma,
                end: vma + size,
                name: name.to_string(),
            });
        }
    }
    out.sort_by_key(|s| s.start);
    out
}

/// The section name as a pattern that also matches the same function in
/// another build: legacy mangling's trailing hash (`17h<16 hex>E`) and v0
/// mangling's crate disambiguators (`Cs<base62>_`) become `*`, and the
/// `.text.` / `.text.unlikely.` prefix (LLVM's choice for cold functions,
/// which can differ between builds) is dropped.
fn pattern(section: &str) -> String {
    let name = section
        .strip_prefix(".text.unlikely.")
        .or_else(|| section.strip_prefix(".text."))
        .unwrap_or(section);
    let mut out = String::with_capacity(name.len());
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Legacy: `17h` + 16 hex digits + `E` at the very end.
        if name.len() - i == 20 && name[i..].starts_with("17h") && name.ends_with('E') {
            let hex = &name[i + 3..i + 19];
            if hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                out.push_str("17h*");
                break;
            }
        }
        // v0: `Cs` + base-62 digits + `_` is a crate's disambiguator.
        if name.starts_with("_R")
            && name[i..].starts_with("Cs")
            && let Some(len) = name[i + 2..].find('_')
            && len > 0
            && name[i + 2..i + 2 + len]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric())
        {
            out.push_str("Cs*_");
            i += 2 + len + 1;
            continue;
        }
        out.push(bytes[i] as char);
        i += 1;
    }
    out
}

/// The sections that superblock addresses (relative to the image base)
/// fall in, in order of first execution, skipping those already `taken`.
fn sections_in_order(
    addresses: impl Iterator<Item = u64>,
    sections: &[Section],
    taken: &mut HashSet<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for addr in addresses {
        let at = sections.partition_point(|s| s.start <= addr);
        let Some(section) = at.checked_sub(1).map(|i| &sections[i]) else {
            continue;
        };
        if addr < section.end && taken.insert(section.name.clone()) {
            out.push(section.name.clone());
        }
    }
    out
}

/// Superblock addresses from a lackey log (`SB <hex>` lines), relative to
/// `base`, keeping those inside the image.
fn superblocks(log: &Path, base: u64) -> Result<Vec<u64>> {
    let text = std::fs::read_to_string(log).with_context(|| format!("read {}", log.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| l.strip_prefix("SB "))
        .filter_map(|hex| u64::from_str_radix(hex.trim().trim_start_matches("0x"), 16).ok())
        .filter_map(|a| a.checked_sub(base))
        .collect())
}

/// Where the binary's image starts in a running process: the start of its
/// mapping at file offset 0 (valgrind's loader maps it like the kernel).
fn image_base(pid: u32, bin: &Path) -> Result<u64> {
    let bin = std::fs::canonicalize(bin)?;
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))?;
    for line in maps.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() >= 6 && Path::new(f[5]) == bin && u64::from_str_radix(f[2], 16) == Ok(0) {
            let start = f[0].split('-').next().unwrap_or_default();
            return Ok(u64::from_str_radix(start, 16)?);
        }
    }
    bail!("{} is not mapped in process {pid}", bin.display())
}

fn lackey_args(log: &Path) -> Vec<String> {
    vec![
        "--tool=lackey".into(),
        "--trace-superblocks=yes".into(),
        format!("--log-file={}", log.display()),
        "--".into(),
    ]
}

/// The stdio server through what a long session does: every tool, with and
/// without values and references, and the refusals.
async fn trace_mcp(bin: &Path, vault: &RunningVault, dir: &Path) -> Result<(PathBuf, u64)> {
    let log = dir.join("lackey-mcp.log");
    let mut args = lackey_args(&log);
    args.push(bin.display().to_string());
    args.push("serve".into());
    let spec = mcp::ServerSpec {
        name: "infisical-mcp-rs under valgrind".into(),
        program: "valgrind".into(),
        args,
        cwd: None,
        env: crate::ours_env(vault),
        stderr_log: dir.join("mcp-valgrind.stderr.log"),
    };
    let mut s = mcp::Session::spawn(&spec).await?;
    s.initialize().await?;
    s.initialized().await?;
    let base = image_base(s.pid, bin)?;
    s.request("tools/list", json!({})).await?;
    let get = crate::get_secret_args();
    let list = crate::list_secrets_args();
    let folders = json!({"projectId": DEMO_PROJECT_ID, "environmentSlug": ENV, "path": "/MooseQuest"});
    let refused = json!({"secretName": "ANYTHING", "projectId": DEMO_PROJECT_ID, "environmentSlug": ENV,
                         "secretPath": "/outside-the-scope"});
    for _ in 0..TRACED_CALLS {
        s.call_tool("get-secret", &get).await?;
        s.call_tool("list-secrets", &list).await?;
        s.call_tool("list-folders", &folders).await?;
        // An error answer is a result with isError, not a JSON-RPC error.
        s.request("tools/call", json!({"name": "get-secret", "arguments": refused}))
            .await?;
    }
    s.close().await;
    Ok((log, base))
}

/// `--proxy` forwarding reads at one and at several connections.
async fn trace_proxy(bin: &Path, vault: &RunningVault, dir: &Path) -> Result<(PathBuf, u64)> {
    let log = dir.join("lackey-proxy.log");
    let port = procs::free_port()?;
    let stderr = dir.join("proxy-valgrind.stderr.log");
    let mut cmd = Command::new("valgrind");
    proxies::clean(&mut cmd)
        .args(lackey_args(&log))
        .arg(bin)
        .args(["--proxy", "--listen", &format!("127.0.0.1:{port}")])
        .env("INFISICAL_HOST_URL", vault.base_url())
        .env("CF_ACCESS_CLIENT_ID", DEMO_CF_CLIENT_ID)
        .env("CF_ACCESS_CLIENT_SECRET", DEMO_CF_CLIENT_SECRET)
        .env("INFISICAL_USER_AGENT", proxies::PROXY_USER_AGENT)
        .stderr(proxies::log_file(&stderr)?);
    let child = cmd.spawn().context("spawn valgrind (is it installed?)")?;
    let running = proxies::started("proxy under valgrind", port, child, false, &stderr)?;
    let base = image_base(running.pid(), bin)?;
    let token = vault.issue_token(DEMO_CLIENT_ID);
    let target = load::Target {
        name: running.name.clone(),
        base: running.base(),
        headers: vec![("authorization".into(), format!("Bearer {token}"))],
    };
    let path = crate::proxy_read_path();
    for conns in [1, 4] {
        tokio::time::timeout(
            Duration::from_secs(300),
            load::run(&target, &path, conns, TRACED_CALLS * 4 / conns, 1),
        )
        .await
        .context("proxy under valgrind timed out")??;
    }
    running.stop();
    Ok((log, base))
}

/// Traces both modes and writes the linker script to `out`.
pub async fn generate(bin: &Path, map: &Path, vault: &RunningVault, dir: &Path, out: &Path) -> Result<()> {
    let map_text = std::fs::read_to_string(map).with_context(|| {
        format!(
            "read {} (build with INFISICAL_MCP_LINK_MAP set: bench/hot-text does)",
            map.display()
        )
    })?;
    let sections = code_sections(&map_text);
    if sections.is_empty() {
        bail!(
            "{} lists no .text.* input sections: not an LLD map?",
            map.display()
        );
    }
    vault.set_gate(infisical_fakevault::demo_gate());
    let mut taken = HashSet::new();
    let mut groups = Vec::new();
    for (what, traced) in [
        ("the stdio server (serve)", trace_mcp(bin, vault, dir).await?),
        ("what --proxy adds", trace_proxy(bin, vault, dir).await?),
    ] {
        let (log, base) = traced;
        let found = sections_in_order(superblocks(&log, base)?.into_iter(), &sections, &mut taken);
        println!("hot-text: {what}: {} functions", found.len());
        groups.push((what, found));
    }
    std::fs::write(out, linker_script(&groups)).with_context(|| format!("write {}", out.display()))?;
    println!("hot-text: wrote {}", out.display());
    Ok(())
}

/// The script: each section by its exact name first (a build from the same
/// sources, lockfile and toolchain names them alike, so the hot code is one
/// run), then the same functions as patterns without hashes, for builds
/// whose hashes differ (another rustc, changed dependencies). What the
/// exact names already placed, the patterns do not move.
fn linker_script(groups: &[(&str, Vec<String>)]) -> String {
    let mut s = String::from(
        "/* Generated by bench/hot-text; do not edit (bench/README.md, \"Hot text\").\n\
         * The functions a serving process runs, in order of first use, placed\n\
         * together before the rest of the code so that the pages the kernel maps\n\
         * around them are mostly pages that run. Used by build.rs for optimised\n\
         * Linux builds; a name or pattern that matches nothing is harmless. */\n\
         SECTIONS\n{\n  .text.hot :\n  {\n",
    );
    for (what, sections) in groups {
        let _ = writeln!(s, "    /* {what} */");
        for name in sections {
            let _ = writeln!(s, "    *({name})");
        }
    }
    let mut patterns = HashSet::new();
    for (what, sections) in groups {
        let _ = writeln!(s, "    /* {what}, in builds named differently */");
        for p in sections.iter().map(|name| pattern(name)) {
            if patterns.insert(p.clone()) {
                let _ = writeln!(s, "    *(.text.{p} .text.unlikely.{p})");
            }
        }
    }
    s.push_str("  }\n}\nINSERT BEFORE .text;\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_drop_build_specific_hashes() {
        assert_eq!(
            pattern(".text._ZN5tokio7runtime4task3raw4poll17h0123456789abcdefE"),
            "_ZN5tokio7runtime4task3raw4poll17h*"
        );
        assert_eq!(
            pattern(".text.unlikely._ZN5alloc7raw_vec11finish_grow17hfedcba9876543210E"),
            "_ZN5alloc7raw_vec11finish_grow17h*"
        );
        assert_eq!(
            pattern(".text._RNvNtNtCsjrHSEGnQ3l9_3std6thread7current12init_current"),
            "_RNvNtNtCs*_3std6thread7current12init_current"
        );
        // Not a hash: fewer than 16 digits, or not at the end.
        assert_eq!(pattern(".text._ZN3foo17habcE"), "_ZN3foo17habcE");
        assert_eq!(pattern(".text.main"), "main");
        // Only v0 names (`_R…`) have disambiguators.
        assert_eq!(
            pattern(".text._ZN3csv9CsvReader11read_record"),
            "_ZN3csv9CsvReader11read_record"
        );
    }

    #[test]
    fn lld_map_lines_become_sections_and_addresses_find_them() {
        let map = "             VMA              LMA     Size Align Out     In      Symbol\n\
                   2357c0           2357c0   78b978    64 .text\n\
                   2357c0           2357c0       40    16         /tmp/x.o:(.text._ZN1a1f17h0123456789abcdefE)\n\
                   2357c0           2357c0        0     1                 _ZN1a1f17h0123456789abcdefE\n\
                   235800           235800       20    16         /tmp/x.o:(.text.unlikely._ZN1a1g17h0123456789abcdefE)\n\
                   235840           235840       10    16         /tmp/x.o:(.rodata.x)\n";
        let sections = code_sections(map);
        assert_eq!(sections.len(), 2);
        let mut taken = HashSet::new();
        let found = sections_in_order(
            [0x235810, 0x2357c8, 0x235800, 0x9999999].into_iter(),
            &sections,
            &mut taken,
        );
        assert_eq!(
            found,
            vec![
                ".text.unlikely._ZN1a1g17h0123456789abcdefE",
                ".text._ZN1a1f17h0123456789abcdefE"
            ]
        );
        // A later group does not repeat what an earlier one took.
        assert!(sections_in_order([0x2357c0].into_iter(), &sections, &mut taken).is_empty());
        let script = linker_script(&[("serve", found)]);
        assert!(script.contains("    *(.text.unlikely._ZN1a1g17h0123456789abcdefE)\n"));
        assert!(script.contains("    *(.text._ZN1a1g17h* .text.unlikely._ZN1a1g17h*)\n"));
        assert!(script.ends_with("INSERT BEFORE .text;\n"));
    }
}
