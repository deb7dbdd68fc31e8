"""One table of close codes: the server's (protocol/codes.py), the pages' (socket.js), the doc's."""

from __future__ import annotations

import re
from pathlib import Path

from quiz_engine.protocol import codes

ROOT = Path(__file__).resolve().parents[1]


def _js_set(name: str) -> set[int]:
    text = (ROOT / "quiz_engine/web/static/js/socket.js").read_text()
    match = re.search(rf"const {name} = new Set\(\[([0-9, ]*)\]\)", text)
    assert match, f"socket.js has no {name} set"
    return {int(c) for c in match.group(1).split(",") if c.strip()}


def test_the_pages_reconnect_exactly_as_the_server_says() -> None:
    assert _js_set("FINAL") == set(codes.FINAL_CODES)
    assert _js_set("PAUSE_CODES") == set(codes.PAUSE_CODES)
    assert not codes.FINAL_CODES & codes.RECONNECT_CODES and not codes.PAUSE_CODES & codes.RECONNECT_CODES


def test_the_protocol_doc_lists_every_close_code_with_its_advice() -> None:
    doc = (ROOT / "docs/protocol.md").read_text()
    table = doc[doc.index("## Close codes"):doc.index("## Error codes")]
    rows = {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d{4}) \|[^|]*\| ([^|]*) \|$", table, re.M)}
    for code in codes.FINAL_CODES:
        assert rows.get(code, "").startswith("no"), code
    for code in codes.RECONNECT_CODES:
        assert "yes" in rows.get(code, ""), code
