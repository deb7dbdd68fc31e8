"""Review flags of an episode, read from Redis and computed by :mod:`quiz_engine.game.flags`."""

from __future__ import annotations

from collections.abc import Iterable

from quiz_engine.game.flags import Flag, merge, same_timing, shared_ip, too_fast
from quiz_engine.store.redis_store import Store

SHARED_IP_MIN = 5


async def episode_flags(store: Store, episode: str, candidates: Iterable[str], fast_answer_ms: int = 300,
                        shared_ip_min: int = SHARED_IP_MIN) -> dict[str, list[Flag]]:
    """Flags for ``candidates`` (e.g. winners, reserves, top standings) of one episode."""
    state = await store.state(episode)
    specs = await store.question_specs(episode)
    played = int(state.get("next", 0))
    voided = await store.voided(episode)
    times: dict[str, dict[int, int]] = {}
    correct: dict[str, set[int]] = {}
    for q in range(played):
        if q in voided:
            continue
        for player, (option, response_us, _, _) in (await store.all_answers(episode, q)).items():
            times.setdefault(player, {})[q] = response_us
            if option == specs[q][0]:
                correct.setdefault(player, set()).add(q)
    wanted = set(candidates)
    profiles = await store.all_players() if wanted else {}
    ips = {p: str(prof.get("ip", "")) for p, prof in profiles.items() if p in times}
    flags = merge(
        too_fast({p: times[p] for p in wanted if p in times}, correct, fast_answer_ms * 1000),
        shared_ip(ips, shared_ip_min),
        same_timing(times, [p for p in wanted if p in times]),
    )
    return {p: f for p, f in flags.items() if p in wanted}
