"""Serving a witness over HTTP: a WSGI app, and a threading stdlib server.

The server speaks HTTP/1.1 with keep-alive, as C2SP `tlog-witness` recommends
for witnesses, so a node pushing checkpoints reuses one connection. It binds to
127.0.0.1 unless `--host` sets another address. A partner exposes it through its
own proxy.
"""

import logging
import signal
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from kotacerdas.witness.protocol import MAX_BODY_BYTES, Response, Witness, text_response

logger = logging.getLogger(__name__)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


def make_wsgi_app(
    witness: Witness,
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """Return a WSGI app serving `witness`, for any WSGI server and for tests."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            response = text_response(400, "Content-Length is not a number")
        elif length > MAX_BODY_BYTES:
            response = text_response(413, f"body exceeds {MAX_BODY_BYTES} bytes")
        else:
            body = environ["wsgi.input"].read(length) if length else b""
            response = witness.respond(
                environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), body
            )
        start_response(status_line(response.status), headers(response))
        return [response.body]

    return app


def headers(response: Response) -> list[tuple[str, str]]:
    return [
        ("Content-Type", response.content_type),
        ("Content-Length", str(len(response.body))),
    ]


class WitnessRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kotacerdas-witness"
    witness: Witness

    def do_GET(self) -> None:
        self.answer("GET")

    def do_POST(self) -> None:
        self.answer("POST")

    def answer(self, method: str) -> None:
        length_header = self.headers.get("Content-Length")
        if method == "POST" and length_header is None:
            self.send(text_response(411, "Content-Length is required"), close=True)
            return
        try:
            length = int(length_header or 0)
        except ValueError:
            self.send(text_response(400, "Content-Length is not a number"), close=True)
            return
        if length < 0 or length > MAX_BODY_BYTES:
            # The body is not read, so the connection cannot be reused.
            self.send(
                text_response(413, f"body exceeds {MAX_BODY_BYTES} bytes"), close=True
            )
            return
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        self.send(self.witness.respond(method, path, body))

    def send(self, response: Response, close: bool = False) -> None:
        self.send_response(response.status)
        for name, value in headers(response):
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)


def serve(witness: Witness, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT, then stop cleanly."""
    handler = type("Handler", (WitnessRequestHandler,), {"witness": witness})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True

    def stop(signum: int, frame: object) -> None:
        logger.info("witness %s stopping on signal %s", witness.name, signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info(
        "witness %s listening on http://%s:%s%s/add-checkpoint",
        witness.name,
        host,
        server.server_address[1],
        witness.prefix,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        logger.info("witness %s stopped", witness.name)
