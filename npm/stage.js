#!/usr/bin/env node
// Stages the npm packages from the templates beside this file, ready for
// `npm pack` or `npm publish`:
//
//   node npm/stage.js platform --platform linux-x64 --binary PATH --out DIR
//   node npm/stage.js launcher --out DIR
//
// The version (and the repository URL) come from the root Cargo.toml unless
// --version is given, so the npm packages always carry the crate's version
// and the launcher's optional dependencies pin its platform packages to
// exactly that version. Platform keys are `${process.platform}-${process.arch}`
// as listed in launcher/platforms.json.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const HERE = __dirname;
const ROOT = path.dirname(HERE);
const PLATFORMS = require("./launcher/platforms.json");
const LICENSES = ["LICENSE-MIT", "LICENSE-APACHE"];

function die(message) {
  process.stderr.write(`stage.js: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const [kind, ...rest] = argv;
  const opts = {};
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i];
    if (!flag.startsWith("--") || rest[i + 1] === undefined) die(`expected --flag VALUE, got '${flag}'`);
    opts[flag.slice(2)] = rest[i + 1];
  }
  return { kind, opts };
}

// A `key = "value"` line of one [section] of the root Cargo.toml.
function cargoField(section, key) {
  const text = fs.readFileSync(path.join(ROOT, "Cargo.toml"), "utf8");
  let current = null;
  for (const line of text.split("\n")) {
    const header = line.match(/^\s*\[([^\]]+)\]\s*$/);
    if (header) {
      current = header[1].trim();
      continue;
    }
    const field = line.match(/^\s*([A-Za-z0-9_-]+)\s*=\s*"([^"]*)"/);
    if (current === section && field && field[1] === key) return field[2];
  }
  return null;
}

function common(opts) {
  const version = opts.version || cargoField("package", "version");
  if (!version || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
    die(`no usable version (${version}); pass --version X.Y.Z`);
  }
  if (!opts.out) die("--out DIR is required");
  const repository = cargoField("workspace.package", "repository");
  return { version, repository, out: path.resolve(opts.out) };
}

function fill(text, values) {
  return text.replace(/@([A-Z]+)@/g, (whole, key) => (key in values ? values[key] : whole));
}

function writeManifest(dir, manifest, repository) {
  if (repository) manifest.repository = { type: "git", url: `git+${repository}.git` };
  fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

function fresh(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
  for (const file of LICENSES) fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
}

function stagePlatform(opts) {
  const { version, repository, out } = common(opts);
  const entry = PLATFORMS[opts.platform];
  if (!entry) die(`--platform must be one of ${Object.keys(PLATFORMS).join(", ")}`);
  if (!opts.binary) die("--binary PATH (the built infisical-mcp-rs) is required");
  const binary = path.resolve(opts.binary);
  if (!fs.statSync(binary, { throwIfNoEntry: false })?.isFile()) die(`${binary} is not a file`);

  const values = { NAME: entry.package, LABEL: entry.label, OS: entry.os, CPU: entry.cpu, TARGET: entry.target };
  fresh(out);
  const manifest = JSON.parse(fill(fs.readFileSync(path.join(HERE, "platform", "package.json"), "utf8"), values));
  manifest.version = version;
  writeManifest(out, manifest, repository);
  fs.writeFileSync(path.join(out, "README.md"), fill(fs.readFileSync(path.join(HERE, "platform", "README.md"), "utf8"), values));
  const target = path.join(out, "bin", "infisical-mcp-rs");
  fs.copyFileSync(binary, target);
  // npm keeps the mode it packs; the launcher runs this file directly.
  fs.chmodSync(target, 0o755);
  process.stdout.write(`${out}\n`);
}

function stageLauncher(opts) {
  const { version, repository, out } = common(opts);
  fresh(out);
  const manifest = JSON.parse(fs.readFileSync(path.join(HERE, "launcher", "package.json"), "utf8"));
  manifest.version = version;
  manifest.optionalDependencies = Object.fromEntries(Object.values(PLATFORMS).map((p) => [p.package, version]));
  writeManifest(out, manifest, repository);
  fs.writeFileSync(path.join(out, "README.md"), fill(fs.readFileSync(path.join(HERE, "launcher", "README.md"), "utf8"), { VERSION: version }));
  fs.copyFileSync(path.join(HERE, "launcher", "platforms.json"), path.join(out, "platforms.json"));
  const launcher = path.join(out, "bin", "infisical-mcp-rs.js");
  fs.copyFileSync(path.join(HERE, "launcher", "bin", "infisical-mcp-rs.js"), launcher);
  fs.chmodSync(launcher, 0o755);
  process.stdout.write(`${out}\n`);
}

const { kind, opts } = parseArgs(process.argv.slice(2));
if (kind === "platform") stagePlatform(opts);
else if (kind === "launcher") stageLauncher(opts);
else die("usage: stage.js platform --platform KEY --binary PATH --out DIR | stage.js launcher --out DIR [--version X.Y.Z]");
