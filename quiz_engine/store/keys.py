"""Redis key layout. Every key of one episode carries the hash tag ``{episode}`` so the
scripts, which touch several keys at once, also run on Redis Cluster."""

from __future__ import annotations

from dataclasses import dataclass

SHOW = "qe:show"  # hash: loaded episode, stream delay (the next loaded episode's), one_prize
PLAYERS = "qe:players"  # hash: player id -> profile json
EPISODES = "qe:episodes"  # hash: episode id -> meta json
SECRET = "qe:secret"  # signing key for resume tokens, shared by every node
HOST_TOKEN = "qe:host_token"  # the host token every node accepts
NODES = "qe:nodes"  # hash: node id -> json of role -> connections, plus "expires" (ms)
EVENTS = "qe:events"  # pub/sub channel between nodes
INCIDENTS = "qe:incidents"  # list: Redis outages recorded by nodes, newest first
SOURCES = "qe:sources"  # hash: join source tag -> label (every source any node was started with)
HOST_SESSION = "qe:host_session:"  # + session id: a logged-in host panel (with a TTL)


@dataclass(frozen=True)
class EpisodeKeys:
    episode: str

    def _k(self, name: str) -> str:
        return f"qe:{{{self.episode}}}:{name}"

    @property
    def state(self) -> str:
        """Hash: phase, qidx, next, count, seq, the open question's timing, delay_ms (what the
        next question opens with) and parked (1 while another episode is loaded)."""
        return self._k("state")

    @property
    def qspec(self) -> str:
        return self._k("qspec")

    @property
    def qpub(self) -> str:
        return self._k("qpub")

    @property
    def meta(self) -> str:
        return self._k("meta")

    @property
    def audit(self) -> str:
        return self._k("audit")

    @property
    def voided(self) -> str:
        return self._k("voided")

    @property
    def stats(self) -> str:
        return self._k("stats")

    @property
    def standings(self) -> str:
        """The standings index (zset, sorted by the standings rule: see records.py)."""
        return self._k("standings")

    @property
    def legacy_rank(self) -> str:
        """The rank zset of earlier versions (never read; deleted by a reset)."""
        return self._k("rank")

    @property
    def played(self) -> str:
        """Set: every player with an answer stored in the episode (right or wrong)."""
        return self._k("played")

    @property
    def dq(self) -> str:
        return self._k("dq")

    @property
    def handovers(self) -> str:
        """Hash: '<prize>|<player>' -> json of a prize handed over (claims.py; kept by a reset)."""
        return self._k("handovers")

    def answers(self, q: int) -> str:
        return self._k(f"q{q}:ans")

    def correct(self, q: int) -> str:
        return self._k(f"q{q}:ok")

    def counts(self, q: int) -> str:
        return self._k(f"q{q}:cnt")

    def deliveries(self, q: int) -> str:
        """Delivery allowances of the question's fan-out: player -> 'boot|start|allowance|lead'."""
        return self._k(f"q{q}:dlv")

    def legacy_sent(self, q: int) -> str:
        """First-delivery records of episodes played before the release clock (read by reports)."""
        return self._k(f"q{q}:sent")

    def question_keys(self, q: int) -> list[str]:
        return [self.answers(q), self.correct(q), self.counts(q), self.deliveries(q), self.legacy_sent(q)]
