"""A size limit on every request body (413 beyond it), for every service.

Starlette's ``RequestBodyLimitMiddleware`` counts a body as it arrives and stops it at the
limit, so no request makes a service hold more; a declared ``Content-Length`` over the limit is
refused here first, before anything is read. Either way the answer is problem details like
every other refusal (Starlette's own 413 is plain text, rewritten here).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.problems import problem


class BodyLimitProblems:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        rewriting = False

        async def rewrite_plain_413(message: Message) -> None:
            nonlocal rewriting
            if message["type"] == "http.response.start" and message["status"] == 413:
                content_type = dict(message.get("headers") or ()).get(b"content-type", b"")
                rewriting = content_type.startswith(b"text/plain")
            if not rewriting:
                await send(message)
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                await self._too_large(scope, receive, send)

        await self.app(scope, receive, rewrite_plain_413)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"The request body is larger than {self.max_bytes} bytes, the most accepted."
        response = problem(413, "payload_too_large", detail, max_bytes=self.max_bytes)
        await response(scope, receive, send)


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0
