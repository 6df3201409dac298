//! Link-time layout of the shipped binary; nothing here changes what the
//! code does.
//!
//! In optimised builds for Linux the binary is linked with
//! `link/hot-text.ld`, which puts the functions a serving process runs next
//! to each other (bench/README.md, "Hot text"). The kernel maps code in
//! 64 KiB blocks around each page touched, so scattered hot code keeps most
//! of the binary resident: packed, the stdio server's resident code is about
//! half as large. Debug builds skip it (their link would take seconds longer
//! for no gain). `INFISICAL_MCP_HOT_TEXT=0` turns it off;
//! `INFISICAL_MCP_LINK_MAP=PATH` writes the linker's map there, which
//! `bench/hot-text` reads to regenerate the script.
//!
//! Relative relocations are packed (DT_RELR) where the C library applies
//! them: a smaller binary that starts faster.

#![allow(clippy::print_stdout)] // cargo reads a build script's stdout

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=link/hot-text.ld");
    println!("cargo:rerun-if-env-changed=INFISICAL_MCP_HOT_TEXT");
    println!("cargo:rerun-if-env-changed=INFISICAL_MCP_LINK_MAP");

    let var = |name: &str| env::var(name).unwrap_or_default();
    // ELF linkers that take GNU-style scripts with INSERT (LLD, GNU ld).
    let elf_linux = var("CARGO_CFG_TARGET_OS") == "linux";
    let optimised = var("OPT_LEVEL") != "0";
    let wanted = var("INFISICAL_MCP_HOT_TEXT") != "0";
    let script = PathBuf::from(var("CARGO_MANIFEST_DIR")).join("link/hot-text.ld");
    if elf_linux && optimised && wanted && script.is_file() {
        println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
    }
    if elf_linux && var("CARGO_CFG_TARGET_ENV") == "gnu" && host_glibc_reads_relr() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    let map = var("INFISICAL_MCP_LINK_MAP");
    if elf_linux && !map.is_empty() {
        println!("cargo:rustc-link-arg-bins=-Wl,-Map={map}");
    }
}

/// Whether relative relocations can be packed (DT_RELR): glibc 2.36 and
/// later apply them, a list a few KiB long instead of the ~270 KiB table
/// that `ld.so` reads at every start. Asked of the glibc this build runs on,
/// so only when it builds for the machine it runs on; older glibc, or any
/// doubt, keeps the classic table.
fn host_glibc_reads_relr() -> bool {
    if env::var("HOST").ok() != env::var("TARGET").ok() {
        return false;
    }
    let Ok(out) = std::process::Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
    else {
        return false;
    };
    // "glibc 2.36"
    let text = String::from_utf8_lossy(&out.stdout);
    let mut version = text.trim().trim_start_matches("glibc ").split('.');
    let major: u32 = version.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    let minor: u32 = version.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    (major, minor) >= (2, 36)
}
