"""Host control API: plain HTTP JSON, easy to drive from curl or a Stream Deck.

Every state change is a POST. A command that does not fit the phase is refused with
409 and a reason; ``{"expect": N}`` makes a command apply only to question N, so a
double press can never skip a question.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from quiz_engine import prize_desk
from quiz_engine.errors import (
    AuthError,
    NotFound,
    PhaseError,
    ProtocolError,
    QuizError,
    RateLimited,
    RedisUnavailable,
)
from quiz_engine.game.phases import BUTTONS, Command
from quiz_engine.reports.web import report_download, report_response
from quiz_engine.results import episode_results, results_csv
from quiz_engine.runner import Runner
from quiz_engine.tokens import csrf_token, same
from quiz_engine.verify import verify
from quiz_engine.web.security import (
    SESSION_COOKIE,
    Credentials,
    authenticate_host,
    end_session,
    host_session,
    new_session,
    peer,
)

Handler = Callable[[Request, Runner, dict[str, Any]], Awaitable[Any]]


class _Json(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _error(status: int, code: str, message: str) -> Response:
    return _Json({"error": code, "message": message}, status_code=status)


async def json_body(request: Request) -> dict[str, Any]:
    """The JSON object of a POST (bodies are bounded before this by ``bodylimit.BodyLimit``)."""
    try:
        raw = await request.body()
    except ClientDisconnect:
        raise ProtocolError("bad_frame", "the client went away before its request body arrived") from None
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ProtocolError("bad_frame", "request body must be JSON") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_frame", "request body must be a JSON object")
    return data


def endpoint(handler: Handler, mutating: bool) -> Callable[[Request], Awaitable[Response]]:
    async def wrapped(request: Request) -> Response:
        runner: Runner = request.app.state.runner
        try:
            actor = await authenticate_host(request, runner, mutating=mutating)
            body = await json_body(request) if mutating else dict(request.query_params)
            body["_actor"] = actor
            result = await handler(request, runner, body)
        except RateLimited as exc:
            return _error(429, "rate_limited", str(exc))
        except AuthError as exc:
            return _error(401 if "CSRF" not in str(exc) else 403, "auth", str(exc))
        except PhaseError as exc:
            return _Json({"error": "phase", "reason": exc.code, "phase": exc.phase, "command": exc.command,
                          "message": exc.reason}, status_code=409)
        except NotFound as exc:
            return _error(404, "not_found", str(exc))
        except ProtocolError as exc:
            return _error(400, exc.code, str(exc))
        except RedisUnavailable as exc:
            return _error(503, "unavailable", str(exc))
        except QuizError as exc:
            return _error(400, "invalid", str(exc))
        if isinstance(result, Response):
            return result
        return _Json(result)

    return wrapped


def _int(body: dict[str, Any], key: str, default: int = -1) -> int:
    value = body.get(key, default)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError("bad_field", f"'{key}' must be an integer")
    return value


def _str(body: dict[str, Any], key: str, required: bool = True) -> str:
    value = body.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ProtocolError("bad_field", f"'{key}' is required and must be a string")
    return value.strip()


def _command(command: Command) -> Handler:
    async def handler(request: Request, runner: Runner, body: dict[str, Any]) -> Any:
        # "expect" is 0-based; Stream Deck buttons can just omit it
        return await runner.host.command(command, expect=_int(body, "expect"), actor=f"host:{body['_actor']}",
                                    reason=str(body.get("reason", ""))[:200], confirm=str(body.get("confirm", "")))

    return handler


async def _state(request: Request, runner: Runner, body: dict[str, Any]) -> Any:
    return runner.host.host_state()


async def _banks(request: Request, runner: Runner, body: dict[str, Any]) -> Any:
    return {"banks": runner.library.listing(), "loaded": runner.view.episode or None}


async def _load(request: Request, runner: Runner, body: dict[str, Any]) -> Any:
    return await runner.host.load(_str(body, "bank"), _str(body, "episode"))


async def _stats(request: Request, runner: Runner, body: dict[str, Any]) -> Any:
    return await runner.host.live_stats()


async def _settings(request: Request, runner: Runner, body: dict[str, Any]) -> Any:
    delay = body.get("delay_s")
    if delay is not None and (isinstance(delay, bool) or not isinstance(delay, (int, float))):
        raise ProtocolError("bad_field", "'delay_s' must be a number of seconds")
    one_prize = body.get("one_prize")
    if one_prize is not None and not isinstance(one_prize, bool):
        raise ProtocolError("bad_field", "'one_prize' must be true or false")
    return await runner.host.set_settings(delay_s=delay, one_prize=one_prize)


async def _disqualify(request: Request, runner: Runner, body: dict[str, Any]) -> Any:
    reinstate = body.get("reinstate") is True
    reason = "" if reinstate else _str(body, "reason")
    return await runner.host.disqualify(_str(body, "player"), reason[:200], actor=f"host:{body['_actor']}")


def _episode(runner: Runner, body: dict[str, Any]) -> str:
    ep = body.get("episode") or runner.view.episode
    if not ep or not isinstance(ep, str):
        raise NotFound("no episode loaded")
    return ep


async def _results(request: Request, runner: Runner, body: dict[str, Any]) -> Any:
    ep = _episode(runner, body)
    if body.get("format") in ("xlsx", "html"):  # same files as /api/host/reports/results.{xlsx,html}
        return await report_response(runner, f"results.{body['format']}", {**body, "episode": ep})
    results = await episode_results(runner.store, ep, fast_answer_ms=runner.settings.fast_answer_ms)
    if body.get("format") == "csv":
        return Response(results_csv(results).encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="results-{ep}.csv"'})
    return results


async def _verify(request: Request, runner: Runner, body: dict[str, Any]) -> Any:
    ep = _episode(runner, body)
    result = await verify(runner.store, ep)
    return {"episode": ep, "ok": not result.differences, "differences": result.differences, "notes": result.notes}


def _claim(body: dict[str, Any]) -> tuple[str, str | None]:
    code = body.get("code")
    if not isinstance(code, str) or not code.strip():
        raise ProtocolError("bad_field", "'code' is required: the claim code on the winner's phone")
    ep = body.get("episode")
    if ep is not None and (not isinstance(ep, str) or not ep):
        raise ProtocolError("bad_field", "'episode' must be an episode id")
    return code[:64], ep


async def _claim_check(request: Request, runner: Runner, body: dict[str, Any]) -> Any:
    code, ep = _claim(body)
    result = await prize_desk.check(runner.store, code, f"host:{body['_actor']}", episode=ep,
                                    loaded=runner.view.episode or None)
    return _Json(result.as_dict(), status_code=result.status)


async def _claim_handover(request: Request, runner: Runner, body: dict[str, Any]) -> Any:
    code, ep = _claim(body)
    note = body.get("note", "")
    if not isinstance(note, str):
        raise ProtocolError("bad_field", "'note' must be text")
    result = await prize_desk.hand_over(runner.store, code, f"host:{body['_actor']}", episode=ep,
                                        loaded=runner.view.episode or None, note=note.strip())
    return _Json(result.as_dict(), status_code=result.status)


async def login(request: Request) -> Response:
    runner: Runner = request.app.state.runner
    try:
        body = await json_body(request)
    except ProtocolError as exc:
        return _error(400, exc.code, str(exc))
    ip = peer(request)
    await runner.auth_guard.pace(ip)
    token = body.get("token")
    if not isinstance(token, str) or not same(token, runner.host_token):
        if not runner.auth_guard.failed(ip):
            return _error(429, "rate_limited", "too many wrong tokens from your address; wait a minute")
        return _error(401, "auth", "wrong host token")
    try:
        session, csrf = await new_session(runner)
    except RedisUnavailable as exc:
        return _error(503, "unavailable", str(exc))
    response = _Json({"ok": True, "csrf": csrf})
    response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https", max_age=12 * 3600)
    return response


async def session(request: Request) -> Response:
    """The CSRF token of the current session (for a reloaded panel)."""
    runner: Runner = request.app.state.runner
    try:
        current = await host_session(Credentials.of(request), runner)
    except RedisUnavailable as exc:
        return _error(503, "unavailable", str(exc))
    except RateLimited as exc:
        return _error(429, "rate_limited", str(exc))
    if current is None:
        return _error(401, "auth", "not logged in")
    return _Json({"ok": True, "csrf": csrf_token(runner.secret, current)})


async def logout(request: Request) -> Response:
    runner: Runner = request.app.state.runner
    current = request.cookies.get(SESSION_COOKIE, "")
    if current:
        try:
            await end_session(runner, current)
        except RedisUnavailable as exc:
            return _error(503, "unavailable", str(exc))
    response = _Json({"ok": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def routes() -> list[Route]:
    commands = [Route(f"/api/host/{c.value}", endpoint(_command(c), True), methods=["POST"]) for c in BUTTONS]
    return [
        Route("/api/host/login", login, methods=["POST"]),
        Route("/api/host/logout", logout, methods=["POST"]),
        Route("/api/host/session", session, methods=["GET"]),
        Route("/api/host/state", endpoint(_state, False), methods=["GET"]),
        Route("/api/host/banks", endpoint(_banks, False), methods=["GET"]),
        Route("/api/host/stats", endpoint(_stats, False), methods=["GET"]),
        Route("/api/host/results", endpoint(_results, False), methods=["GET"]),
        Route("/api/host/verify", endpoint(_verify, False), methods=["GET"]),
        Route("/api/host/reports/{file}", endpoint(report_download, False), methods=["GET"]),
        Route("/api/host/load", endpoint(_load, True), methods=["POST"]),
        Route("/api/host/settings", endpoint(_settings, True), methods=["POST"]),
        Route("/api/host/disqualify", endpoint(_disqualify, True), methods=["POST"]),
        # the prize desk: POST, like every call that may write (a check audits a refused code)
        Route("/api/host/claims/check", endpoint(_claim_check, True), methods=["POST"]),
        Route("/api/host/claims/handover", endpoint(_claim_handover, True), methods=["POST"]),
        *commands,
    ]
