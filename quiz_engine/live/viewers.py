"""The viewer desk: joins and resumes, snapshots, and personal standings.

A player is one id with a signed resume token; one live socket per player on this node (a
newer socket replaces the older one, closed with 4010). A socket joined *now* has no
delivery allowance for a question already being fanned out (``joined_us``), so a late
connect never buys time. Snapshots are the projector's, with the viewer's own answer to the
current question fetched here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from quiz_engine import metrics
from quiz_engine.clock import NodeClock, mono_us
from quiz_engine.errors import AuthError
from quiz_engine.game.phases import Phase
from quiz_engine.hub import Conn, Hub, Role
from quiz_engine.protocol import projector as P
from quiz_engine.protocol import server_frames as F
from quiz_engine.protocol.codes import CLOSE_REPLACED
from quiz_engine.protocol.frames import Join, Resume
from quiz_engine.sources import known_source
from quiz_engine.store.redis_store import Store
from quiz_engine.tokens import check_resume_token, new_player_id, public_tag, resume_token

PROFILE_PUBLIC = ("name", "full_name", "unit", "phone")
STANDINGS_STEP = 2000  # sockets per step of the standings fan-out between yields to the loop


class ViewerDesk:
    def __init__(self, store: Store, hub: Hub, clock: NodeClock, view: Callable[[], P.EpisodeView],
                 settings: Callable[[], dict[str, Any]], delay_ms: Callable[[], int],
                 sources: dict[str, str] | None = None,
                 prizes: Callable[[str], Awaitable[list[dict[str, Any]] | None]] | None = None) -> None:
        self.store = store
        self.hub = hub
        self.clock = clock
        self.view = view
        self.settings = settings  # what a snapshot says of the show (delay, required fields)
        self.delay_ms = delay_ms
        self.sources = sources or {}  # join sources of the show: tag -> label
        self.prizes = prizes  # a player's prizes (claim codes) once the episode is finished
        self.secret = ""  # set at start (shared by every node, from Redis)
        self._players: dict[str, Conn] = {}  # local viewer sockets by player
        self._closing: set[asyncio.Task[None]] = set()

    async def join(self, conn: Conn, frame: Join | Resume) -> dict[str, Any]:
        if isinstance(frame, Resume):
            player = check_resume_token(self.secret, frame.token)
            profile = (await self.store.players([player])).get(player) if player else None
            if player is None or profile is None:
                raise AuthError("resume token is not valid")
            resumed = True
        else:
            player = new_player_id()
            profile = {**frame.profile, "joined_at": self.clock.now_ms(), "ip": conn.ip}
            if src := known_source(frame.src, self.sources):
                profile["src"] = src
            await self.store.add_player(player, profile)
            resumed = False
        metrics.JOINS.labels("resume" if resumed else "join").inc()
        old = self._players.get(player)
        if old is not None and old is not conn:
            task = asyncio.get_running_loop().create_task(old.close(CLOSE_REPLACED, "replaced by a newer connection"))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        self._players[player] = conn
        conn.joined_us = mono_us()  # no allowance for a question whose fan-out already began
        conn.player = player
        public: dict[str, Any] = {k: profile[k] for k in PROFILE_PUBLIC if k in profile}
        return F.welcome(player, public_tag(player), resume_token(self.secret, player), public, resumed)

    def local_players(self) -> list[str]:
        """The players with a socket on this node (whose personal standings this node sends)."""
        return list(self._players)

    def conn_of(self, player: str) -> Conn | None:
        return self._players.get(player)

    def forget(self, conn: Conn) -> None:
        if conn.player and self._players.get(conn.player) is conn:
            del self._players[conn.player]

    async def snapshot(self, conn: Conn) -> dict[str, Any]:
        """Everything a (re)connecting client needs to show the current phase."""
        v = self.view()
        you = None
        if (conn.role is Role.VIEWER and conn.player and v.episode and v.qidx >= 0
                and v.phase in (Phase.QUESTION, Phase.CLOSED, Phase.REVEALED)):
            mine = await self.store.player_answer(v.episode, v.qidx, conn.player)
            you = (mine[0], mine[1]) if mine else None
        prizes = None
        if conn.role is Role.VIEWER and conn.player and self.prizes is not None:
            prizes = await self.prizes(conn.player)
        return P.snapshot(v, conn.role.value, self.clock.now_ms(), self.settings(), delay_ms=self.delay_ms(),
                          player=conn.player if conn.role is Role.VIEWER else None, you=you, prizes=prizes)

    async def send_standings(self) -> None:
        """Each phone its own standing, once results are out (a personal frame per socket)."""
        v = self.view()
        conns = list(self.hub.conns[Role.VIEWER])
        for start in range(0, len(conns), STANDINGS_STEP):
            with self.hub.batched():  # written together, through the fan-out writer
                for conn in conns[start : start + STANDINGS_STEP]:
                    if conn.player:
                        conn.send(P.standing(v, conn.player))
            await asyncio.sleep(0)
