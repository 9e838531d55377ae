"""A team's REST API for the gateway tests: answers every call with what it was
given, in Marketo's envelope, so that a test sees what reached the upstream.

    python3 upstream.py PORT_FILE

Listens on 127.0.0.1, a free port, written to PORT_FILE once listening; every call's
"METHOD TARGET" is appended to PORT_FILE.log. Each answer:
{"requestId": ..., "success": true, "result": [{"method", "target", "headers": {...}}]}
with the request's headers in lower case. A path ending in /slow.json waits for the
query's ms= milliseconds first (at most 5000), so that a call is in flight a while.
Keep-alive (HTTP/1.1), one thread per connection; stops on SIGTERM.
"""
import json
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        with open(LOG, "a") as f:
            f.write(f"{self.command} {self.path}\n")
        parts = urlsplit(self.path)
        if parts.path.endswith("/slow.json"):
            ms = int((parse_qs(parts.query).get("ms") or ["0"])[0])
            time.sleep(min(ms, 5000) / 1000)
        seen = {
            "method": self.command,
            "target": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body,
        }
        out = json.dumps({"requestId": "up#1", "success": True, "result": [seen]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = answer

    def log_message(self, *args):
        pass


LOG = ""


def main():
    global LOG
    LOG = sys.argv[1] + ".log"
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
