"""A fault-injection proxy for the compiler's AWS calls: forwards every request to the real local
endpoint, except those a rule matches, which get the answer the rule gives (a 200 with an empty,
non-JSON or empty-object body, or a reset connection). 127.0.0.1 only; stops with the test."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Rule:
    """Requests whose X-Amz-Target ends with ``target`` (JSON protocols) or whose path contains
    ``path`` (REST protocols) get ``answer``: "empty", "html", "{}" or "reset"."""

    answer: str
    target: str = ""
    path: str = ""
    hits: int = 0

    def matches(self, handler: BaseHTTPRequestHandler) -> bool:
        amz = handler.headers.get("X-Amz-Target", "")
        return bool(
            (self.target and amz.endswith(f".{self.target}"))
            or (self.path and self.path in handler.path)
        )


@dataclass
class FaultProxy:
    upstream: str
    rules: list[Rule] = field(default_factory=list)
    url: str = ""


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.body = body  # for rules that look at it
            for rule in proxy.rules:
                if rule.matches(self):
                    rule.hits += 1
                    if rule.answer == "reset":
                        self.connection.close()
                        return
                    payload = {"empty": b"", "html": b"<html>proxy error</html>", "{}": b"{}"}[
                        rule.answer
                    ]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
            request = urllib.request.Request(
                proxy.upstream + self.path,
                data=body if self.command != "GET" else None,
                headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                method=self.command,
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status, headers, data = response.status, response.headers, response.read()
            except urllib.error.HTTPError as error:
                status, headers, data = error.code, error.headers, error.read()
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream.rstrip("/"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy))
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
