"""Host-panel downloads: ``GET /api/host/reports/{results|participation}.{csv|json|xlsx|html}``.

Mounted by :mod:`quiz_engine.web.host_api` behind the host authentication. Query
parameters: ``episode`` (default: the loaded episode) or ``season=BANK``; ``lang=vi|en``
(default: the bank's language); ``top=N``; ``reserves=N``; ``one_episode_prize=1``;
``layout=wide`` (participation CSV, one row per player). Every file is sent as an attachment,
so the HTML report is saved and opened as a standalone file (its inline CSS is never
rendered under the panel's CSP).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from quiz_engine.errors import NotFound, ProtocolError
from quiz_engine.reports import FORMATS, LAYOUTS, MEDIA_TYPES, limit_top, render, report_name
from quiz_engine.reports.data import episode_participation, season_participation
from quiz_engine.reports.season import season_results
from quiz_engine.results import episode_results

if TYPE_CHECKING:
    from quiz_engine.runner import Runner

KINDS = ("results", "participation")
HTML_TOP_DEFAULT = 20
_RENDER_LOCK = asyncio.Lock()  # matplotlib is not guaranteed thread-safe: one render at a time


def _int_param(body: dict[str, Any], key: str, default: int | None) -> int | None:
    raw = body.get(key)
    if raw in (None, ""):
        return default
    if not str(raw).isdigit():
        raise ProtocolError("bad_field", f"'{key}' must be a non-negative integer")
    return int(str(raw))


async def report_download(request: Request, runner: Runner, body: dict[str, Any]) -> Response:
    """The host API handler: the report named by the path (``results.xlsx`` …)."""
    return await report_response(runner, str(request.path_params.get("file", "")), body)


async def report_response(runner: Runner, file: str, body: dict[str, Any]) -> Response:
    """Build one report from Redis and send it as a file download."""
    kind, _, fmt = file.partition(".")
    if kind not in KINDS or fmt not in FORMATS:
        raise NotFound(f"no report {file!r}; try results.xlsx or participation.html")
    lang = str(body.get("lang") or "") or None
    if lang not in (None, "vi", "en"):
        raise ProtocolError("bad_field", "'lang' must be vi or en")
    layout = str(body.get("layout") or "long")
    if layout not in LAYOUTS:
        raise ProtocolError("bad_field", "'layout' must be long or wide")
    season = str(body.get("season") or "")
    episode = str(body.get("episode") or runner.view.episode or "")
    if not season and not episode:
        raise NotFound("no episode loaded; give ?episode=BANK.EPISODE or ?season=BANK")
    data: dict[str, Any]
    if kind == "results":
        reserves = _int_param(body, "reserves", 3) or 0
        if season:
            data = await season_results(runner.store, season, reserves=reserves,
                                        one_episode_prize=str(body.get("one_episode_prize", "")) in ("1", "true"),
                                        fast_answer_ms=runner.settings.fast_answer_ms)
        else:
            data = await episode_results(runner.store, episode, reserves=reserves,
                                         fast_answer_ms=runner.settings.fast_answer_ms)
            if not data.get("phase"):
                raise NotFound(f"episode {episode!r} not found")
        top = _int_param(body, "top", HTML_TOP_DEFAULT if fmt == "html" else None)
        data = limit_top(data, top)
    else:
        data = await (season_participation(runner.store, season) if season
                      else episode_participation(runner.store, episode))
    # matplotlib and openpyxl are CPU-bound: keep the event loop (and the live show) responsive
    async with _RENDER_LOCK:
        payload = await asyncio.to_thread(render, data, fmt, lang, None, layout)  # type: ignore[arg-type]
    return Response(
        payload,
        media_type=MEDIA_TYPES[fmt],
        headers={
            "content-disposition": f'attachment; filename="{report_name(data)}.{fmt}"',
            "cache-control": "no-store",
        },
    )
