"""A minimal AWS Lambda Runtime API (2018-06-01) for benchmarks: hands one queued event at a time
to a `bootstrap` process and records when its answer comes back. Loopback only.

It serves exactly the calls the Rust runtime makes: GET .../invocation/next, POST
.../invocation/{id}/response, POST .../invocation/{id}/error and POST .../init/error."""

import json
import queue
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RuntimeApi:
    def __init__(self):
        self.events: "queue.Queue[tuple[str, bytes]]" = queue.Queue()
        self.responses: "dict[str, queue.Queue]" = {}
        self.first_next_at = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    return self._send(404, b"{}")
                if api.first_next_at is None:
                    api.first_next_at = time.perf_counter()
                request_id, body = api.events.get()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.send_header("lambda-runtime-aws-request-id", request_id)
                self.send_header("lambda-runtime-deadline-ms", str(int(time.time() * 1000) + 15000))
                self.send_header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:eu-west-1:123456789012:function:bench")
                self.send_header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                parts = self.path.split("/")
                if "invocation" in parts and parts[-1] in ("response", "error"):
                    request_id = parts[-2]
                    api.responses.setdefault(request_id, queue.Queue()).put((parts[-1], body, time.perf_counter()))
                elif self.path.endswith("/init/error"):
                    api.responses.setdefault("init", queue.Queue()).put(("error", body, time.perf_counter()))
                self._send(202, b"{}")

            def _send(self, code, body):
                try:
                    self.send_response(code)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the benchmark killed the bootstrap right after its answer

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a bootstrap killed during its long poll for the next event

        self.server = Server(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, event: dict, timeout: float = 30.0):
        """Queues an event and waits for its answer: (kind, parsed body, perf_counter when answered)."""
        request_id = str(uuid.uuid4())
        self.responses[request_id] = queue.Queue()
        self.events.put((request_id, json.dumps(event).encode()))
        kind, body, at = self.responses[request_id].get(timeout=timeout)
        return kind, json.loads(body or b"null"), at

    def close(self):
        self.server.shutdown()
