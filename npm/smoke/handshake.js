#!/usr/bin/env node
// An MCP client in a few lines, for the npm smoke test: starts the command
// given after `--`, sends initialize, notifications/initialized and
// tools/list on its stdin, checks the answers, closes stdin and expects a
// clean exit. Exits non-zero, saying why, on anything else (or after 30 s).
//
//   node npm/smoke/handshake.js -- npx infisical-mcp-rs demo
"use strict";

const { spawn } = require("node:child_process");
const readline = require("node:readline");

const argv = process.argv.slice(2);
const sep = argv.indexOf("--");
const [command, ...args] = sep === -1 ? argv : argv.slice(sep + 1);
if (!command) {
  process.stderr.write("usage: handshake.js -- COMMAND [ARGS...]\n");
  process.exit(2);
}

const EXPECTED_TOOLS = ["get-secret", "list-folders", "list-secrets"];
const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
const timer = setTimeout(() => fail("no complete answer within 30 s"), 30_000);
let done = false;

function fail(message) {
  process.stderr.write(`handshake: ${message}\n`);
  child.kill("SIGKILL");
  process.exit(1);
}

function send(message) {
  child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`);
}

const lines = readline.createInterface({ input: child.stdout });
lines.on("line", (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    fail(`stdout carried a line that is not JSON-RPC: ${line.slice(0, 200)}`);
  }
  if (msg.id === 1) {
    const info = msg.result && msg.result.serverInfo;
    if (!info || info.name !== "infisical-mcp-rs") fail(`unexpected initialize answer: ${line.slice(0, 300)}`);
    process.stdout.write(`initialize: ${info.name} ${info.version}, protocol ${msg.result.protocolVersion}\n`);
    send({ method: "notifications/initialized" });
    send({ id: 2, method: "tools/list" });
  } else if (msg.id === 2) {
    const names = ((msg.result && msg.result.tools) || []).map((t) => t.name).sort();
    if (JSON.stringify(names) !== JSON.stringify(EXPECTED_TOOLS)) fail(`tools/list gave ${JSON.stringify(names)}`);
    process.stdout.write(`tools/list: ${names.join(", ")}\n`);
    done = true;
    child.stdin.end();
  }
});

child.on("error", (err) => fail(`cannot start ${command}: ${err.message}`));
child.on("exit", (code, signal) => {
  clearTimeout(timer);
  if (!done) fail(`${command} ended (code ${code}, signal ${signal}) before answering tools/list`);
  if (code !== 0) fail(`${command} exited with ${code === null ? signal : code} after stdin closed`);
  process.stdout.write("closed stdin: clean exit\n");
});

send({
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "npm-smoke", version: "0" } },
});
