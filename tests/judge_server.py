"""A minimal OpenAI-compatible server for tests: /v1/models and /v1/chat/completions over any object with
``complete(prompt) -> str``, on 127.0.0.1 only, in a background thread (stdlib http.server)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(judge, model_id: str, version: str = "test-1"):
    """Start the server; returns (base_url, stop). ``stop()`` shuts it down."""
    calls = []

    class Handler(BaseHTTPRequestHandler):
        def _send(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": model_id, "object": "model", "created": 0,
                                                             "owned_by": "tests", "version": version}]})
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != "/v1/chat/completions" or body.get("model") != model_id:
                self._send(404, {"error": "unknown path or model"})
                return
            calls.append(body)
            text = judge.complete(body["messages"][-1]["content"], body.get("max_tokens"))
            self._send(200, {"object": "chat.completion", "model": model_id,
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                          "finish_reason": "stop"}]})

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()

    stop.calls = calls
    return f"http://127.0.0.1:{server.server_address[1]}/v1", stop
