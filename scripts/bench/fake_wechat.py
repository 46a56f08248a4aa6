#!/usr/bin/env python3
"""A fake WeChat API for the load benchmark (scripts/bench.sh).

Answers the three calls the server makes in live mode, fast enough not to be
the bottleneck (asyncio, HTTP/1.1 keep-alive, no framework):

  GET  /sns/jscode2session?js_code=CODE  -> openid "wx-CODE", a session_key
                                            and a unionid derived from CODE
  POST /cgi-bin/stable_token             -> an access token valid 2 hours
  POST /wxa/msg_sec_check                -> "pass" (the wage-report content check)

Usage: fake_wechat.py PORT
"""

import asyncio
import hashlib
import json
import sys
from urllib.parse import parse_qs, urlsplit


def answer(method, target):
    url = urlsplit(target)
    if url.path == "/sns/jscode2session":
        code = parse_qs(url.query).get("js_code", [""])[0]
        digest = hashlib.sha256(code.encode()).hexdigest()
        return {
            "openid": f"wx-{code}"[:64],
            "session_key": digest[:24],
            "unionid": f"u-{digest[:28]}",
            "errcode": 0,
        }
    if url.path == "/cgi-bin/stable_token":
        return {"access_token": "bench-access-token", "expires_in": 7200}
    if url.path == "/wxa/msg_sec_check":
        return {"errcode": 0, "errmsg": "ok", "result": {"suggest": "pass", "label": 100}}
    return None


class Http(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""

    def data_received(self, data):
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self.buffer) < head_end + 4 + length:
                return
            self.buffer = self.buffer[head_end + 4 + length :]
            method, target, _ = head[0].split(" ", 2)
            body = answer(method, target)
            if body is None:
                payload, status = b'{"errcode":-1}', b"404 Not Found"
            else:
                payload, status = json.dumps(body).encode(), b"200 OK"
            self.transport.write(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload
            )


async def main(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Http, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
