"""What every request passes before any route: whose address it is, and how large a body it may bring.

Pure ASGI middlewares, outside everything else (no body is read, no session opened, no credential
looked at before they have decided):

- :class:`ClientAddress` believes ``X-Forwarded-For`` only when the peer is a proxy named in the
  settings (``trusted_proxies``, none by default). Anyone else's header changes nothing, so a client
  cannot pick the address that per-address limits count.
- :class:`BodyLimit` answers 413 to a body over the cap: at once when its ``Content-Length`` says so,
  and, for a body of unknown length (chunked), as soon as the part received passes the cap. The route
  never sees such a body, so nothing is parsed or authenticated first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mamoru.settings import Settings
from mamoru.web.i18n import choose_lang, labels

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


class ClientAddress:
    """The client address for everything after it: the peer, or what trusted proxies forwarded."""

    def __init__(self, app: ASGIApp, trusted: Iterable[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    def _is_trusted(self, text: str) -> bool:
        address = _address(text)
        return address is not None and any(address in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted:
            client = scope.get("client")
            if client and self._is_trusted(client[0]):
                forwarded = self._forwarded_client(scope)
                if forwarded is not None:
                    scope = {**scope, "client": (forwarded, 0)}
        await self.app(scope, receive, send)

    def _forwarded_client(self, scope: Scope) -> str | None:
        """The nearest address in the chain that is not a trusted proxy (read right to left), or None
        when the header is missing or malformed (then the peer stays the client)."""
        hops = [
            hop.strip()
            for name, value in scope.get("headers", [])
            if name == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")
        ]
        nearest: str | None = None
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                return nearest
            nearest = str(address)
            if not self._is_trusted(nearest):
                return nearest
        return nearest


class SecurityHeaders:
    """Headers every answer carries unless its route set its own (``headers``: lower-case name, value).

    Pure ASGI, as the others here: Starlette's ``@app.middleware("http")`` runs every request through
    a task group and a memory stream, a cost of its own on each call to the API."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                missing = [(k, v) for k, v in self.headers if k not in present]
                if missing:
                    message = {**message, "headers": [*message.get("headers", []), *missing]}
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """Refuse a request body over ``limit`` bytes (``larger`` maps exact paths to their own cap)."""

    def __init__(self, app: ASGIApp, limit: int, larger: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.larger.get(scope["path"], self.limit)
        declared = [v for k, v in scope.get("headers", []) if k == b"content-length"]
        if declared:
            try:
                length = int(declared[0])
            except ValueError:
                length = cap + 1
            if length > cap:
                await _too_large(scope, send, cap)
                return
            await self.app(scope, receive, send)  # the server delivers no more than it declared
            return
        if not any(k == b"transfer-encoding" for k, _ in scope.get("headers", [])):
            await self.app(scope, receive, send)  # neither length nor chunks: no body
            return
        # Unknown length: take it in up to the cap before the route runs, so that a body over the cap
        # is refused whole and a route never parses half of one.
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > cap:
                await _too_large(scope, send, cap)
                return
            if not message.get("more_body", False):
                break
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)


async def _too_large(scope: Scope, send: Send, cap: int) -> None:
    """413, in the API's error shape for the API and in the reader's language for a page."""
    if scope["path"].startswith("/api/"):
        body = orjson.dumps(
            {
                "error": "BodyTooLarge",
                "detail": f"the request body is larger than {cap} bytes; nothing was read",
            }
        )
        content_type = b"application/json"
    else:
        lang = choose_lang(Request(scope))
        text = labels(lang)["body_too_large"]
        page = (
            f'<!doctype html><html lang="{lang}"><meta charset="utf-8"><title>413</title><p>{text}</p></html>'
        )
        body = page.encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"content-security-policy", b"default-src 'none'"),
                (b"x-content-type-options", b"nosniff"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def larger_bodies(settings: Settings) -> dict[str, int]:
    """The routes that take more than an ordinary form or call: the portal request form (its document
    may be up to 5 MiB) and a controller's batch of door events (up to 10,000)."""
    return {"/requests": settings.max_upload_bytes, "/api/v1/door-events": settings.max_upload_bytes}
