"""
A webhook receiver for the webhook tests: a real HTTP server on Debian's python3, standard
library only, checking each request as docs/webhooks.md tells a receiver to — the
Switchboard-Signature header is HMAC-SHA256 over "<t>.<raw body>" with the shared secret, and t
is recent. It keeps every request it was sent (GET /received) and answers 200, or 503 while told
to fail (POST /fail with {"fail": true|false}). Run as: webhook_receiver.py SECRET; it prints
{"port": N} once it listens on 127.0.0.1.
"""
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = sys.argv[1].encode()
lock = threading.Lock()
received = []
state = {"fail": False}


def signature_ok(header, body):
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        t = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(time.time() - t) > 300:
        return False
    expected = hmac.new(SECRET, str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, value=None):
        body = json.dumps(value if value is not None else {}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with lock:
            self.answer(200, received)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path == "/fail":
            state["fail"] = json.loads(body)["fail"]
            return self.answer(200)
        failing = state["fail"]
        with lock:
            received.append({
                "event": json.loads(body),
                "signed": signature_ok(self.headers.get("switchboard-signature", ""), body),
                "type": self.headers.get("switchboard-event"),
                "id": self.headers.get("switchboard-event-id"),
                "attempt": int(self.headers.get("switchboard-attempt", "0")),
                "answered": 503 if failing else 200,
            })
        self.answer(503 if failing else 200)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(json.dumps({"port": server.server_address[1]}), flush=True)
server.serve_forever()
