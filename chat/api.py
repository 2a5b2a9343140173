"""The plain JSON API beside the chat: `POST /api/ask`, `GET /api/reports`, `POST /api/rebuild`, with its OpenAPI
page at /api/docs. A FastAPI app of its own, mounted on the app Gradio serves (its routes live under /gradio_api,
so nothing clashes): its errors, limits and schema stay apart from Gradio's.

Every answer is the CLI's JSON. Errors are `{"error": "<one line>", "fix": "<fix or null>"}` with the status the
error's class carries (`PeelqaError.http_status`), mapped in `error_response` only. Handlers are plain functions,
so FastAPI runs them in its thread pool: questions run side by side and never block the event loop.
"""

from __future__ import annotations

import hmac
import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException

from indexer.errors import BadInputError, PeelqaError, RateLimitedError, TooLargeError, UnauthorizedError
from indexer.limits import LIMITS, too_big

from .service import ChatService

log = logging.getLogger("peelqa")

FAILED = "peelqa could not handle this request; the server log says why"


@dataclass(frozen=True)
class ApiConfig:
    """Who may call the API and how often. `token`: required as `Authorization: Bearer <token>` when set;
    `rate`: requests a second per client address (0: no limit); `burst`: requests a client may send at once."""

    token: str | None = None
    rate: float = LIMITS.api_rate
    burst: float = LIMITS.api_rate * LIMITS.api_burst_seconds

    @classmethod
    def from_env(cls, env: dict | None = None) -> ApiConfig:
        """From PEELQA_API_TOKEN and PEELQA_API_RATE (unset: no token, the default rate)."""
        env = os.environ if env is None else env
        given = env.get("PEELQA_API_TOKEN")
        token = (given or "").strip() or None
        if given is not None and token is None:  # e.g. a secret that did not expand: never an open API by mistake
            raise BadInputError("PEELQA_API_TOKEN is set but blank", fix="set it to the token, or unset it")
        if token is not None and not (token.isascii() and token.isprintable()):
            raise BadInputError("PEELQA_API_TOKEN must be printable ASCII (an HTTP header carries it)")
        raw = (env.get("PEELQA_API_RATE") or "").strip()
        try:
            rate = float(raw) if raw else LIMITS.api_rate
        except ValueError:
            rate = -1.0
        if not (math.isfinite(rate) and rate >= 0):
            raise BadInputError(f"PEELQA_API_RATE must be a number of requests a second, 0 or more, not {raw!r}")
        return cls(token, rate, max(1.0, rate * LIMITS.api_burst_seconds))


class RateLimiter:
    """A token bucket per client address: `burst` requests at once, refilled at `rate` a second."""

    def __init__(self, rate: float, burst: float, clock=time.monotonic):
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, when counted)
        self._lock = threading.Lock()

    def wait(self, client: str) -> int:
        """Take one request of `client`'s: 0 when it is allowed, else whole seconds until one would be."""
        if self.rate <= 0:
            return 0
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            allowed = tokens >= 1
            self._buckets[client] = (tokens - 1 if allowed else tokens, now)
            if len(self._buckets) > LIMITS.api_clients:
                self._forget_idle(now)
        return 0 if allowed else max(1, math.ceil((1 - tokens) / self.rate))

    def _forget_idle(self, now: float) -> None:
        # A bucket refilled to the brim is the same as no bucket: memory stays bounded by active clients.
        idle = [c for c, (t, then) in self._buckets.items() if t + (now - then) * self.rate >= self.burst]
        for client in idle:
            del self._buckets[client]


class Filters(BaseModel):
    """Only passages of these reports are quoted; values within a field are alternatives."""

    model_config = ConfigDict(extra="forbid", strict=True)
    force: list[str] = []
    year: list[Annotated[int, Field(ge=0)]] = []  # Filter.from_choices drops what is not digits: "-5" filtered nothing
    pillar: list[str] = []
    title: list[str] = []
    section: list[str] = []
    document: list[str] = []


class AskBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    question: str = Field(description=f"the question (at most {LIMITS.question_chars:,} characters)",
                          examples=["Is Cleveland good at investigating crime?"])
    top_k: int = Field(5, ge=1, le=LIMITS.top_k, description="quotes in the answer")
    previous: str | None = Field(None, description="the question before, for a follow-up ('and what about "
                                                   "children?')")
    by_report: bool = Field(False, description="add a row per report (on by itself when the question compares)")
    filters: Filters | None = None


class ErrorBody(BaseModel):
    error: str = Field(description="what went wrong, in one line")
    fix: str | None = Field(description="what to do about it, when peelqa knows")


def _errors(*statuses: int) -> dict:
    return {status: {"model": ErrorBody} for status in statuses}


def error_response(exc: PeelqaError) -> JSONResponse:
    """The one place an error becomes an HTTP answer: its class's status and headers, its message and fix."""
    if not isinstance(exc, RateLimitedError):  # one line each; a flood of refusals is not logged line by line
        log.warning("api: %s: %s", type(exc).__name__, exc)
    return JSONResponse({"error": _line(exc.message), "fix": exc.fix}, status_code=exc.http_status,
                        headers=exc.http_headers())


def _line(message) -> str:
    return " ".join(str(message).split())[:500]


def invalid(exc: RequestValidationError) -> BadInputError:
    """FastAPI's validation errors as one line: a body that is not JSON, a field missing or of the wrong type."""
    problems = []
    for e in exc.errors()[:3]:
        if e.get("type") == "json_invalid":
            return BadInputError("the request body is not valid JSON", fix='send {"question": "..."}')
        where = ".".join(str(part) for part in e.get("loc", ())[1:]) or "the request body"
        problems.append(f"{where}: {e.get('msg')}")
    return BadInputError("; ".join(problems) or "the request is not what this route takes")


def as_peelqa_error(exc: Exception) -> PeelqaError:
    """Whatever a request failed with, as a peelqa error (anything unforeseen is a 500; uvicorn logs it)."""
    if isinstance(exc, PeelqaError):
        return exc
    if isinstance(exc, RequestValidationError):
        return invalid(exc)
    if isinstance(exc, HTTPException):
        return _Status(exc)
    return PeelqaError(FAILED)


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    return error_response(as_peelqa_error(exc))


class _Status(PeelqaError):
    """HTTP's own refusals (no such route, wrong method, body too large), in peelqa's error shape."""

    def __init__(self, exc: HTTPException):
        super().__init__(str(exc.detail))
        self.http_status, self._headers = exc.status_code, dict(exc.headers or {})

    def http_headers(self) -> dict[str, str]:
        return self._headers  # e.g. a 405's Allow


def build_api(service: ChatService, config: ApiConfig) -> FastAPI:
    """The API's FastAPI app, to mount at /api behind a Gate (its docs at /api/docs, schema at /api/openapi.json)."""
    # The Gate checks the token; this only puts it in the schema (the docs page's Authorize button).
    bearer = HTTPBearer(auto_error=False, description="PEELQA_API_TOKEN, as the server was started with it")
    guards = [Depends(bearer)] if config.token else []
    api = FastAPI(title="peelqa", version="1", docs_url="/docs", redoc_url=None, openapi_url="/openapi.json",
                  description="Answers quoted verbatim from police inspection reports, with citations. The same "
                              "JSON as `peelqa ask --json` and `peelqa reports --json`.")
    for kind in (PeelqaError, RequestValidationError, HTTPException, Exception):
        api.add_exception_handler(kind, _handle)

    @api.post("/ask", dependencies=guards, responses=_errors(400, 401, 413, 429, 503))
    def ask(body: AskBody) -> JSONResponse:
        """Answer a question with quotes from the current complete index (also while a rebuild runs)."""
        filters = body.filters.model_dump() if body.filters else None
        answer = service.ask(body.question, body.top_k, filters, body.previous, body.by_report)
        return JSONResponse(answer.to_dict())

    @api.get("/reports", dependencies=guards, responses=_errors(401, 429, 503))
    def reports() -> JSONResponse:
        """The indexed reports: one record per report, as `peelqa reports --json` prints them."""
        return JSONResponse(service.reports())

    @api.post("/rebuild", dependencies=guards, responses=_errors(401, 409, 429, 503))
    def rebuild() -> JSONResponse:
        """Rebuild the index from the seeds folder (incremental); refused with 409 while one runs."""
        return JSONResponse(service.rebuild().to_dict())

    return api


class Gate:
    """What a request to the API passes before its body is read, in order: the rate limit (so guessing tokens is
    limited too), the token, the body's size. FastAPI dependencies would run only after the body is parsed: a
    body that is not JSON was answered 400 without a token, and without counting against the limit. The
    documentation stays open (it holds no data).

    A body over `limit` bytes is refused (413) at once by its Content-Length or, sent in chunks, as soon as it
    passes the limit. (FastAPI's own limit answers in plain text, from outside the app's error handling.)"""

    OPEN = ("/docs", "/docs/oauth2-redirect", "/openapi.json")

    def __init__(self, app, config: ApiConfig, limit: int):
        self.app, self.limit = app, limit
        self.limiter = RateLimiter(config.rate, config.burst)
        self.token = config.token.encode("ascii") if config.token else None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            if _route_path(scope) not in self.OPEN:
                self._admit(scope)
        except PeelqaError as exc:
            return await error_response(exc)(scope, receive, send)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(int(declared), scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size, more = size + len(chunks[-1]), message.get("more_body", False)
            if size > self.limit:
                return await self._refuse(size, scope, receive, send)
        pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay():
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)

    def _admit(self, scope) -> None:
        client = scope["client"][0] if scope.get("client") else "unknown"
        if wait := self.limiter.wait(client):
            raise RateLimitedError(f"too many requests from {client}: the limit is {self.limiter.rate:g} a second",
                                   retry_after=wait, fix=f"wait {wait} s")
        if self.token is None:
            return
        scheme, _, given = Headers(scope=scope).get("authorization", "").partition(" ")
        given = given.strip().encode("latin-1") if scheme.lower() == "bearer" else b""  # as the header's bytes
        if not hmac.compare_digest(given, self.token):  # constant time: the answer's timing says nothing
            raise UnauthorizedError("this API needs its token", fix="send Authorization: Bearer <PEELQA_API_TOKEN>")

    async def _refuse(self, size: int, scope, receive, send) -> None:
        refusal = TooLargeError(too_big("the request body", size, self.limit), fix="send a shorter question")
        await error_response(refusal)(scope, receive, send)


def _route_path(scope) -> str:
    """The path within the mounted API ("/ask"), without the prefix it is mounted at."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def mount_api(demo, service: ChatService, config: ApiConfig | None = None) -> None:
    """Mount the API on the app `demo.launch()` serves (its routes are read per request, so this works after
    launch; Gradio's own routes come first, and none of them is under /api)."""
    config = config or ApiConfig.from_env()
    api = build_api(service, config)
    demo.app.mount("/api", Gate(api, config, LIMITS.api_body_bytes))
