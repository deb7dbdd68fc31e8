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

Format = Literal["csv", "json", "xlsx", "html"]
FORMATS: tuple[Format, ...] = ("csv", "json", "xlsx", "html")
LAYOUTS = ("long", "wide")  # participation CSV: tidy rows, or one row per player
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}

__all__ = [
    "FORMATS",
    "LAYOUTS",
    "MEDIA_TYPES",
    "episode_participation",
    "limit_top",
    "render",
    "report_lang",
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


def report_lang(data: dict[str, Any], lang: str | None = None) -> str:
    """The language of a report: ``lang`` if given, else the bank's, else Vietnamese."""
    if lang in ("vi", "en"):
        return str(lang)
    return "en" if data.get("language") == "en" else "vi"


def render(data: dict[str, Any], fmt: Format, lang: str | None = None, now: dt.datetime | None = None,
           layout: str = "long") -> bytes:
    """One report dict in one format, its labels in ``lang`` (default: the bank's language).

    CSV carries a UTF-8 BOM so Excel shows Vietnamese right; ``layout="wide"`` makes the
    participation CSV one row per player. XLSX sheets are printable lists (title and
    signature blocks).
    """
    from quiz_engine.reports import html, tables, xlsx

    lang = report_lang(data, lang)
    kind = data.get("kind", "results")
    participation = "participation" in kind
    if fmt == "json":
        return orjson.dumps(public_participation(data) if participation else data, option=orjson.OPT_INDENT_2)
    if fmt == "csv":
        if participation:
            text = tables.participation_wide_csv(data, lang) if layout == "wide" else tables.participation_csv(data)
        elif kind == "season_results":
            text = tables.season_results_csv(data, lang)
        else:
            text = tables.results_csv(data, lang)
        return text.encode("utf-8-sig")
    if fmt == "xlsx":
        sheets = tables.participation_tables(data, lang) if participation else tables.winners_tables(data, lang)
        return xlsx.workbook_bytes(sheets, title=report_name(data), heading=tables.report_heading(data, lang, now))
    if fmt == "html":
        page = html.participation_html(data, lang, now) if participation else html.winners_html(data, lang, now)
        return page.encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}")
