#!/usr/bin/env python3
"""A minimal Cloudflare Access header-injecting reverse proxy, stdlib only.

The benchmark's stand-in for the seed runbook's tools/vault-proxy/proxy.py
(docs/runbook-modes.md): http.server in front, http.client to the vault, and on
every request it sets CF-Access-Client-Id, CF-Access-Client-Secret, Host (the
upstream's) and User-Agent. Written for bench/ only; not a production proxy.

Three choices favour it over the most naive version, so the comparison is
not a straw man: the front end speaks HTTP/1.1 keep-alive (http.server's
default is HTTP/1.0, one connection per request) with TCP_NODELAY (without it
every keep-alive request waits ~40 ms for a delayed ACK), and the listen
backlog is 128 (the default is 5). Like urllib, it opens one upstream connection per
request, and like http.server, it logs one line per request to stderr.

Environment: VAULT_UPSTREAM (http(s)://host[:port]), VAULT_PROXY_PORT (2019),
CF_ACCESS_CLIENT_ID, CF_ACCESS_CLIENT_SECRET.
"""

import http.client
import os
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = urllib.parse.urlsplit(os.environ.get("VAULT_UPSTREAM", "https://vault.raxx.app"))
PORT = int(os.environ.get("VAULT_PROXY_PORT", "2019"))
INJECTED = {
    "Host": UPSTREAM.netloc,
    "User-Agent": "raxx-vault-proxy/1.0",
    "CF-Access-Client-Id": os.environ["CF_ACCESS_CLIENT_ID"],
    "CF-Access-Client-Secret": os.environ["CF_ACCESS_CLIENT_SECRET"],
}
# Hop-by-hop headers, and the ones the proxy sets itself.
DROP = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
    "trailer", "upgrade", "host", "user-agent", "content-length",
}
DROP_ANSWER = DROP | {"date", "server"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # http.server writes the head and the body in two sends: with Nagle on,
    # a keep-alive client waits out its delayed ACK (~40 ms) on every request.
    disable_nagle_algorithm = True

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            k: v for k, v in self.headers.items()
            if k.lower() not in DROP and not k.lower().startswith("cf-")
        }
        headers.update(INJECTED)
        if body is not None:
            headers["Content-Length"] = str(len(body))
        cls = http.client.HTTPSConnection if UPSTREAM.scheme == "https" else http.client.HTTPConnection
        conn = cls(UPSTREAM.hostname, UPSTREAM.port, timeout=30)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
        except OSError as e:
            self.send_error(502, "upstream unreachable: %s" % e.__class__.__name__)
            return
        finally:
            conn.close()
        self.send_response(answer.status, answer.reason)
        for k, v in answer.getheaders():
            if k.lower() not in DROP_ANSWER:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = forward


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


if __name__ == "__main__":
    Server(("127.0.0.1", PORT), Handler).serve_forever()
