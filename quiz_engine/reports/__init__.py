"""Reports for the organisers: winners, participation, season standings, disputes.

One entry point per output, shared by the CLI and the host API:

- data: :func:`episode_results` (in :mod:`quiz_engine.results`), :func:`season_results`,
  :func:`episode_participation`, :func:`season_participation` — JSON-able dicts;
- output: :func:`render` turns one of those dicts into csv / json / xlsx / html bytes.

Winners reports carry personal data (full name, unit, phone) and are for the host and the
organisers only; participation reports hold only counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import orjson

from quiz_engine.reports.data import episode_participation, public_participation, season_participation
from quiz_engine.reports.season import limit_top, season_results
from quiz_engine.results import results_csv

Format = Literal["csv", "json", "xlsx", "html"]
FORMATS: tuple[Format, ...] = ("csv", "json", "xlsx", "html")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "episode_participation",
    "limit_top",
    "render",
    "report_name",
    "season_participation",
    "season_results",
]


def report_name(data: dict[str, Any]) -> str:
    """A file name stem such as ``results-cchc-2026.tap-1`` or ``participation-season-cchc-2026``."""
    kind = data.get("kind", "results")
    stem = "participation" if "participation" in kind else "results"
    subject = f"season-{data['season']}" if "season" in kind else data["episode"]
    return f"{stem}-{subject}"


def render(data: dict[str, Any], fmt: Format, lang: str = "vi", now: dt.datetime | None = None) -> bytes:
    """One report dict in one format. CSV carries a UTF-8 BOM so Excel shows Vietnamese right."""
    from quiz_engine.reports import html, tables, xlsx

    kind = data.get("kind", "results")
    participation = "participation" in kind
    if fmt == "json":
        return orjson.dumps(public_participation(data) if participation else data, option=orjson.OPT_INDENT_2)
    if fmt == "csv":
        if participation:
            text = tables.participation_csv(data)
        elif kind == "season_results":
            text = tables.season_results_csv(data)
        else:
            text = results_csv(data)
        return text.encode("utf-8-sig")
    if fmt == "xlsx":
        sheets = tables.participation_tables(data, lang) if participation else tables.winners_tables(data, lang)
        return xlsx.workbook_bytes(sheets, title=report_name(data))
    if fmt == "html":
        page = html.participation_html(data, lang, now) if participation else html.winners_html(data, lang, now)
        return page.encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}")
