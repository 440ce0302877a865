"""A WebSocket client on a bare TCP socket that does only what the test says:
it can complete the handshake and then never read, never answer a ping and
never close, like a phone that lost its network or a stuck reader."""

import base64
import json
import os
import socket
import struct
from typing import Any

TEXT, CLOSE, PING = 0x1, 0x8, 0x9


class RawSocket:
    """A hand-driven WebSocket client (blocking; small receive buffer)."""

    def __init__(self, port: int, path: str, receive_buffer: int = 4096) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the TCP connection")
        return chunk

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += self._recv()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def send_json(self, message: dict[str, Any]) -> None:
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | TEXT, 0x80 | length)
        else:
            header = struct.pack("!BBH", 0x80 | TEXT, 0x80 | 126, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def frame(self) -> tuple[int, bytes]:
        """The next frame from the server: (opcode, payload)."""
        first, second = self._take(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._take(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._take(8))
        return first & 0x0F, self._take(length)

    def message(self) -> dict[str, Any]:
        """The next text message; pings are skipped (and never answered)."""
        while True:
            opcode, payload = self.frame()
            if opcode == TEXT:
                return json.loads(payload)
            if opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if payload else 1005
                raise ClosedByServer(code)

    def close(self) -> None:
        self.sock.close()


class ClosedByServer(Exception):
    """The server sent a close frame with ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code
