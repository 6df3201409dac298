#!/usr/bin/env node
// How Infisical (JavaScript: Fastify, zod) reads the text a client sends it,
// done by Node itself rather than re-implemented: the query string decoded by
// both of Node's own parsers (`URLSearchParams` and `node:querystring`, which
// Fastify's default parser follows), each value through `String.prototype.trim`
// as zod's `z.string().trim()` does, then Infisical's `removeTrailingSlash`
// (and, on the folder routes, `prefixWithSlash`); the secret-name route
// segment through the WHATWG URL parser and `decodeURIComponent`, as the
// router decodes a parameter.
//
// Reads one JSON object on stdin:
//   {"queries": ["raw query", ...], "paths": ["/raw/path/as/sent", ...]}
// and writes one JSON object on stdout:
//   {"node", "unicode", "trimmed": [code points trim removes],
//    "format": [code points of general category Cf],
//    "queries": [{"agree", "repeated", "environment", "secretPath",
//                 "folderPath", "importPath"}],
//    "paths": [{"segments": [...decoded], "name": decoded last segment}]}
// A field the request does not carry is null. No dependencies.
'use strict';

const querystring = require('node:querystring');

/** Infisical's `removeTrailingSlash` (backend/src/lib/fn/string.ts). */
function removeTrailingSlash(str) {
  if (str === '/') return str;
  return str.endsWith('/') ? str.slice(0, -1) : str;
}

/** Infisical's `prefixWithSlash`, used by the folder routes only. */
function prefixWithSlash(str) {
  return str.startsWith('/') ? str : `/${str}`;
}

/** Every value of every key, as `URLSearchParams` decodes them. */
function byUrlSearchParams(raw) {
  const out = Object.create(null);
  for (const [k, v] of new URLSearchParams(raw)) {
    (out[k] ??= []).push(v);
  }
  return out;
}

/** The same shape from `node:querystring`. */
function byQuerystring(raw) {
  const parsed = querystring.parse(raw);
  const out = Object.create(null);
  for (const k of Object.keys(parsed)) {
    const v = parsed[k];
    out[k] = Array.isArray(v) ? v : [v];
  }
  return out;
}

function sameParse(a, b) {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k, i) =>
      k === kb[i] && a[k].length === b[k].length && a[k].every((v, j) => v === b[k][j]),
  );
}

/** What the vault's zod schema makes of one query. */
function readQuery(raw) {
  const usp = byUrlSearchParams(raw);
  const qs = byQuerystring(raw);
  const repeated = Object.keys(usp).filter((k) => usp[k].length > 1);
  // A repeated key is an array to zod's `z.string()`: refused (422) by the vault.
  const one = (k) => (usp[k] === undefined || usp[k].length !== 1 ? null : usp[k][0]);
  const trimmed = (k, dflt) => {
    const v = one(k);
    return v === null ? dflt : v.trim();
  };
  const secretPath = trimmed('secretPath', '/');
  const folder = trimmed('path', null) ?? trimmed('directory', '/');
  const importPath = trimmed('path', '/');
  return {
    agree: sameParse(usp, qs),
    repeated,
    environment: trimmed('environment', null),
    secretPath: removeTrailingSlash(secretPath),
    folderPath: removeTrailingSlash(prefixWithSlash(folder)),
    importPath: removeTrailingSlash(importPath),
  };
}

/** The path as a WHATWG URL parser normalises it, segments decoded, and
 * the last one trimmed as zod trims the `secretName` parameter. */
function readPath(raw) {
  const url = new URL(raw, 'http://vault.invalid');
  const rawSegments = url.pathname.split('/').slice(1);
  // Infisical's Fastify runs with `ignoreTrailingSlash`: one is dropped.
  if (rawSegments.length > 1 && rawSegments[rawSegments.length - 1] === '') rawSegments.pop();
  const segments = rawSegments.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return null;
    }
  });
  const last = segments.length ? segments[segments.length - 1] : null;
  return { segments, name: last === null ? null : last.trim() };
}

/** The code points in [0, 0x10FFFF] (surrogates left out) `test` accepts. */
function codePoints(test) {
  const out = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    if (test(String.fromCodePoint(cp))) out.push(cp);
  }
  return out;
}

function main(input) {
  const req = JSON.parse(input);
  const cf = /^\p{Cf}$/u;
  return {
    node: process.version,
    unicode: process.versions.unicode ?? null,
    trimmed: codePoints((s) => s.trim() === ''),
    format: codePoints((s) => cf.test(s)),
    queries: (req.queries ?? []).map(readQuery),
    paths: (req.paths ?? []).map(readPath),
  };
}

const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify(main(Buffer.concat(chunks).toString('utf8'))));
});
