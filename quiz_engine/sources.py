"""Join sources: one tag per page a show is simulcast on (e.g. three fanpages), carried by the
join link and QR code (``/?src=tag``), stored with the player, counted by the participation
report. Configured as ``TAG=Label`` (``--source``, ``QUIZ_SOURCES``); a tag no one configured
is ignored at join, so a made-up link can neither break joining nor invent a source."""

from __future__ import annotations

import re
from collections.abc import Iterable

TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MAX_LABEL_CHARS = 60


def parse_source(item: str) -> tuple[str, str]:
    """``"vtv=Fanpage VTV"`` -> ``("vtv", "Fanpage VTV")``; ValueError saying what is wrong."""
    tag, sep, label = item.partition("=")
    tag, label = tag.strip(), label.strip()
    if not sep:
        raise ValueError(f"source {item!r} must be TAG=Label, e.g. vtv=Fanpage VTV")
    if not TAG_RE.match(tag):
        raise ValueError(f"source tag {tag!r} must be 1-32 lower-case letters, digits, '-' or '_' "
                         "(it goes in the join link)")
    if not label or len(label) > MAX_LABEL_CHARS:
        raise ValueError(f"source {tag!r} needs a label of 1-{MAX_LABEL_CHARS} characters")
    return tag, label


def source_problem(item: str) -> str | None:
    """The config check of one ``--source`` item."""
    try:
        parse_source(item)
    except ValueError as exc:
        return str(exc)
    return None


def source_map(items: Iterable[str]) -> dict[str, str]:
    """Tag -> label, in the order given (a repeated tag: the last label wins)."""
    return dict(parse_source(item) for item in items)


def known_source(raw: object, sources: dict[str, str]) -> str | None:
    """The join frame's ``src`` if it is a configured tag, else None (unknown tags are dropped)."""
    return raw if isinstance(raw, str) and raw in sources else None
