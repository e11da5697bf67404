"""A minimal keep-alive HTTP/1.1 stub of ClawRouter's image routes, for benchmarks.

It answers every POST with one fixed, localised result, ``/health`` and ``/v1/models``
with JSON and any other GET with a tiny PNG,
and discards request bodies as they arrive, so the client side is what gets measured.
Run as ``python _stub_server.py PORT``; it prints ``ready`` once listening.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEUlEQVR4nGM4cYIBjhiI4wAAltIZAahXnKwAAAAASUVORK5CYII="
)
RESULT = json.dumps(
    {
        "created": 1795503044,
        "model": "google/nano-banana",
        "data": [{"url": "http://localhost:8402/images/1795503044964-xm1yzv09.png"}],
    }
).encode()


def _response(body: bytes, content_type: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: "
        + content_type
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: keep-alive\r\n\r\n"
        + body
    )


POST_ANSWER = _response(RESULT, b"application/json")
IMAGE_ANSWER = _response(PNG, b"image/png")
# hermes-plugin-clawrouter probes /v1/models and /health before each call.
JSON_ANSWERS = {
    b"/health": _response(
        b'{"status":"ok","wallet":"0x0","paymentChain":"base"}', b"application/json"
    ),
    b"/v1/models": _response(b'{"object":"list","data":[]}', b"application/json"),
}


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            while length:
                chunk = await reader.read(min(length, 1 << 20))
                if not chunk:
                    return
                length -= len(chunk)
            if head.startswith(b"POST"):
                writer.write(POST_ANSWER)
            else:
                path = head.split(b" ", 2)[1].split(b"?")[0]
                writer.write(JSON_ANSWERS.get(path, IMAGE_ANSWER))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _main(port: int) -> None:
    server = await asyncio.start_server(_serve, "127.0.0.1", port, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1])))
