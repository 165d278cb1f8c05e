"""One HTTP(S) GET with kubelet's probe rules, on the standard library's http.client.

Sources, kubernetes/kubernetes pkg/probe/http/http.go: a status 200 <= code < 400 is success, and a 3xx is a
Warning ("Probe terminated redirects"), which kubelet counts as success; a redirect to another hostname is not
followed (RedirectChecker returns ErrUseLastResponse, so the 3xx itself is the answer); a same-host redirect is
followed under Go's default limit of 10 consecutive requests ("stopped after 10 redirects", net/http
client.go: ``via`` holds the requests already made); at most 10 KiB of the body is read (ReadAtMost); TLS
verification is skipped (InsecureSkipVerify), no proxy is used and no Accept-Encoding is sent
(DisableCompression). pkg/probe/http/request.go: ``User-Agent: kube-probe/<major>.<minor>`` and
``Accept: */*`` unless the probe's headers set them; a Host header sets the request's host (and Go's client keeps
it only through relative redirects).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, cast
from urllib.parse import SplitResult, urljoin, urlsplit

from k8snode.core.errors import bad_input
from k8snode.core.names import is_http_field_value, is_http_token
from k8snode.health.probe import MAX_OUTPUT, Outcome, Verdict, dial, time_left

if TYPE_CHECKING:
    import http.client
    import ssl

MAX_REQUESTS = 10
REDIRECTS = (301, 302, 303, 307, 308)  # what Go's client follows when Location is set


@dataclass(frozen=True)
class Request:
    url: str
    headers: tuple[tuple[str, str], ...]
    timeout: float
    verify: bool = False


def parse_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError as error:  # an unclosed IPv6 bracket: http://[::1
        raise bad_input(f"{url!r} is not a URL: {error}") from None
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise bad_input(f"{url!r} holds a space or control character; percent-encode it")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_input(f"{url!r} is not an http:// or https:// URL with a host")
    try:
        _ = parts.port
    except ValueError:
        raise bad_input(f"{url!r} has an invalid port") from None
    return url


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
        raise bad_input(f"--header {text!r} is not NAME:VALUE; use for example --header 'X-Probe: 1'")
    if not is_http_token(name.strip()) or not is_http_field_value(value.strip()):
        raise bad_input(
            f"--header {text!r}: the name must be an HTTP token and the value Latin-1 text without control characters"
        )
    return name.strip(), value.strip()


def probe_headers(headers: list[tuple[str, str]], user_agent: str) -> tuple[tuple[str, str], ...]:
    """The probe's headers plus kubelet's defaults for User-Agent and Accept (an empty Accept removes it)."""
    names = {name.lower() for name, _ in headers}
    defaults = [("User-Agent", user_agent)] if "user-agent" not in names else []
    if "accept" not in names:
        defaults.append(("Accept", "*/*"))
    kept = [(n, v) for n, v in headers if not (n.lower() == "accept" and v == "")]
    return (*kept, *defaults)


def get(request: Request) -> Outcome:
    """GET ``request.url`` within ``request.timeout`` seconds for the whole exchange, redirects included."""
    import http.client  # lazy: only probes and doctor need it

    deadline = time.monotonic() + request.timeout
    first = urlsplit(request.url)
    current, headers = first, request.headers
    made = 0
    while True:
        made += 1
        try:
            status, location, body = _exchange(current, headers, request.verify, deadline)
        except TimeoutError:
            return Outcome(Verdict.FAILURE, f'Get "{current.geturl()}": timeout after {request.timeout:g}s')
        except ConnectionRefusedError as error:
            return Outcome(Verdict.FAILURE, f'Get "{current.geturl()}": {error.strerror}', refused=True)
        except (OSError, http.client.HTTPException) as error:
            if time.monotonic() >= deadline:  # the watchdog cut the connection
                return Outcome(Verdict.FAILURE, f'Get "{current.geturl()}": timeout after {request.timeout:g}s')
            return Outcome(Verdict.FAILURE, f'Get "{current.geturl()}": {_describe(error)}')
        if status not in REDIRECTS or not location:
            return _verdict(request.url, status, body, f"HTTP {status}")
        target = urlsplit(urljoin(current.geturl(), location))
        if _hostname(target) != _hostname(first):
            why = f"redirect to another host ({target.geturl()}) not followed"
            return _verdict(request.url, status, body, why)
        if made >= MAX_REQUESTS:
            return Outcome(Verdict.FAILURE, f'Get "{target.geturl()}": stopped after {MAX_REQUESTS} redirects', status)
        if target.scheme not in ("http", "https"):
            return Outcome(Verdict.FAILURE, f'Get "{target.geturl()}": unsupported protocol scheme "{target.scheme}"')
        if urlsplit(location).scheme:  # Go keeps a custom Host only through relative redirects (golang/go#22233)
            headers = tuple((n, v) for n, v in headers if n.lower() != "host")
        current = target


def _verdict(url: str, status: int, body: bytes, why: str) -> Outcome:
    text = body.decode("utf-8", errors="replace")
    if 200 <= status < 400:
        if status >= 300:
            warning = f"{url}: {why}; probe terminated redirects, counted as success as kubelet does"
            return Outcome(
                Verdict.WARNING, f"Probe terminated redirects, Response body: {text}", status, warning=warning
            )
        return Outcome(Verdict.SUCCESS, text, status)
    # kubelet keeps the body out of the failure message (kubernetes issue 99425)
    return Outcome(Verdict.FAILURE, f"HTTP probe failed with statuscode: {status}", status)


def _exchange(
    url: SplitResult, headers: tuple[tuple[str, str], ...], verify: bool, deadline: float
) -> tuple[int, str | None, bytes]:
    connection: http.client.HTTPConnection
    timeout = time_left(deadline)
    host, port = url.hostname or "", url.port
    plain, tls = _bounded_types()
    if url.scheme == "https":
        connection = tls(host, port, timeout=timeout, context=_tls(verify))
    else:
        connection = plain(host, port, timeout=timeout)
    connection.connect()  # the lookup and the connect, bounded by what is left of the deadline
    # A socket timeout restarts with every byte: a server that trickles its answer would hold the probe for ever.
    # The timeout is a deadline for the whole attempt, as in kubelet (http.Client.Timeout): at the deadline a
    # watchdog shuts the socket down, which ends any read in progress. What was read by then is cut off (headers
    # still arriving end at the shutdown as if complete): the attempt timed out, as kubelet counts it.
    cut = threading.Event()
    watchdog = threading.Timer(time_left(deadline), _cut, (connection.sock, cut))
    watchdog.daemon = True
    watchdog.start()
    try:
        path = url.path or "/"
        custom_host = next((v for n, v in headers if n.lower() == "host"), None)
        connection.putrequest(
            "GET",
            f"{path}?{url.query}" if url.query else path,
            skip_host=custom_host is not None,
            skip_accept_encoding=True,
        )
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        _set_timeout(connection, deadline)
        response = connection.getresponse()
        body = bytearray()
        while len(body) < MAX_OUTPUT:
            _set_timeout(connection, deadline)
            chunk = response.read1(MAX_OUTPUT - len(body))
            if not chunk:
                break
            body += chunk
        watchdog.cancel()
        if cut.is_set():
            raise TimeoutError
        return response.status, response.getheader("Location"), bytes(body)
    finally:
        watchdog.cancel()
        connection.close()


@cache
def _bounded_types() -> tuple[type[http.client.HTTPConnection], type[http.client.HTTPSConnection]]:
    """HTTP and HTTPS connections whose connect() looks the host up under the deadline (see probe.dial)."""
    import http.client

    class Bounded(http.client.HTTPConnection):
        def connect(self) -> None:
            # _exchange made self.timeout what is left of the attempt's deadline just before calling connect().
            self.sock = dial(self.host, self.port, time.monotonic() + cast(float, self.timeout))

    class BoundedTLS(http.client.HTTPSConnection, Bounded):
        """HTTPSConnection.connect() wraps what super().connect() made: here, Bounded.connect()."""

    return Bounded, BoundedTLS


def _cut(sock: socket.socket | None, cut: threading.Event) -> None:
    cut.set()
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _set_timeout(connection: http.client.HTTPConnection, deadline: float) -> None:
    if connection.sock is not None:
        connection.sock.settimeout(time_left(deadline))


def _tls(verify: bool) -> ssl.SSLContext:
    import ssl

    if verify:
        return ssl.create_default_context()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # kubelet's InsecureSkipVerify; --verify turns verification on
    return context


def _hostname(url: SplitResult) -> str:
    """The host without port or brackets, case kept: Go's URL.Hostname(), which RedirectChecker compares."""
    host = url.netloc.rpartition("@")[2]
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.partition(":")[0]


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
