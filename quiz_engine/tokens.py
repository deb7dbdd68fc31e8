"""Signed tokens: player resume tokens, host sessions and the overlay's display token.

A resume token is ``<player id>.<HMAC>``: any node can check it with the shared secret
in Redis, and nobody can make one for another player's id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def _mac(secret: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def new_player_id() -> str:
    return "p" + secrets.token_hex(6)


# no 0/O, 1/I/L, 5/S, 8/B, 2/Z: a tag read aloud on air or at the prize desk is not misheard
TAG_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
TAG_LENGTH = 4


def public_tag(player: str) -> str:
    """A short public tag that tells two players of the same name and unit apart on air.

    Derived from the player id (a hash of it, not the resume token, so it reveals nothing
    that lets anyone act as the player); 25⁴ ≈ 390,000 values, so two look-alike players
    almost never share one, and a player id is made by the server, so nobody picks theirs.
    """
    n = int.from_bytes(hashlib.sha256(f"tag:{player}".encode()).digest()[:8], "big")
    out = []
    for _ in range(TAG_LENGTH):
        n, r = divmod(n, len(TAG_ALPHABET))
        out.append(TAG_ALPHABET[r])
    return "".join(out)


def resume_token(secret: str, player: str) -> str:
    return f"{player}.{_mac(secret, 'resume', player)}"


def check_resume_token(secret: str, token: str) -> str | None:
    """The player id if ``token`` is genuine, else None."""
    player, _, mac = token.partition(".")
    if not player or not mac:
        return None
    return player if hmac.compare_digest(mac, _mac(secret, "resume", player)) else None


def overlay_token(secret: str) -> str:
    return _mac(secret, "overlay", "display")[:16]


def csrf_token(secret: str, session: str) -> str:
    return _mac(secret, "csrf", session)


def same(a: str, b: str) -> bool:
    """Constant-time comparison for secrets."""
    return hmac.compare_digest(a.encode(), b.encode())


def contest_token(secret: str, contest: str, person: str) -> str:
    """An online contest participant's token: ``<person>.<HMAC>``, bound to the contest."""
    return f"{person}.{_mac(secret, 'contest:' + contest, person)}"


def check_contest_token(secret: str, contest: str, token: str) -> str | None:
    person, _, mac = token.partition(".")
    if not person or not mac:
        return None
    return person if hmac.compare_digest(mac, _mac(secret, "contest:" + contest, person)) else None
