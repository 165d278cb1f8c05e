"""Real HTTP(S) servers on loopback for the probe and doctor tests, each in its own thread, and a port that refuses
(CLOSED_PORT).

Routes: /status/<code>, /chain/<n> (n same-host redirects, then 200), /loop (redirects to itself),
/redirect?to=<url>, /nolocation (302 without Location), /slow (answers when the test ends), /large (1 MiB),
/headers (the request's headers as JSON), and any fixed route given as ``routes={path: (status, body)}`` or, for
an answer that is late, redirects or trickles its headers, ``routes={path: Answer(...)}``.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

LARGE = 1024 * 1024


@dataclass(frozen=True)
class Answer:
    """A fixed route's answer with a behaviour: sent after ``delay`` seconds, with a Location header, or with its
    headers trickled a byte every ``trickle`` seconds (a padding header of ``trickle_bytes`` bytes) before the body."""

    status: int
    body: str
    delay: float = 0.0
    location: str | None = None
    trickle: float = 0.0
    trickle_bytes: int = 40


Route = tuple[int, str] | Answer


@dataclass
class Server:
    host: str
    port: int
    scheme: str
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    routes: dict[str, Route] = field(default_factory=dict)
    """The fixed routes it serves; changing them changes what it answers."""

    def url(self, path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{path}"


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def serve(
    host: str = "127.0.0.1",
    *,
    routes: dict[str, Route] | None = None,
    tls: ssl.SSLContext | None = None,
    release: threading.Event | None = None,
) -> tuple[Server, ThreadingHTTPServer]:
    """Start a server on ``host`` and a free port; the caller shuts it down."""
    fixed = routes or {}
    released = release or threading.Event()
    server_class = _IPv6Server if ":" in host else ThreadingHTTPServer
    record: list[tuple[str, dict[str, str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:
            record.append((self.path, dict(self.headers.items())))
            parts = urlsplit(self.path)
            path = parts.path
            if path in fixed:
                route = fixed[path]
                if isinstance(route, Answer):
                    self._answer(route)
                else:
                    self._send(route[0], route[1].encode())
            elif path.startswith("/status/"):
                code = int(path.rsplit("/", 1)[1])
                self._send(code, f"status {code}".encode())
            elif path.startswith("/chain/"):
                left = int(path.rsplit("/", 1)[1])
                if left:
                    self._send(302, b"", location=f"/chain/{left - 1}")
                else:
                    self._send(200, b"end of chain")
            elif path == "/loop":
                self._send(302, b"again", location="/loop")
            elif path == "/redirect":
                self._send(302, b"moved", location=parse_qs(parts.query)["to"][0])
            elif path == "/nolocation":
                self._send(302, b"no location")
            elif path == "/slow":
                released.wait(10)
                self._send(200, b"late")
            elif path == "/large":
                self._send(200, b"x" * LARGE)
            elif path == "/headers":
                self._send(200, json.dumps(dict(self.headers.items())).encode())
            else:
                self._send(404, b"not found")

        def _answer(self, answer: Answer) -> None:
            released.wait(answer.delay)
            if not answer.trickle:
                self._send(answer.status, answer.body.encode(), location=answer.location)
                return
            body = answer.body.encode()
            head = f"HTTP/1.0 {answer.status} Trickle\r\nX-Pad: ".encode()  # the body ends where the connection does
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(head)
                self.wfile.flush()
                for _ in range(answer.trickle_bytes):
                    time.sleep(answer.trickle)
                    self.wfile.write(b"a")
                    self.wfile.flush()
                self.wfile.write(b"\r\n\r\n" + body)
            self.close_connection = True

        def _send(self, status: int, body: bytes, location: str | None = None) -> None:
            self.send_response(status)
            if location is not None:
                self.send_header("Location", location)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # probes stop reading at 10 KiB
                self.wfile.write(body)

    httpd = server_class((host, 0), Handler)
    httpd.daemon_threads = True
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    scheme = "https" if tls else "http"
    server = Server(host, httpd.server_address[1], scheme, record, fixed)
    return server, httpd


_REFUSING = socket.socket()
_REFUSING.bind(("127.0.0.1", 0))
CLOSED_PORT: int = _REFUSING.getsockname()[1]
"""A port on 127.0.0.1 that refuses every connection while the tests run (where a test needs nothing listening).

A socket of the test process is bound to it and never listens: the kernel answers a connection with a reset
(ECONNREFUSED), and no other socket can bind the port meanwhile (ours sets neither SO_REUSEADDR nor SO_REUSEPORT), nor
can an outgoing connection take it as its source port. Unlike a fixed port (the discard port, 9), nothing on the
machine can be listening there."""


def self_signed(directory: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1 (made with cryptography)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "k8snode-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context
