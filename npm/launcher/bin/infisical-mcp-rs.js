#!/usr/bin/env node
// Runs the native infisical-mcp-rs binary that npm installed beside this
// package: one optional dependency per platform, of which npm keeps only the
// one whose os/cpu match. Nothing is downloaded here or at install time.
//
// The child inherits stdin, stdout and stderr (an MCP client's JSON-RPC
// passes through untouched: this process never reads or writes them), the
// signals a client or terminal sends are passed on, and the child's exit
// code, or the signal that ended it, becomes this process's own.
"use strict";

const { spawn } = require("node:child_process");
const os = require("node:os");
const path = require("node:path");

const PLATFORMS = require("../platforms.json");
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

function fail(message) {
  process.stderr.write(`infisical-mcp-rs (npm launcher): ${message}\n`);
  process.exit(1);
}

function binaryPath() {
  const key = `${process.platform}-${process.arch}`;
  const entry = PLATFORMS[key];
  if (!entry) {
    fail(
      `no prebuilt binary for ${key} (built for: ${Object.keys(PLATFORMS).join(", ")}); ` +
        "build it from source instead: cargo install infisical-mcp-rs",
    );
  }
  let manifest;
  try {
    manifest = require.resolve(`${entry.package}/package.json`);
  } catch {
    fail(
      `${entry.package}, the package that holds the ${entry.label} binary, is not installed. ` +
        "npm leaves optional dependencies out under --omit=optional (or --no-optional); " +
        "install again without it, or use a release binary or cargo install (see the README).",
    );
  }
  return path.join(path.dirname(manifest), "bin", "infisical-mcp-rs");
}

function main() {
  const binary = binaryPath();
  const child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });

  // The child is usually in our process group and gets terminal signals
  // itself; a signal sent to this pid alone (an MCP client stopping its
  // server) would otherwise leave it running.
  for (const signal of FORWARDED) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }

  child.on("error", (err) => fail(`cannot run ${binary}: ${err.message}`));
  child.on("exit", (code, signal) => {
    if (signal) {
      // End the same way, so the caller sees the signal, not an exit code.
      for (const s of FORWARDED) process.removeAllListeners(s);
      process.kill(process.pid, signal);
      // Signals whose default action does not terminate (or that Node
      // ignores, like SIGPIPE): the shell's convention instead.
      process.exit(128 + (os.constants.signals[signal] || 0));
    }
    process.exit(code === null ? 1 : code);
  });
}

main();
