"""
An application backend for `switchboard serve` that decides who may connect and who may
subscribe to what, through Switchboard's proxy hooks (docs/proxy.md). Python 3 standard library
only: run it with

    python3 backend.py --port 9000 --secret change-me

and start Switchboard with the proxy pointed at it: `switchboard serve --config
switchboard.yaml` (README.md beside this file has every step).

The decisions, kept deliberately small:

- connect: a session cookie (`sid`) or a bearer token names a user from USERS. A known user is
  let in with their display name as connection data and subscribed at once to their own
  channel `user:<id>`; anyone else is refused (HTTP 401); a banned user is closed with 4003.
- subscribe: `room:*` channels are open to every user, with the user's name as presence info;
  `admin:*` channels only to admins; `user:<id>` only to that user.

Every call must carry the shared secret in `X-Switchboard-Secret` (set as the hook's `headers`
in Switchboard's config), so nothing else on the network can ask this backend for decisions.

It also publishes, the other way round, through Switchboard's HTTP API (docs/http-api.md): given
`--api http://switchboard:8080/api --api-key KEY`, a POST to its own `/app/notify` with
`{"user": "alice", "text": "…"}` (and the same `X-Switchboard-Secret` header) publishes that
text to the user's channel `user:alice`, which every connection of the user is subscribed to —
one HTTP call, from any backend language.
"""
import argparse
import hmac
import json
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# In a real application: your session store and user database.
USERS = {
    "sid-alice": {"id": "alice", "name": "Alice", "admin": True},
    "sid-bob": {"id": "bob", "name": "Bob", "admin": False},
    "sid-mallory": {"id": "mallory", "name": "Mallory", "admin": False, "banned": True},
}


def find_user(body):
    """The user a connection's credentials name: the `sid` cookie, else the bearer token."""
    sid = body.get("cookies", {}).get("sid") or body.get("token")
    return USERS.get(sid)


def on_connect(body):
    user = find_user(body)
    if user is None:
        return {"error": {"code": "unauthorized", "message": "sign in first"}}
    if user.get("banned"):
        return {"disconnect": {"code": 4003, "reason": "banned"}}
    return {
        "result": {
            "user": user["id"],
            "data": {"name": user["name"], "admin": user["admin"]},
            "channels": ["user:" + user["id"]],
        }
    }


def on_subscribe(body):
    user = next((u for u in USERS.values() if u["id"] == body.get("user")), None)
    channel = body["channel"]
    if user is None:
        return {"error": {"code": "forbidden", "message": "unknown user"}}
    if channel.startswith("room:"):
        return {"result": {"info": {"name": user["name"]}}}
    if channel.startswith("admin:") and user["admin"]:
        return {"result": {}}
    if channel == "user:" + user["id"]:
        return {"result": {}}
    return {"error": {"code": "forbidden", "message": "not your channel"}}


def publish(api, key, channel, data):
    """POST /api/publish: the message's position, or Switchboard's error as an exception."""
    request = urllib.request.Request(
        api + "/publish",
        data=json.dumps({"channel": channel, "data": data}).encode(),
        headers={"authorization": "Bearer " + key, "content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        raise RuntimeError(json.loads(err.read())["error"]["message"]) from None


def make_notify(api, key):
    """The app's own endpoint: tell a user something, on every device, through Switchboard."""

    def on_notify(body):
        if api is None:
            return {"error": "no --api given"}
        position = publish(api, key, "user:" + body["user"], {"text": body["text"]})
        return {"published": position}

    return on_notify


ROUTES = {"/switchboard/connect": on_connect, "/switchboard/subscribe": on_subscribe}


def make_handler(secret, api=None, api_key=None):
    routes = dict(ROUTES, **{"/app/notify": make_notify(api, api_key)})

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            # The default log line holds no body or header; keep it short anyway.
            pass

        def answer(self, status, value):
            raw = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self):
            route = routes.get(self.path)
            if route is None:
                return self.answer(404, {"error": "no such hook"})
            given = self.headers.get("x-switchboard-secret", "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return self.answer(403, {"error": "wrong secret"})
            length = int(self.headers.get("content-length") or 0)
            try:
                body = json.loads(self.rfile.read(length))
            except ValueError:
                return self.answer(400, {"error": "not JSON"})
            self.answer(200, route(body))

    return Handler


def main():
    parser = argparse.ArgumentParser(description="Switchboard proxy backend example")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", required=True, help="shared with Switchboard's proxy headers")
    parser.add_argument("--api", help="Switchboard's HTTP API, e.g. http://127.0.0.1:8080/api")
    parser.add_argument("--api-key", help="a key of Switchboard's HTTP API")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.secret, args.api, args.api_key))
    server.daemon_threads = True
    print(json.dumps({"listening": server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
