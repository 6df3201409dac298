"""An independent MCP client: the official Python SDK (`mcp`), which checks
structuredContent against each tool's outputSchema. Drives
`infisical-mcp-rs demo` and exits non-zero on any surprise."""
import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters, stdio_client


def fail(msg: str) -> None:
    print(f"python client: {msg}", file=sys.stderr)
    sys.exit(1)


async def main(binary: str) -> None:
    params = StdioServerParameters(command=binary, args=["demo"])
    with open("/dev/null", "w") as devnull:
        async with stdio_client(params, errlog=devnull) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = (await session.list_tools()).tools
                names = [t.name for t in tools]
                if names != ["get-secret", "list-secrets", "list-folders"]:
                    fail(f"tools: {names}")
                for tool in tools:
                    a = tool.annotations
                    if not (a and a.read_only_hint is True and a.destructive_hint is False
                            and a.idempotent_hint is True and a.open_world_hint is False):
                        fail(f"annotations of {tool.name}: {a}")
                checked = []
                for name, args in [
                    ("list-folders", {"recursive": True}),
                    ("list-secrets", {"secretPath": "/agents/warden"}),
                    ("get-secret", {"secretName": "WARDEN_API_TOKEN", "secretPath": "/agents/warden"}),
                ]:
                    result = await session.call_tool(name, args)
                    if result.is_error or result.structured_content is None:
                        fail(f"{name}: {result}")
                    checked.append(name)
                got = await session.call_tool("get-secret", {"secretName": "WARDEN_API_TOKEN", "secretPath": "/agents/warden"})
                if got.structured_content.get("secretValue") != "warden-FAKE-api-token-4Rt7":
                    fail("get-secret returned the wrong value")
                # What a model reads when a client hands it structuredContent alone.
                paged = await session.call_tool("list-secrets", {"secretPath": "/agents/warden", "recursive": True, "limit": 2})
                page = paged.structured_content or {}
                if page.get("nextOffset") != 2 or "offset=2" not in page.get("note", ""):
                    fail(f"paging guidance: {page}")
                folders = (await session.call_tool("list-folders", {})).structured_content or {}
                if folders["folders"][0].get("access") != "leads-into-scope":
                    fail(f"folder guidance: {folders}")
                checked.append("structured-guidance")
                refused = await session.call_tool("list-secrets", {"environmentSlug": "staging", "secretPath": "/"})
                if not refused.is_error or "out of scope" not in refused.content[0].text:
                    fail(f"scope refusal: {refused}")
                if (refused.structured_content or {}).get("error", {}).get("kind") != "out_of_scope":
                    fail(f"structured error: {refused.structured_content}")
                checked.append("scope-refusal")
                print(json.dumps({"ok": True, "checked": checked}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
