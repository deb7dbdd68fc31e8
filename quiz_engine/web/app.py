"""The Starlette application: routes, static pages, lifespan (Redis, runner)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import segno
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from quiz_engine import metrics
from quiz_engine.assets import overlay_dir
from quiz_engine.config import Settings
from quiz_engine.contest.desk import ContestDesk
from quiz_engine.errors import RedisUnavailable
from quiz_engine.hub import Hub
from quiz_engine.library import BankLibrary
from quiz_engine.protocol.codes import CLOSE_RESTART
from quiz_engine.runner import Runner
from quiz_engine.store.redis_store import Store
from quiz_engine.web import contest_api, host_api
from quiz_engine.web.bodylimit import BodyLimit
from quiz_engine.web.frontdoor import SOCKETS_KEY, Trusted
from quiz_engine.web.security import CSP, HostCheck
from quiz_engine.web.wsserver import SocketServer

log = logging.getLogger("quiz_engine.web")

STATIC_DIR = Path(__file__).parent / "static"


class QuizApp(Starlette):
    """Starlette, with the ``Host`` allow-list in front of every page and API call.

    WebSockets never get here: the front door hands ``/ws/...`` requests to the node's own
    socket layer (``web/wsserver.py``), which applies the same allow-list.
    """

    host_check: HostCheck | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.host_check is not None and scope["type"] == "http":
            host = next((v for k, v in scope["headers"] if k == b"host"), b"").decode("latin-1")
            if not self.host_check(host):
                text = f"this server does not answer to the host {host[:100]!r}; see --allowed-host\n"
                await PlainTextResponse(text, status_code=400)(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


class SecurityHeaders:
    """CSP and friends on every HTTP response (pages and API alike)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))  # type: ignore[call-overload]
                is_overlay = scope["path"].startswith("/overlay")
                csp = CSP.replace("frame-ancestors 'none'", "frame-ancestors *") if is_overlay else CSP
                headers += [
                    (b"content-security-policy", csp.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if not is_overlay:
                    headers.append((b"x-frame-options", b"DENY"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)  # type: ignore[arg-type]


def _page(path: Path) -> Response:
    if not path.is_file():
        return PlainTextResponse(f"page not installed: {path.name}", status_code=404)
    return FileResponse(path, headers={"cache-control": "no-cache"})


async def viewer_page(request: Request) -> Response:
    return _page(STATIC_DIR / "viewer.html")


async def host_page(request: Request) -> Response:
    return _page(STATIC_DIR / "host.html")


async def overlay_page(request: Request) -> Response:
    return _page(overlay_dir() / "overlay.html")


def join_url(request: Request, src: str | None = None) -> str:
    """The viewers' join link: the public URL (else this request's), with ``?src=TAG`` for a
    join source (one per page the show is simulcast on)."""
    settings: Settings = request.app.state.settings
    base = settings.public_url or f"{request.url.scheme}://{request.url.netloc}"
    url = base.rstrip("/") + "/"
    return f"{url}?src={src}" if src else url


def _source(request: Request) -> tuple[str | None, Response | None]:
    """The ``src`` query parameter if the show lists it, else a 404 saying which exist."""
    src = request.query_params.get("src") or None
    known = request.app.state.runner.sources
    if src is not None and src not in known:
        return None, JSONResponse({"error": "not_found", "message": f"no join source {src[:40]!r} (configured: "
                                   f"{', '.join(known) or 'none'})"}, status_code=404)
    return src, None


async def join_info(request: Request) -> Response:
    """What the overlay's lobby shows: the join URL (short form too) and its QR code."""
    src, refused = _source(request)
    if refused:
        return refused
    url = join_url(request, src)
    short = url.split("://", 1)[-1].rstrip("/")
    return JSONResponse({"url": url, "short": short, "qr": f"/qr.svg?src={src}" if src else "/qr.svg", "src": src})


async def qr_svg(request: Request) -> Response:
    src, refused = _source(request)
    if refused:
        return refused
    qr = segno.make(join_url(request, src), error="m")
    buf = io.BytesIO()
    qr.save(buf, kind="svg", scale=10, border=2, dark="#111111", light="#ffffff", xmldecl=False)
    return Response(buf.getvalue(), media_type="image/svg+xml", headers={"cache-control": "no-cache"})


async def metrics_endpoint(request: Request) -> Response:
    return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def readyz(request: Request) -> Response:
    store: Store = request.app.state.store
    try:
        await store.ping()
    except RedisUnavailable as exc:
        return JSONResponse({"ok": False, "redis": str(exc)}, status_code=503)
    return JSONResponse({"ok": True})


def _banner(settings: Settings, runner: Runner, contest: str | None = None) -> None:
    base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    lines = [
        f"quiz-engine node {runner.node} ready",
        f"  viewers: {base}/",
        f"  host:    {base}/host",
        f"  overlay: {base}/overlay?token={runner.overlay_token}   (OBS Browser Source, 1920x1080)",
    ]
    if contest:
        lines.append(f"  contest: {base}/contest   ({contest})")
    if not settings.host_token:
        lines.append(f"  host token: {runner.host_token}   (set QUIZ_HOST_TOKEN to choose one)")
    print("\n".join(lines), flush=True)


def app_from_env() -> Starlette:
    """App factory for ``serve --workers N``: each worker rebuilds the app from the env."""
    settings = Settings.from_json(os.environ["QUIZ_SETTINGS_JSON"])
    return create_app(settings, os.environ["QUIZ_WORKER_REDIS_URL"])


def create_app(settings: Settings, redis_url: str, library: BankLibrary | None = None) -> Starlette:
    """Build the app; Redis and the runner start in the lifespan."""
    library = library if library is not None else BankLibrary(settings.banks)
    contest_files = contest_api.load_files(settings, library)  # a bad contest file stops the node here

    host_check = HostCheck(settings.allowed_hosts, settings.public_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        store = Store.from_url(redis_url)
        try:
            await store.ping()
        except RedisUnavailable as exc:
            await store.close()
            raise RedisUnavailable(f"cannot reach Redis at {redis_url}: {exc}") from exc
        hub = Hub(settings.fanout_threads)
        runner = Runner(store, hub, settings, library)
        app.state.store, app.state.hub, app.state.runner = store, hub, runner
        await runner.start()
        if contest_files is not None:
            c = contest_files
            desk = ContestDesk(c.contest, c.bank, c.roster, store.contest(c.contest.id), runner.secret)
            app.state.contest = contest_api.ContestService(c, desk, runner.secret)
        sockets = SocketServer(runner, host_check, Trusted(settings.trusted_proxies), fast=settings.ws_impl != "parser")
        sockets.start()
        _banner(settings, runner, contest_files.contest.title if contest_files else None)
        try:
            yield {SOCKETS_KEY: sockets}  # the front door finds the socket layer here (lifespan state)
        finally:
            # Tell every client to come back (1012 = service restart), then let go of Redis.
            await hub.close_all(CLOSE_RESTART, "server restarting")
            await sockets.stop()
            await runner.stop()
            await store.close()
            hub.shutdown()

    routes = [
        Route("/", viewer_page),
        Route("/host", host_page),
        Route("/overlay", overlay_page),
        Route("/healthz", healthz),
        Route("/metrics", metrics_endpoint),
        Route("/join-info", join_info),
        Route("/qr.svg", qr_svg),
        Route("/readyz", readyz),
        *host_api.routes(),
        *contest_api.routes(),
        Mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
        Mount("/overlay-assets", StaticFiles(directory=overlay_dir(), check_dir=False), name="overlay-assets"),
    ]
    app = QuizApp(routes=routes, lifespan=lifespan)
    app.host_check = host_check
    app.state.settings = settings
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit)  # outermost: a large body is refused before anything reads it
    return app
