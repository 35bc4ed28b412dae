"""
The application backend the proxy tests run against: a real HTTP server on Debian's python3,
standard library only (http.server). It answers each Switchboard proxy hook as docs/proxy.md
describes, choosing its answer from the token, the channel or the event, and keeps what it was
sent so that a test can check what reached it (GET /calls) and how many calls it had at once
(GET /stats). It prints {"port": N} once it listens.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
calls = []
active = {"now": 0, "max": 0}


def connect(body):
    token = body.get("token")
    cookie = body.get("cookies", {}).get("session")
    if token == "alice" or cookie == "alice-cookie":
        return {"result": {"user": "alice", "data": {"name": "Alice"}, "channels": ["news:alice"]}}
    if token == "short":
        return {"result": {"user": "carol", "expiresAt": time.time() + 2}}
    if token == "bob":
        return {"result": {"user": "bob"}}
    if token == "banned":
        return {"disconnect": {"code": 4003, "reason": "banned"}}
    if token == "not-yours":
        return {"error": {"code": "forbidden", "message": "not yours"}}
    if token == "bad-channel":
        return {"result": {"user": "dave", "channels": ["no spaces allowed"]}}
    if token and token.startswith("malformed"):
        return {"result": {"user": 5}}
    if token == "hang":
        time.sleep(30)
    return {"error": {"code": "unauthorized"}}


def refresh(body):
    if body.get("token") == "fresh":
        return {"result": {"expiresAt": time.time() + 60, "data": {"refreshed": True}}}
    if body.get("token") == "ban-me":
        return {"disconnect": {"code": 4003, "reason": "banned on refresh"}}
    return {"error": {"code": "unauthorized", "message": "stale token"}}


def subscribe(body):
    channel = body["channel"]
    if channel.startswith("room:"):
        return {"result": {"info": {"name": body.get("user"), "seat": 7}}}
    if channel.startswith("secret:"):
        if body.get("user") == "alice":
            return {"result": {}}
        return {"error": {"code": "forbidden", "message": "only alice"}}
    if channel.startswith("junk:"):
        return {"allow": True}
    return {"result": {}}


def publish(body):
    text = body["data"].get("text") if isinstance(body["data"], dict) else None
    if text == "forbidden":
        return {"error": {"code": "forbidden", "message": "not that"}}
    if text == "break the schema":
        return {"result": {"data": {"text": 42}}}
    if isinstance(text, str) and text.startswith("shout "):
        return {"result": {"data": {"text": text[6:].upper(), "by": body.get("user")}}}
    return {"result": {}}


def rpc(body):
    event, data = body["event"], body.get("data")
    if event == "math.add":
        return {"result": {"data": {"sum": data["a"] + data["b"], "user": body.get("user")}}}
    if event == "math.bytes":
        return {"result": {"data": {"$bin": "AAEC/w=="}}}
    if event == "math.missing":
        return {"error": {"code": "not_found", "message": "no such thing", "details": {"id": data}}}
    return {"result": "not an object"}


def slow(body):
    with lock:
        active["now"] += 1
        active["max"] = max(active["max"], active["now"])
    time.sleep(0.3)
    with lock:
        active["now"] -= 1
    return {"result": {}}


def hang(body):
    time.sleep(30)
    return {"result": {}}


ROUTES = {"/connect": connect, "/refresh": refresh, "/subscribe": subscribe, "/publish": publish,
          "/rpc": rpc, "/slow": slow, "/hang": hang}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, text):
        raw = text.encode()
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        with lock:
            if self.path == "/calls":
                return self.reply(200, json.dumps(calls))
            if self.path == "/stats":
                return self.reply(200, json.dumps(active))
        self.reply(404, "{}")

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        with lock:
            calls.append({"path": self.path, "body": body, "secret": self.headers.get("x-backend-secret")})
        if self.path == "/not-json":
            return self.reply(200, "<html>oops</html>")
        if self.path == "/error500":
            return self.reply(500, "{}")
        route = ROUTES.get(self.path)
        if route is None:
            return self.reply(404, "{}")
        self.reply(200, json.dumps(route(body)))


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(json.dumps({"port": server.server_address[1]}), flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
