"""A Switchboard client in Python, written from docs/protocol.md alone (issue 14 item 7).

It speaks the MessagePack codec (subprotocol switchboard.v1.msgpack) with nothing but the
standard library, `websockets` and `msgpack` (Debian's python3-websockets and python3-msgpack),
and prints one JSON object a line on stdout for packages/server/test/python-client.test.ts:

    {"step": "...", ...}        what it did or received; bytes are written {"hex": "0102ff"}

Usage: python3 msgpack_client.py <ws url> <channel> <handler event>

After subscribing it prints the step "subscribed" and waits for the driver's own publication on
the channel (the driver publishes it as JSON when it reads that line) besides its own two. Any
text message, unknown subprotocol, failed reply or error frame ends it with exit status 1.
"""

import asyncio
import json
import sys

import msgpack
import websockets

SUBPROTOCOL = "switchboard.v1.msgpack"

# Published by this client: raw bytes (every byte value, so no text codec could pass them), and
# an object holding bytes deep inside, with the value types the docs list.
RAW = bytes(range(256))
NESTED = {
    "from": "python",
    "file": {"name": "blob.bin", "body": b"\x00\x01\xfe\xff", "parts": [b"", b"\x80"]},
    "numbers": [0, -1, 255, 65536, 2**40, 1.5],
    "flags": [True, False, None],
    "text": "h\u00e9llo \u2603",
}
REQUEST = {"payload": b"\xde\xad\xbe\xef", "note": "sum me"}


def printable(value):
    """A JSON-able copy of a decoded value: bytes become {"hex": ...}."""
    if isinstance(value, bytes):
        return {"hex": value.hex()}
    if isinstance(value, dict):
        return {key: printable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [printable(item) for item in value]
    return value


def emit(step, **fields):
    print(json.dumps({"step": step, **printable(fields)}), flush=True)


class Client:
    def __init__(self, ws):
        self.ws = ws
        self.messages = []  # `message` frames of the channel, in order
        self.replies = {}  # reply frames by id
        self.next_id = 0

    async def send(self, frame):
        # One frame, one binary message; absent fields are left out, never None.
        await self.ws.send(msgpack.packb(frame, use_bin_type=True))

    async def receive(self):
        message = await self.ws.recv()
        if not isinstance(message, bytes):
            raise RuntimeError(f"a text message on a MessagePack connection: {message!r}")
        frame = msgpack.unpackb(message, raw=False)
        kind = frame.get("type")
        if kind == "message":
            self.messages.append(frame)
        elif kind == "reply":
            self.replies[frame["id"]] = frame
        elif kind == "error":
            raise RuntimeError(f"error frame: {frame}")
        return frame

    async def call(self, frame):
        """Sends a frame with a fresh id and reads until its reply, which must be ok."""
        self.next_id += 1
        frame = {**frame, "id": str(self.next_id)}
        await self.send(frame)
        while frame["id"] not in self.replies:
            await self.receive()
        reply = self.replies.pop(frame["id"])
        if reply["ok"] is not True:
            raise RuntimeError(f"{frame['type']} failed: {reply['error']}")
        return reply.get("data")

    async def until_messages(self, count):
        while len(self.messages) < count:
            await self.receive()


async def main(url, channel, event):
    async with websockets.connect(url, subprotocols=[SUBPROTOCOL]) as ws:
        if ws.subprotocol != SUBPROTOCOL:
            raise RuntimeError(f"the server chose {ws.subprotocol!r}")
        client = Client(ws)
        hello = await client.receive()
        if hello.get("type") != "hello":
            raise RuntimeError(f"first frame is not hello: {hello}")
        emit("hello", subprotocol=ws.subprotocol, version=hello["version"])

        position = await client.call({"type": "subscribe", "channel": channel})
        emit("subscribed", position=position)

        first = await client.call({"type": "publish", "channel": channel, "data": RAW})
        second = await client.call({"type": "publish", "channel": channel, "data": NESTED})
        emit("published", offsets=[first["offset"], second["offset"]])

        reply = await client.call({"type": "request", "event": event, "data": REQUEST})
        emit("reply", data=reply)

        # Ours two, and the one the driver publishes as JSON once it reads "subscribed".
        await client.until_messages(3)
        for frame in client.messages:
            emit("message", offset=frame["offset"], data=frame["data"])

        history = await client.call(
            {"type": "request", "event": "$history", "data": {"channel": channel}}
        )
        emit("history", data=history)
    emit("closed")


if __name__ == "__main__":
    try:
        asyncio.run(asyncio.wait_for(main(*sys.argv[1:4]), timeout=10))
    except Exception as err:  # reported on stderr, for the driver's failure message
        print(f"msgpack_client: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
        sys.exit(1)
