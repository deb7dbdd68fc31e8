"""Prize claim codes: what a winner's phone shows and what the prize desk checks. Pure.

A prize is a question's prize (``q3``: the fastest eligible correct responder of question 3)
or the episode's (``episode``: first in the standings). Its claim code is an HMAC of
(episode, prize, player) under the secret every node shares, written as ten Crockford
base-32 characters, ``K7QM2-X9ABC``: short enough to read aloud over a phone line, no
``I``/``L``/``O``/``U`` to mishear, and a mistyped ``o``, ``i`` or ``l`` still reads right.

Nobody can make a code without the secret, and the code is bound to the player: when a prize
passes on (the winner is disqualified, the next reserve moves up), the reserve's code is a
new one and the old holder's stops working. The host's winners view and the exports show
only the **check part** (the last four characters), so a printed list cannot be used to
claim a prize; the desk matches a code read out by a winner with the row it belongs to.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from quiz_engine.game.standings import CorrectAnswer

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
_READ_AS = {"O": "0", "I": "1", "L": "1"}  # what a reader or a keyboard may give for them
CODE_LEN = 10  # 50 bits
CHECK_LEN = 4  # the part the winners lists may show
EPISODE_PRIZE = "episode"


@dataclass(frozen=True)
class Prize:
    """One prize and who holds it now."""

    prize: str  # "q<n>" (1-based) or "episode"
    question: int | None  # 0-based question index, None for the episode prize
    player: str


def question_prize(index: int) -> str:
    return f"q{index + 1}"


def prizes_of(winners: Sequence[Sequence[CorrectAnswer]], episode_winner: str | None) -> list[Prize]:
    """The prizes of an episode from its question winners (``question_winners``: winner first)
    and the player first in its standings; the rules are those functions', not repeated here."""
    out = [Prize(question_prize(i), i, picked[0].player) for i, picked in enumerate(winners) if picked]
    if episode_winner:
        out.append(Prize(EPISODE_PRIZE, None, episode_winner))
    return out


def claim_code(secret: str, episode: str, prize: str, player: str) -> str:
    """The code of ``prize`` of ``episode`` for ``player``, as shown: ``XXXXX-XXXXX``."""
    digest = hmac.new(secret.encode(), f"claim:{episode}:{prize}:{player}".encode(), hashlib.sha256).digest()
    bits = int.from_bytes(digest[:8], "big") >> (64 - 5 * CODE_LEN)
    chars = "".join(ALPHABET[(bits >> (5 * (CODE_LEN - 1 - i))) & 31] for i in range(CODE_LEN))
    return f"{chars[:5]}-{chars[5:]}"


def normalize(text: str) -> str | None:
    """A code as typed, read aloud or scanned -> its ten characters, or None if it cannot be one.
    Spaces and dashes are ignored, case too; ``O`` reads as ``0``, ``I`` and ``L`` as ``1``."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    chars = "".join(_READ_AS.get(c, c) for c in text.upper() if c not in " -\t")
    if len(chars) != CODE_LEN or any(c not in ALPHABET for c in chars):
        return None
    return chars


def check_part(code: str) -> str:
    """The last four characters of a code (shown or bare)."""
    return (normalize(code) or code.replace("-", ""))[-CHECK_LEN:]


def shown_check(code: str) -> str:
    """The check part as lists show it: ``…9ABC``."""
    return "…" + check_part(code)


@dataclass(frozen=True)
class Match:
    prize: Prize  # the prize the code is for, with the player it was made for
    current: bool  # that player holds the prize now


def match(secret: str, episode: str, code: str, prizes: Iterable[Prize],
          former: Iterable[Prize] = ()) -> Match | None:
    """Which prize ``code`` (normalized) is for: a current holder's (``current``), else one of
    ``former`` (a disqualified winner, a reserve whose turn has not come), else None."""
    for current, candidates in ((True, prizes), (False, former)):
        for p in candidates:
            mine = claim_code(secret, episode, p.prize, p.player).replace("-", "")
            if hmac.compare_digest(mine, code):
                return Match(p, current)
    return None
