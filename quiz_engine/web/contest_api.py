"""The online contest's HTTP API and pages (docs/contest.md, "API"): a second mode of the same
server, on the same store, banks and security layers.

Participants: ``/contest`` (the page), ``/api/contest/…`` (JSON; after entry every call carries
``Authorization: Bearer <token>``). Every call that may write is a POST, so a link prefetcher
never delivers a question. The organiser's overview sits behind the host token
(``/api/host/contest/…``). What a refusal looks like: ``{"error": code, "reason": …,
"message": …}`` with 400 (a field), 401 (no or a forged token), 403 (not yours), 404, 409
(the attempt or round says no), 429 (too many), 503 (Redis down).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import segno
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from quiz_engine.banks.model import Bank
from quiz_engine.config import Settings
from quiz_engine.contest import report
from quiz_engine.contest.desk import ContestDesk, Question
from quiz_engine.contest.draw import unpack
from quiz_engine.contest.loader import load_contest
from quiz_engine.contest.model import ZONE, Contest, Reveal
from quiz_engine.contest.ranking import rank_round, unit_lines
from quiz_engine.contest.roster import Roster, read_roster
from quiz_engine.contest.verify import verify
from quiz_engine.errors import (
    AttemptRefused,
    AuthError,
    ConfigError,
    EntryError,
    NotFound,
    ProtocolError,
    RedisUnavailable,
)
from quiz_engine.library import BankLibrary
from quiz_engine.limits import PerIp
from quiz_engine.store.contest import GRACE_MS, round_of
from quiz_engine.tokens import check_contest_token, contest_token
from quiz_engine.web import host_api
from quiz_engine.web.security import peer

STATIC_DIR = Path(__file__).parent / "static"
UNITS_SHOWN = 20
PUBLIC_TOP = 50
LOOKALIKES_SHOWN = 500  # the newest; the total is given too
_RENDER = asyncio.Lock()  # one report rendered at a time (matplotlib, openpyxl): the API stays responsive


@dataclass
class ContestFiles:
    contest: Contest
    bank: Bank
    roster: Roster


def load_files(settings: Settings, library: BankLibrary) -> ContestFiles | None:
    """The contest and roster a node was started with (checked at start: a bad file stops the
    node with every problem listed, before anyone can enter)."""
    if settings.contest is None:
        if settings.roster is not None:
            raise ConfigError("--roster is the online contest's: give --contest too")
        return None
    if settings.roster is None:
        raise ConfigError("--contest needs --roster: participants pick their unit from it")
    contest = load_contest(settings.contest, library.bank)
    return ContestFiles(contest, library.bank(contest.bank), read_roster(settings.roster, contest.language))


class ContestService:
    """What the routes use: the desk, the secret for tokens, and per-address limits."""

    def __init__(self, files: ContestFiles, desk: ContestDesk, secret: str) -> None:
        self.files, self.desk, self.secret = files, desk, secret
        # per address: generous, because a whole office enters at 8:00 from one NAT address
        self.enter_limit = PerIp(rate=5, burst=200)
        self.call_limit = PerIp(rate=100, burst=300)
        # per participant: a person answering questions needs about one request a second
        self.person_limit = PerIp(rate=5, burst=40)
        self.overviews: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}  # round -> (version, overview)
        self.overview_lock = asyncio.Lock()

    @property
    def contest(self) -> Contest:
        return self.files.contest


def _json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


def _error(status: int, code: str, message: str, **extra: Any) -> Response:
    return _json({"error": code, "message": message, **extra}, status)


def _whole(body: dict[str, Any], key: str, required: bool = True) -> int | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError("bad_field", f"'{key}' must be a whole number")
    return value


Handler = Callable[[Request, ContestService, dict[str, Any], str | None], Awaitable[Any]]


def _route(handler: Handler, *, write: bool, person: bool) -> Callable[[Request], Awaitable[Response]]:
    async def wrapped(request: Request) -> Response:
        service: ContestService | None = getattr(request.app.state, "contest", None)
        if service is None:
            return _error(404, "not_found", "this server runs no online contest")
        if not service.call_limit.take(peer(request)):
            return _error(429, "rate_limited", "too many requests; wait a moment")
        try:
            who = _person(request, service) if person else None
            if who is not None and not service.person_limit.take(who):
                return _error(429, "rate_limited", "too many requests from this participant; wait a moment")
            body = await host_api.json_body(request) if write else dict(request.query_params)
            result = await handler(request, service, body, who)
        except AuthError as exc:
            return _error(401, "auth", str(exc))
        except EntryError as exc:
            return _error(400, "entry", str(exc), field=exc.field, reason=exc.reason)
        except AttemptRefused as exc:
            return _error(409, "refused", str(exc), reason=exc.reason, attempt=exc.attempt or None)
        except ProtocolError as exc:
            return _error(400, exc.code, str(exc))
        except RedisUnavailable as exc:
            return _error(503, "unavailable", str(exc))
        return result if isinstance(result, Response) else _json(result)

    return wrapped


def _person(request: Request, service: ContestService) -> str:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    person = check_contest_token(service.secret, service.contest.id, token) if token else None
    if person is None:
        raise AuthError("enter the contest first (no or a wrong participant token)")
    return person


def _mine(aid: str, person: str | None) -> None:
    parts = aid.split(":")
    if len(parts) != 3 or parts[1] != person:
        raise AttemptRefused("not_yours", "this attempt is not yours")


def _local(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, ZONE).isoformat()


# --- participants ---------------------------------------------------------------------------------
async def info(request: Request, s: ContestService, body: dict[str, Any], who: str | None) -> Any:
    now = await s.desk.store.now_ms()
    current = s.contest.round_at(dt.datetime.fromtimestamp(now / 1000, ZONE))
    c = s.contest
    return {**c.to_dict(), "now": now, "round": current.id if current else None, "units": len(s.files.roster.units),
            "language": c.language, "grace_ms": GRACE_MS,
            "prediction_max": c.prediction.max_value if c.prediction else None}


async def units(request: Request, s: ContestService, body: dict[str, Any], who: str | None) -> Any:
    """The unit picker's search (``q``), or one unit by its ``code`` (a unit's own link or QR code)."""
    code = str(body.get("code", ""))[:80]
    if code:
        unit = s.files.roster.unit(code)
        return {"units": [{**unit.to_dict(), "label": unit.label}] if unit else []}
    query = str(body.get("q", ""))[:80]
    return {"units": [{**u.to_dict(), "label": u.label} for u in s.files.roster.search(query, UNITS_SHOWN)]}


def contest_link(request: Request, unit: str = "") -> str:
    """The participants' link (the public URL, else this request's), with ``?unit=CODE`` for a unit's own."""
    settings: Settings = request.app.state.settings
    base = (settings.public_url or f"{request.url.scheme}://{request.url.netloc}").rstrip("/")
    return f"{base}/contest?unit={quote(unit)}" if unit else f"{base}/contest"


def _qr_svg(url: str, scale: int = 8) -> str:
    buf = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buf, kind="svg", scale=scale, border=2, dark="#111111",
                                                  light="#ffffff", xmldecl=False)
    return buf.getvalue().decode()


async def qr_code(request: Request) -> Response:
    """The QR code of the contest's link, or of one unit's (``?unit=CODE``: its page opens with the unit
    chosen) — for the banner on every unit's portal (the Hải Dương circular)."""
    service: ContestService | None = getattr(request.app.state, "contest", None)
    if service is None:
        return _error(404, "not_found", "this server runs no online contest")
    unit = request.query_params.get("unit", "")
    if unit and service.files.roster.unit(unit) is None:
        return _error(404, "not_found", f"no unit {unit[:40]!r} in the roster")
    return Response(_qr_svg(contest_link(request, unit)), media_type="image/svg+xml",
                    headers={"cache-control": "no-cache"})


async def qr_sheet(request: Request, runner: Any, body: dict[str, Any]) -> Response:
    """Every unit's link and QR code on printable A4 pages (organiser: one per unit's notice board or portal)."""
    s = _service(request)
    lang = str(body.get("lang") or s.contest.language)
    title = "Mã QR dự thi của từng đơn vị" if lang == "vi" else "Each unit's entry QR code"
    cards = []
    for u in s.files.roster.units:
        link = contest_link(request, u.code)
        cards.append(f'<div class="qr"><div class="code">{_qr_svg(link, 4)}</div><b>{escape(u.name)}</b>'
                     f'<span>{escape(u.parent)}</span><a href="{escape(link)}">{escape(link)}</a></div>')
    page = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title><style>'
            "@page{size:A4;margin:12mm}body{font-family:'Noto Sans','DejaVu Sans',Arial,sans-serif;margin:0}"
            "h1{font-size:14pt}h2{font-size:11pt;font-weight:400;color:#4a5568}"
            ".grid{display:grid;grid-template-columns:repeat(3,1fr);gap:6mm}"
            ".qr{border:1px solid #cbd5e0;border-radius:3mm;padding:3mm;text-align:center;break-inside:avoid;"
            "font-size:9pt}.qr svg{width:38mm;height:38mm}.qr b,.qr span,.qr a{display:block}"
            ".qr span{color:#4a5568}.qr a{font-size:7pt;word-break:break-all;color:#1a365d}"
            f"</style></head><body><h1>{escape(s.contest.title)}</h1><h2>{escape(title)}</h2>"
            f'<div class="grid">{"".join(cards)}</div></body></html>')
    return Response(page.encode(), media_type="text/html; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{s.contest.id}-qr.html"',
                             "cache-control": "no-store"})


async def enter(request: Request, s: ContestService, body: dict[str, Any], who: str | None) -> Any:
    if not s.enter_limit.take(peer(request)):
        return _error(429, "rate_limited", "too many entries from this address; wait a minute")
    fields = {k: v for k, v in body.items() if isinstance(k, str)}
    person, entry, new = await s.desk.enter(fields)
    unit = s.files.roster.unit(entry["unit"])
    return {"token": contest_token(s.secret, s.contest.id, person), "person": person, "new": new,
            "profile": {**entry, "unit_label": unit.label if unit else entry["unit"]}}


async def me(request: Request, s: ContestService, body: dict[str, Any], who: str | None) -> Any:
    assert who is not None
    store, c = s.desk.store, s.contest
    profile = await store.person(who)
    if profile is None:
        raise AuthError("unknown participant")
    now = await store.now_ms()
    current = c.round_at(dt.datetime.fromtimestamp(now / 1000, ZONE))
    tries = await store.tries(current.id, who) if current else 0
    mine = [f for r in c.rounds for f in await store.finished(r.id) if f.person == who] if c.rounds else []
    unit = s.files.roster.unit(str(profile.get("unit", "")))
    profile = {**profile, "unit_label": unit.label if unit else profile.get("unit", "")}
    return {"person": who, "profile": profile, "now": now, "round": current.id if current else None,
            "tries": tries, "attempts_left": max(0, c.attempts_per_round - tries) if current else 0,
            "open_attempt": await store.open_attempt(who),
            "results": [{"attempt": f.attempt, "round": round_of(f.attempt), "correct": f.correct,
                         "questions": c.questions_per_attempt, "time_ms": f.time_ms, "finished_at": f.finished_ms}
                        for f in sorted(mine, key=lambda f: f.finished_ms)]}


async def start(request: Request, s: ContestService, body: dict[str, Any], who: str | None) -> Any:
    assert who is not None
    prediction = _whole(body, "prediction", required=False)
    if s.contest.prediction is not None and prediction is None:
        raise ProtocolError("bad_field", "'prediction' is required in this contest")
    started = await s.desk.start(who, prediction if s.contest.prediction is not None else None)
    return {"attempt": started.attempt, "started_at": started.started_ms, "deadline": started.deadline_ms}


async def next_question(request: Request, s: ContestService, body: dict[str, Any], who: str | None) -> Any:
    aid = request.path_params["aid"]
    _mine(aid, who)
    got = await s.desk.question(aid)
    now = await s.desk.store.now_ms()
    if isinstance(got, Question):
        return {"question": got.to_dict(), "now": now}
    if got.outcome == "unknown":
        return _error(404, "not_found", "no such attempt")
    return {"done": {"correct": got.correct, "questions": s.contest.questions_per_attempt, "time_ms": got.time_ms,
                     "finished_at": got.finished_ms, "why": got.why, "review": _review_open(s, aid, now)},
            "now": now}


async def answer(request: Request, s: ContestService, body: dict[str, Any], who: str | None) -> Any:
    aid = request.path_params["aid"]
    _mine(aid, who)
    index, option = _whole(body, "index"), _whole(body, "option")
    assert index is not None and option is not None
    if not 0 <= option < 6:
        raise ProtocolError("bad_field", "'option' is the place of an option: 0 to 5")
    got = await s.desk.answer(aid, index, option)
    if got.outcome == "unknown":
        return _error(404, "not_found", "no such attempt")
    if got.outcome == "refused":  # the correctness of an answer is never told during the attempt
        return _error(409, "refused", f"answer refused: {got.reason}", reason=got.reason, current=got.next_index)
    return {"ok": True, "index": got.index, "time_ms": got.time_ms, "next": got.next_index, "finished": got.finished}


def _review_open(s: ContestService, aid: str, now_ms: int) -> bool:
    c = s.contest
    if c.reveal is Reveal.AFTER_ATTEMPT:
        return True
    if c.reveal is Reveal.AFTER_ROUND:
        r = c.round(round_of(aid))
        return r is not None and now_ms >= r.closes.timestamp() * 1000
    return False


async def review(request: Request, s: ContestService, body: dict[str, Any], who: str | None) -> Any:
    """A finished attempt's questions with the participant's and the correct answers, when the
    contest allows it (after the attempt, after the round, never)."""
    aid = request.path_params["aid"]
    _mine(aid, who)
    attempt = await s.desk.store.attempt(aid)
    if not attempt:
        return _error(404, "not_found", "no such attempt")
    if attempt.get("st") != "done":
        raise AttemptRefused("in_progress", "the attempt is not finished", aid)
    now = await s.desk.store.now_ms()
    if not _review_open(s, aid, now):
        raise AttemptRefused("not_yet", "the answers are shown once the round closes" if
                             s.contest.reveal is Reveal.AFTER_ROUND else "this contest does not show the answers")
    drawn = unpack(attempt["draw"], s.files.bank)
    given = [part.split(":") for part in attempt.get("ans", "").split(";") if part]
    out = []
    for item, (option, ms) in zip(drawn.items, given, strict=False):
        q = s.files.bank.question(item.question)
        out.append({"text": q.text, "options": [q.options[i] for i in item.order], "correct": item.answer,
                    "chosen": int(option), "time_ms": int(ms), "source": q.source})
    return {"attempt": aid, "questions": out}


async def public_results(request: Request, s: ContestService, body: dict[str, Any], who: str | None) -> Any:
    """The public results of a closed round: the top, and the units' participation. No phone,
    no e-mail: a name, a unit, a score."""
    c = s.contest
    round_id = str(body.get("round") or "")
    r = c.round(round_id) if round_id else None
    if r is None:
        raise ProtocolError("bad_field", "'round' is one of: " + ", ".join(x.id for x in c.rounds))
    now = await s.desk.store.now_ms()
    if now < r.closes.timestamp() * 1000:
        raise AttemptRefused("not_yet", "the round's results are published when it closes")
    results = await s.desk.results(r.id)
    people = await s.desk.store.people()
    real = report.actual(c, r.id, results, dt.datetime.fromtimestamp(now / 1000, ZONE))
    ranked = rank_round(results, c.counts, real)
    roster = s.files.roster
    top = []
    for line in ranked[:PUBLIC_TOP]:
        profile = people.get(line.result.person, {})
        unit = roster.unit(profile.get("unit", ""))
        top.append({"rank": line.rank, "name": profile.get("full_name", "?"), "unit": unit.label if unit else "",
                    "correct": line.result.correct, "time_ms": line.result.time_ms})
    lines = unit_lines(roster.units, results, c.counts, c.participation_threshold)
    return {"round": {"id": r.id, "title": r.title, "opens": r.opens.isoformat(), "closes": r.closes.isoformat()},
            "top": top, "participants": len({x.person for x in results}), "prediction_count": real,
            "units": [{"unit": x.unit.label, "name": x.unit.name, "parent": x.unit.parent,
                       "participants": x.participants, "headcount": x.unit.headcount,
                       "rate": round(x.rate, 4)} for x in sorted(lines, key=lambda x: -x.rate)]}


# --- the organiser (behind the host token) ------------------------------------------------------------
def _service(request: Request) -> ContestService:
    service: ContestService | None = getattr(request.app.state, "contest", None)
    if service is None:
        raise NotFound("this server runs no online contest")
    return service


def _round_for(s: ContestService, body: dict[str, Any], now_ms: int) -> str:
    """The asked round, else the open one, else the last one that has opened (the first before any)."""
    c = s.contest
    asked = str(body.get("round") or "")
    if asked:
        if c.round(asked) is None:
            raise ProtocolError("bad_field", "'round' is one of: " + ", ".join(r.id for r in c.rounds))
        return asked
    opened = [r for r in c.rounds if r.opens.timestamp() * 1000 <= now_ms]
    return opened[-1].id if opened else c.rounds[0].id


async def _weekly(s: ContestService, round_id: str, people: dict[str, dict[str, Any]] | None = None) -> report.Weekly:
    c = s.contest
    ids = [x.id for x in c.rounds]
    results = {r: await s.desk.results(r) for r in ids[: ids.index(round_id) + 1]}  # for the overall ranking too
    return report.weekly(c, s.files.roster, results, people if people is not None else await s.desk.store.people(),
                         round_id)


async def overview(request: Request, runner: Any, body: dict[str, Any]) -> Any:
    """The organiser's page: counts, the round's units and winners, the look-alikes to review.
    Rebuilt only when something it shows has changed (``ContestStore.version``, one round trip)
    or the day has: however many organiser tabs refresh, the people list is read once per change."""
    s = _service(request)
    now = await s.desk.store.now_ms()
    round_id = _round_for(s, body, now)
    day = dt.datetime.fromtimestamp(now / 1000, ZONE).date().isoformat()
    async with s.overview_lock:
        version = (*await s.desk.store.version(round_id), day)
        cached = s.overviews.get(round_id)
        if cached is not None and cached[0] == version:
            return {**cached[1], "now": now}
        built = await _overview(s, round_id, now)
        s.overviews[round_id] = (version, built)
        return built


async def _overview(s: ContestService, round_id: str, now: int) -> dict[str, Any]:
    store = s.desk.store
    people = await store.people()
    w = await _weekly(s, round_id, people)
    counts = await store.counts()
    today = dt.datetime.fromtimestamp(now / 1000, ZONE).date().isoformat()
    roster = s.files.roster
    pairs = await store.lookalikes()

    def who(pid: str) -> dict[str, Any]:
        p = people.get(pid, {})
        unit = roster.unit(str(p.get("unit", "")))
        return {"person": pid, "full_name": p.get("full_name", "?"), "unit": unit.label if unit else p.get("unit"),
                "unit_code": p.get("unit", ""), "phone": p.get("phone", ""), "staff_id": p.get("staff_id", ""),
                "email": p.get("email", "")}

    return {
        "contest": s.contest.to_dict(), "now": now, "round": round_id,
        "threshold": s.contest.participation_threshold,
        "counts": {**counts, "today": counts["days"].get(today, 0), "finished_in_round": w.attempts,
                   "participants_in_round": w.people, "perfect_in_round": w.perfect,
                   "headcount": roster.headcount, "overall_rate": round(w.overall, 4)},
        "units": [{"code": u.code, "name": u.name, "parent": u.parent, "headcount": u.headcount,
                   "participants": u.participants, "rate": round(u.rate, 4),
                   "previous": None if u.previous is None else round(u.previous, 4), "under": u.under, "over": u.over,
                   "average": round(u.average, 2)}
                  for u in w.units],
        "winners": [{"rank": x.rank, "person": x.person, "full_name": x.name, "unit": x.unit, "phone": x.phone,
                     "correct": x.correct, "time_ms": x.time_ms} for x in w.winners],
        "overall": [{"rank": x.rank, "person": x.person, "full_name": x.name, "unit": x.unit, "phone": x.phone,
                     "correct": x.correct, "time_ms": x.time_ms} for x in w.standings],
        "lookalikes": [{"a": who(a), "b": who(b), "reason": reason, "at": ms}
                       for a, b, reason, ms in pairs[-LOOKALIKES_SHOWN:]],
        "lookalikes_total": len(pairs),
        "downloads": {fmt: f"/api/host/contest/report.{fmt}?round={round_id}" for fmt in ("xlsx", "html")},
    }


async def report_file(request: Request, runner: Any, body: dict[str, Any]) -> Response:
    """The weekly per-unit report as a download: xlsx (a sheet per list) or printable HTML."""
    s = _service(request)
    fmt = request.path_params["fmt"]
    if fmt not in ("xlsx", "html"):
        raise NotFound("the report is report.xlsx or report.html")
    lang = str(body.get("lang") or s.contest.language)
    if lang not in ("vi", "en"):
        raise ProtocolError("bad_field", "'lang' must be vi or en")
    round_id = _round_for(s, body, await s.desk.store.now_ms())
    w = await _weekly(s, round_id)
    async with _RENDER:
        if fmt == "xlsx":
            data = await asyncio.to_thread(report.xlsx, w, lang)
        else:
            data = (await asyncio.to_thread(report.html, w, lang)).encode()
    media = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx"
             else "text/html; charset=utf-8")
    name = f"{s.contest.id}-{round_id}-tham-gia.{fmt}"
    return Response(data, media_type=media, headers={"content-disposition": f'attachment; filename="{name}"',
                                                     "cache-control": "no-store"})


async def contest_verify(request: Request, runner: Any, body: dict[str, Any]) -> Any:
    """Every draw, answer and score recomputed from the audit alone, against what Redis holds."""
    s = _service(request)
    store = s.desk.store
    audit = await store.audit()
    stored = {r.id: await store.finished(r.id) for r in s.contest.rounds}
    return verify(s.contest, s.files.bank, s.secret, audit, stored).to_dict()


def _contest_file(name: str, always: bool = False) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request) -> Response:
        if not always and getattr(request.app.state, "contest", None) is None:
            return JSONResponse({"error": "not_found", "message": "this server runs no online contest"}, 404)
        path = STATIC_DIR / name
        if not path.is_file():
            return JSONResponse({"error": "not_found", "message": "page not installed"}, 404)
        return FileResponse(path, headers={"cache-control": "no-cache"})

    return page


contest_page = _contest_file("contest.html")
results_page = _contest_file("contest-results.html")  # the public results of the closed rounds
# the organiser's page (its API is behind the host token; it says itself when there is no contest)
admin_page = _contest_file("contest-admin.html", always=True)


def routes() -> list[Route]:
    return [
        Route("/contest", contest_page),
        Route("/contest/admin", admin_page),
        Route("/contest/results", results_page),
        Route("/contest/qr.svg", qr_code),
        Route("/api/contest", _route(info, write=False, person=False), methods=["GET"]),
        Route("/api/contest/units", _route(units, write=False, person=False), methods=["GET"]),
        Route("/api/contest/results", _route(public_results, write=False, person=False), methods=["GET"]),
        Route("/api/contest/enter", _route(enter, write=True, person=False), methods=["POST"]),
        Route("/api/contest/me", _route(me, write=False, person=True), methods=["GET"]),
        Route("/api/contest/start", _route(start, write=True, person=True), methods=["POST"]),
        Route("/api/contest/attempts/{aid}/next", _route(next_question, write=True, person=True), methods=["POST"]),
        Route("/api/contest/attempts/{aid}/answer", _route(answer, write=True, person=True), methods=["POST"]),
        Route("/api/contest/attempts/{aid}/review", _route(review, write=False, person=True), methods=["GET"]),
        Route("/api/host/contest/overview", host_api.endpoint(overview, False), methods=["GET"]),
        Route("/api/host/contest/report.{fmt}", host_api.endpoint(report_file, False), methods=["GET"]),
        Route("/api/host/contest/verify", host_api.endpoint(contest_verify, False), methods=["GET"]),
        Route("/api/host/contest/qr-sheet.html", host_api.endpoint(qr_sheet, False), methods=["GET"]),
    ]
