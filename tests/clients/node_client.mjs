// An independent MCP client: the official TypeScript SDK, which validates
// every structuredContent against the tool's outputSchema (ajv). Drives
// `infisical-mcp-rs demo` and exits non-zero on any surprise.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const bin = process.argv[2];
const fail = (msg) => { console.error(`node client: ${msg}`); process.exit(1); };

const transport = new StdioClientTransport({ command: bin, args: ["demo"], stderr: "ignore" });
const client = new Client({ name: "sdk-check", version: "1.0.0" });
await client.connect(transport);

const { tools } = await client.listTools();
const names = tools.map((t) => t.name).join(",");
if (names !== "get-secret,list-secrets,list-folders") fail(`tools: ${names}`);
for (const t of tools) {
  const a = t.annotations ?? {};
  if (!(a.readOnlyHint === true && a.destructiveHint === false && a.idempotentHint === true && a.openWorldHint === false)) {
    fail(`annotations of ${t.name}: ${JSON.stringify(a)}`);
  }
  if (!t.outputSchema) fail(`${t.name} has no outputSchema`);
}

const calls = [
  ["list-folders", { recursive: true }],
  ["list-secrets", { secretPath: "/agents/warden", recursive: true }],
  ["get-secret", { secretName: "WARDEN_API_TOKEN", secretPath: "/agents/warden" }],
  ["list-secrets", { environmentSlug: "prod", secretPath: "/MooseQuest", recursive: true, limit: 3 }],
];
const summary = [];
for (const [name, args] of calls) {
  // callTool throws when structuredContent does not match the outputSchema.
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) fail(`${name} failed: ${JSON.stringify(result.content)}`);
  if (!result.structuredContent) fail(`${name} has no structuredContent`);
  summary.push(name);
}
// What a model reads when a client hands it structuredContent alone.
const paged = await client.callTool({ name: "list-secrets", arguments: { secretPath: "/agents/warden", recursive: true, limit: 2 } });
const page = paged.structuredContent;
if (page.nextOffset !== 2 || !page.note.includes("offset=2") || !page.scopeNote.includes("dev:/agents/warden/**")) {
  fail(`paging guidance: ${JSON.stringify(page)}`);
}
const folders = (await client.callTool({ name: "list-folders", arguments: {} })).structuredContent;
if (folders.folders[0]?.access !== "leads-into-scope" || !folders.note.includes("leads-into-scope")) {
  fail(`folder guidance: ${JSON.stringify(folders)}`);
}
summary.push("structured-guidance");
// callTool validates an error's structuredContent against the outputSchema too.
const refused = await client.callTool({
  name: "get-secret",
  arguments: { secretName: "X", environmentSlug: "dev", secretPath: "/MooseQuest" },
});
if (!refused.isError || !refused.content[0].text.includes("out of scope")) fail(`scope refusal: ${JSON.stringify(refused)}`);
if (refused.structuredContent?.error?.kind !== "out_of_scope" || !refused.structuredContent.error.hint) {
  fail(`structured error: ${JSON.stringify(refused.structuredContent)}`);
}
summary.push("scope-refusal");
try {
  await client.callTool({ name: "delete-secret", arguments: {} });
  fail("an unknown tool did not raise a protocol error");
} catch (e) {
  if (!String(e.message).includes("unknown tool")) fail(`unknown tool error: ${e.message}`);
}
summary.push("unknown-tool");
await client.close();
console.log(JSON.stringify({ ok: true, checked: summary }));
