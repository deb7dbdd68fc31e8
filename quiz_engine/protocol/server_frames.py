"""Builders for every frame the server sends (see docs/protocol.md). Pure functions.

Public frames never contain the correct option before the reveal: only ``host_question``
adds it, and only host sockets receive that frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PROTOCOL_VERSION = 1


def episode_info(episode: str, meta: dict[str, Any], count: int, next_index: int) -> dict[str, Any]:
    return {"id": episode, "title": meta.get("title", episode), "count": count, "next": next_index}


def refresh(seq: int) -> dict[str, Any]:
    """Host sockets only: the episode changed without a new phase (skip, re-run, prize rule,
    delay); the panel re-reads ``/api/host/state``."""
    return {"type": "refresh", "seq": seq}


def hello(role: str, now_ms: int, node: str, required: Sequence[str], server: str) -> dict[str, Any]:
    return {"type": "hello", "v": PROTOCOL_VERSION, "role": role, "now": now_ms, "node": node,
            "required": list(required), "server": server}


def lobby(seq: int, episode: dict[str, Any]) -> dict[str, Any]:
    return {"type": "lobby", "seq": seq, "episode": episode}


def question(seq: int, episode: str, index: int, count: int, public: dict[str, Any],
             release_at: int, deadline: int, now_ms: int, opened_at: int) -> dict[str, Any]:
    """``release_at``/``deadline``: the phones' answer window. ``opened_at``/``studio_deadline``:
    the same window in studio time (stream delay earlier), which the overlay counts down."""
    return {
        "type": "question", "seq": seq, "episode": episode, "index": index, "count": count,
        "text": public["text"], "options": public["options"], "time_limit": public["time_limit"],
        "release_at": release_at, "deadline": deadline, "now": now_ms,
        "opened_at": opened_at, "studio_deadline": opened_at + (deadline - release_at),
    }


def host_question(frame: dict[str, Any], correct: int, source: str) -> dict[str, Any]:
    return {**frame, "correct": correct, "source": source}


def waiting(seq: int, index: int, until: int, now_ms: int) -> dict[str, Any]:
    """Viewer only: question ``index`` has opened in the studio and reaches the phones at
    ``until`` (the stream delay): a cue to get ready, with nothing of the question in it."""
    return {"type": "waiting", "seq": seq, "index": index, "until": until, "now": now_ms}


def closed(seq: int, index: int, total: int, now_ms: int, voided: bool) -> dict[str, Any]:
    return {"type": "closed", "seq": seq, "index": index, "answers": total, "voided": voided, "now": now_ms}


def person(name: str, time_us: int | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, **extra}
    if time_us is not None:
        out["time_ms"] = round(time_us / 1000, 1)
    return out


def reveal(seq: int, index: int, correct: int, counts: list[int], total: int,
           fastest: dict[str, Any] | None, voided: bool) -> dict[str, Any]:
    return {"type": "reveal", "seq": seq, "index": index, "correct": correct, "counts": counts,
            "answers": total, "fastest": fastest, "voided": voided}


def leaderboard(seq: int, index: int, top: list[dict[str, Any]], players: int, played: int) -> dict[str, Any]:
    """``players``: ranked (at least one correct answer); ``played``: answered at all."""
    return {"type": "leaderboard", "seq": seq, "index": index, "top": top, "players": players, "played": played}


def finished(seq: int, winner: dict[str, Any] | None, top: list[dict[str, Any]], players: int,
             played: int) -> dict[str, Any]:
    return {"type": "finished", "seq": seq, "winner": winner, "top": top, "players": players, "played": played}


def ack_ok(ref: str | None, index: int, option: int, response_us: int) -> dict[str, Any]:
    return {"type": "ack", "ref": ref, "question": index, "ok": True, "option": option,
            "time_ms": round(response_us / 1000, 1)}


def ack_rejected(ref: str | None, index: int, reason: str, stored_option: int | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "ack", "ref": ref, "question": index, "ok": False, "reason": reason}
    if stored_option is not None and stored_option >= 0:
        frame["option"] = stored_option
    return frame


def error(code: str, message: str, ref: str | None = None) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, "ref": ref}


def pong(t: float | None, now_ms: int) -> dict[str, Any]:
    return {"type": "pong", "t": t, "now": now_ms}


def welcome(player: str, tag: str, token: str, profile: dict[str, Any], resumed: bool) -> dict[str, Any]:
    return {"type": "welcome", "player": player, "tag": tag, "token": token, "profile": profile,
            "resumed": resumed}


def standing(rank: int | None, players: int, correct: int, total_us: int, disqualified: bool) -> dict[str, Any]:
    return {"type": "standing", "rank": rank, "players": players, "correct": correct,
            "time_ms": round(total_us / 1000, 1), "disqualified": disqualified}


def prize(prize: str, index: int | None, code: str, qr_svg: str) -> dict[str, Any]:
    """One prize a phone's player holds: ``prize`` 'q<n>' or 'episode', ``index`` the question
    (0-based, None for the episode prize), the claim code and its QR as inline SVG."""
    return {"prize": prize, "question": index, "code": code, "qr": qr_svg}


def prizes(episode: str, held: list[dict[str, Any]]) -> dict[str, Any]:
    """Viewer only, after the final results: every prize the player holds now (an empty list:
    a prize passed on, its code no longer stands)."""
    return {"type": "prizes", "episode": episode, "prizes": held}
