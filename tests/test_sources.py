"""Join sources (issue 13, item 17): one tag per simulcast page in the join link and its QR code,
kept with the player only when the show lists it, counted per source in the participation report
(JSON, CSV, xlsx and HTML), over a real server, real Redis and real sockets."""

from __future__ import annotations

import io
from collections.abc import Callable

import openpyxl
import pytest

from quiz_engine.config import ConfigError, load
from quiz_engine.sources import known_source, parse_source, source_map
from tests.client import Client
from tests.conftest import ServerProc

SOURCES = ("vtv=Fanpage VTV", "nd=Báo Nhân Dân", "hue=Cổng TTĐT Huế")


@pytest.mark.parametrize(("item", "problem"), [
    ("vtv", "must be TAG=Label"),
    ("VTV=Fanpage", "lower-case"),
    ("a b=Fanpage", "lower-case"),
    ("x" * 33 + "=Fanpage", "1-32"),
    ("vtv=", "needs a label"),
    ("vtv=" + "x" * 61, "needs a label"),
])
def test_a_bad_source_stops_the_server_with_what_is_wrong(item: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_source(item)
    with pytest.raises(ConfigError, match=f"QUIZ_SOURCES: .*{problem}"):
        load({"QUIZ_SOURCES": item})


def test_only_a_listed_tag_is_kept() -> None:
    sources = source_map(SOURCES)
    assert sources == {"vtv": "Fanpage VTV", "nd": "Báo Nhân Dân", "hue": "Cổng TTĐT Huế"}
    assert known_source("nd", sources) == "nd"
    assert known_source("evil", sources) is None
    assert known_source(["nd"], sources) is None
    assert known_source(None, sources) is None


async def test_links_qr_profiles_and_the_participation_report_per_source(
        make_server: Callable[..., ServerProc]) -> None:
    server = make_server("--load", "test/ep1", *[a for s in SOURCES for a in ("--source", s)])
    with server.host() as c:
        info = c.get("/join-info", params={"src": "nd"}).json()
        assert info["url"].endswith("/?src=nd") and info["qr"] == "/qr.svg?src=nd"
        assert c.get("/join-info").json()["url"].endswith("/")
        qr = c.get("/qr.svg", params={"src": "hue"})
        assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
        assert c.get("/qr.svg", params={"src": "hue"}).content != c.get("/qr.svg").content
        unknown = c.get("/qr.svg", params={"src": "<script>"})
        assert unknown.status_code == 404 and "no join source" in unknown.json()["message"]
        assert c.get("/join-info", params={"src": "nope"}).status_code == 404
        listed = c.get("/api/host/state").json()["settings"]["sources"]
        assert [s["tag"] for s in listed] == ["vtv", "nd", "hue"]

    # two from VTV, one from Nhân Dân, one by the plain link, one with a made-up tag (kept as no source)
    plan = [("An", "vtv"), ("Bình", "vtv"), ("Chi", "nd"), ("Dũng", None), ("Én", "made-up")]
    viewers = []
    for name, src in plan:
        v = await Client.connect(f"{server.ws}/ws/viewer")
        await v.join(name, **({"src": src} if src else {}))
        viewers.append(v)
    bad = await Client.connect(f"{server.ws}/ws/viewer")
    await bad.send({"type": "join", "name": "Gấu", "src": "x" * 33})
    assert (await bad.expect("error"))["code"] == "bad_field"
    await bad.close()

    assert server.cmd("open", expect=0).status_code == 200
    for v in viewers[:4]:  # Én does not answer
        q = await v.expect("question", index=0)
        assert (await v.answer(q["index"], 0))["type"] == "ack"
    assert server.cmd("close").status_code == 200

    with server.host() as c:
        rep = c.get("/api/host/reports/participation.json", params={"episode": "test.ep1"}).json()
        rows = {r["src"]: r for r in rep["sources"]}
        assert [r["src"] for r in rep["sources"]] == ["vtv", "nd", "hue", ""]
        assert (rows["vtv"]["label"], rows["vtv"]["players"], rows["vtv"]["answered_one"]) == ("Fanpage VTV", 2, 2)
        assert (rows["nd"]["players"], rows["hue"]["players"]) == (1, 0)  # a listed page nobody came from: 0
        # the plain link and the made-up tag: both reached by the question, one answered
        assert (rows[""]["present"], rows[""]["answered_one"]) == (2, 1)
        csv_text = c.get("/api/host/reports/participation.csv",
                         params={"episode": "test.ep1", "lang": "vi"}).content.decode("utf-8-sig")
        assert "source,test.ep1,nd,Báo Nhân Dân,players,1" in csv_text.splitlines()
        html = c.get("/api/host/reports/participation.html", params={"episode": "test.ep1", "lang": "vi"}).text
        assert "Tham gia theo nguồn (trang phát sóng)" in html and "Cổng TTĐT Huế" in html
        book = openpyxl.load_workbook(io.BytesIO(c.get("/api/host/reports/participation.xlsx",
                                                       params={"episode": "test.ep1"}).content))
        cells = [str(cell.value) for ws in book.worksheets for row in ws.iter_rows() for cell in row if cell.value]
        assert "Fanpage VTV" in cells
    for v in viewers:
        await v.close()
