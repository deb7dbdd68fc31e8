"""Spreadsheet cells as the secretariat sees them, and the characters that must not pass.

An importer that reads a date cell shown as ``15/07/2021`` as ``2021-07-15``, or ``0.8`` shown
as ``80%`` as ``0.8``, puts on air something nobody wrote. So a cell is rendered with its own
number format, the way Excel draws it: date and time codes (``dd/mm/yyyy h:mm``), digit
placeholders (``0``, ``#``, ``?``), thousands separators, percent, literal text. The built-in
short date (format 14) and date-time (22) follow the computer's regional settings in Excel;
here they follow the bank's language (``vi``: ``15/07/2021``; ``en``: ``7/15/2021``), and so
do the decimal and thousands separators (``vi``: ``1.234,5``). Anything this module does not
model (scientific notation, fractions) falls back to Excel's General format.

The checks refuse text that looks like something it is not: direction controls that reorder
what is shown (``U+202E``), control characters, and Cyrillic or Greek letters mixed into a
Latin word (``Hа Nội`` with a Cyrillic ``а`` looks like, but is not, ``Ha Nội``). Invisible
zero-width characters are dropped, since the sheet shows nothing there.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from quiz_engine.banks.model import nfc

# Excel's built-in formats whose look depends on the computer's regional settings.
LOCALE_FORMATS: dict[int, dict[str, str]] = {
    14: {"vi": "dd/mm/yyyy", "en": "m/d/yyyy"},
    22: {"vi": "dd/mm/yyyy h:mm", "en": "m/d/yyyy h:mm"},
}

_MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "vi": ["Tháng Một", "Tháng Hai", "Tháng Ba", "Tháng Tư", "Tháng Năm", "Tháng Sáu", "Tháng Bảy", "Tháng Tám",
           "Tháng Chín", "Tháng Mười", "Tháng Mười Một", "Tháng Mười Hai"],
}
_MONTHS_SHORT = {"en": [m[:3] for m in _MONTHS["en"]], "vi": [f"Thg {n}" for n in range(1, 13)]}
_DAYS = {"en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
         "vi": ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]}
_DAYS_SHORT = {"en": [d[:3] for d in _DAYS["en"]], "vi": ["T2", "T3", "T4", "T5", "T6", "T7", "CN"]}
_AM_PM = {"en": ("AM", "PM"), "vi": ("SA", "CH")}

_DT_TOKEN = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.|am/pm|a/p|y+|m+|d+|h+|s+|\.0+|.', re.IGNORECASE | re.DOTALL)
_NUM_TOKEN = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.|.', re.DOTALL)
_ELAPSED = re.compile(r"\[(h+|m+|s+)\]", re.IGNORECASE)


def separators(lang: str) -> tuple[str, str]:
    """(decimal, thousands) separators of ``lang``'s usual regional settings."""
    return (",", ".") if lang == "vi" else (".", ",")


def _sections(fmt: str) -> list[str]:
    """The ``;``-separated sections of a format code (a ``;`` inside quotes is text)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in fmt:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _literal(token: str) -> str | None:
    """The text a literal token draws, or None if the token is not a literal."""
    if token.startswith('"'):
        return token[1:-1]
    if token.startswith("\\"):
        return token[1:]
    if token.startswith("_"):
        return " "  # "_x": a space as wide as x
    if token.startswith("*"):
        return ""  # "*x": repeat x to fill the cell
    if token.startswith("["):
        return ""  # colour, condition or locale: draws nothing
    return None


def general(value: float, lang: str) -> str:
    """A number in Excel's General format (no ``.0`` on whole numbers, 15 significant digits)."""
    decimal, _ = separators(lang)
    if abs(value) >= 1e15:  # Excel shows such numbers in scientific notation
        return f"{value:.6g}".upper().replace("E+", "E+").replace(".", decimal)
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.15g}".replace(".", decimal)


def format_number(value: float, fmt: str, lang: str) -> str:
    """``value`` drawn with the number format ``fmt`` (General for what is not modelled)."""
    if fmt in ("", "General", "@"):
        return general(value, lang)
    sections = _sections(fmt)
    if value < 0 and len(sections) >= 2:
        section, magnitude, sign = sections[1], -value, ""
    elif value == 0 and len(sections) >= 3:
        section, magnitude, sign = sections[2], 0.0, ""
    else:
        section, magnitude, sign = sections[0], abs(value), "-" if value < 0 else ""
    drawn = _number_section(magnitude, section, lang)
    return general(value, lang) if drawn is None else sign + drawn


def _number_section(value: float, section: str, lang: str) -> str | None:
    tokens = _NUM_TOKEN.findall(section)
    codes = [t for t in tokens if _literal(t) is None]
    if any(c in "Ee/@" for c in codes):
        return None  # scientific, fraction or text: not modelled
    if not any(c in "0#?" for c in codes):  # a section of text only, e.g. "zero" for 0
        return "".join(t if (lit := _literal(t)) is None else lit for t in tokens).strip()
    decimal_sep, group_sep = separators(lang)
    value *= 100 ** codes.count("%")
    # split at the decimal point: integer part, fraction part
    point = next((i for i, t in enumerate(tokens) if t == "."), len(tokens))
    int_tokens, frac_tokens = tokens[:point], tokens[point + 1 :]
    int_places = [i for i, t in enumerate(int_tokens) if t in "0#?"]
    grouped = False
    scale = 0
    for i, t in enumerate(int_tokens):
        if t == ",":
            if int_places and int_places[0] < i < int_places[-1]:
                grouped = True
            elif int_places and i > int_places[-1]:
                scale += 1  # "0," shows thousands
    value /= 1000**scale
    decimals = sum(1 for t in frac_tokens if t in "0#?")
    try:
        rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None
    int_digits, _, frac_digits = f"{rounded:f}".partition(".")
    frac_digits = frac_digits.ljust(decimals, "0")
    if int_digits == "0" and "0" not in int_tokens:
        int_digits = ""
    zeros = sum(1 for t in int_tokens if t == "0")
    int_digits = int_digits.zfill(zeros) if int_digits else int_digits

    # integer part: digits fill the placeholders from the right, the leftmost takes the rest
    out_int: list[str] = []
    if grouped:
        body = f"{int(int_digits or 0):,}".replace(",", group_sep) if int_digits else ""
        if int_digits and len(int_digits) > len(body.replace(group_sep, "")):  # keep padding zeros
            body = int_digits
        first, last = int_places[0], int_places[-1]
        around = [*int_tokens[:first], "\0", *int_tokens[last + 1 :]]
        for t in around:
            lit = _literal(t)
            out_int.append(body if t == "\0" else "" if t == "," else t if lit is None else lit)
    else:
        remaining = int_digits
        for i in range(len(int_tokens) - 1, -1, -1):
            t = int_tokens[i]
            if t in "0#?":
                if int_places and i == int_places[0]:
                    piece = remaining or ("0" if t == "0" else " " if t == "?" else "")
                    remaining = ""
                else:
                    piece = remaining[-1:] or ("0" if t == "0" else " " if t == "?" else "")
                    remaining = remaining[:-1]
                out_int.append(piece)
            elif t != ",":
                lit = _literal(t)
                out_int.append(t if lit is None else lit)
        out_int.reverse()
    # fraction part: "0" keeps a trailing zero, "#" drops it, "?" draws a space
    places = [t for t in frac_tokens if t in "0#?"]
    kept = list(frac_digits)
    for j in range(len(places) - 1, -1, -1):
        if kept[j] == "0" and places[j] != "0":
            kept[j] = " " if places[j] == "?" else ""
        else:
            break
    out_frac: list[str] = []
    digit = 0
    for t in frac_tokens:
        if t in "0#?":
            out_frac.append(kept[digit])
            digit += 1
        else:
            lit = _literal(t)
            out_frac.append(t if lit is None else lit)
    point_text = decimal_sep if point < len(tokens) else ""
    return ("".join(out_int) + point_text + "".join(out_frac)).strip()


def date_format(fmt: str, fmt_id: int | None, lang: str) -> str:
    """The format a date cell is really drawn with (built-in 14 and 22 follow the region)."""
    if fmt_id in LOCALE_FORMATS:
        return LOCALE_FORMATS[fmt_id]["vi" if lang == "vi" else "en"]
    return fmt


def format_datetime(value: dt.datetime | dt.date | dt.time | dt.timedelta, fmt: str, lang: str) -> str:
    """A date, time or duration drawn with the date/time format ``fmt``."""
    names = "vi" if lang == "vi" else "en"
    if isinstance(value, dt.timedelta):
        moment = dt.datetime(1899, 12, 30) + value
        elapsed = value.total_seconds()
    elif isinstance(value, dt.datetime):
        moment, elapsed = value, None
    elif isinstance(value, dt.date):
        moment, elapsed = dt.datetime(value.year, value.month, value.day), None
    else:
        moment = dt.datetime(1899, 12, 30, value.hour, value.minute, value.second, value.microsecond)
        elapsed = None
    section = _sections(fmt)[0]
    tokens = _DT_TOKEN.findall(section)
    kinds: list[tuple[str, str]] = []
    for t in tokens:
        low = t.lower()
        elapsed_code = _ELAPSED.fullmatch(t)
        if elapsed_code:
            kinds.append(("elapsed", elapsed_code.group(1).lower()[0]))
        elif (lit := _literal(t)) is not None:
            kinds.append(("lit", lit))
        elif low in ("am/pm", "a/p"):
            kinds.append(("ampm", t))
        elif low[0] in "ymdhs" and low == low[0] * len(low):
            kinds.append((low[0], low))
        elif low.startswith(".0"):
            kinds.append(("frac", t))
        else:
            kinds.append(("lit", t))
    if not any(k in ("y", "m", "d", "h", "s", "elapsed") for k, _ in kinds):
        return moment.date().isoformat() if moment.time() == dt.time() else moment.isoformat(sep=" ")
    codes = [i for i, (k, _) in enumerate(kinds) if k not in ("lit",)]
    twelve = any(k == "ampm" for k, _ in kinds)
    out: list[str] = []
    for pos, (kind, tok) in enumerate(kinds):
        if kind == "lit":
            out.append(tok)
            continue
        n = len(tok)
        if kind == "m":  # minutes after an hour or before a second, else the month
            before = [kinds[i] for i in codes if i < pos]
            after = [kinds[i] for i in codes if i > pos]
            minute = bool(before and before[-1][0] in ("h", "elapsed")) or bool(after and after[0][0] == "s")
            if minute:
                out.append(f"{moment.minute:02d}" if n >= 2 else str(moment.minute))
            elif n == 1:
                out.append(str(moment.month))
            elif n == 2:
                out.append(f"{moment.month:02d}")
            elif n == 3:
                out.append(_MONTHS_SHORT[names][moment.month - 1])
            elif n == 4:
                out.append(_MONTHS[names][moment.month - 1])
            else:
                out.append(_MONTHS["en"][moment.month - 1][0])
        elif kind == "y":
            out.append(f"{moment.year % 100:02d}" if n <= 2 else f"{moment.year:04d}")
        elif kind == "d":
            if n <= 2:
                out.append(f"{moment.day:02d}" if n == 2 else str(moment.day))
            else:
                days = _DAYS_SHORT if n == 3 else _DAYS
                out.append(days[names][moment.weekday()])
        elif kind == "h":
            hour = moment.hour % 12 or 12 if twelve else moment.hour
            out.append(f"{hour:02d}" if n >= 2 else str(hour))
        elif kind == "s":
            out.append(f"{moment.second:02d}" if n >= 2 else str(moment.second))
        elif kind == "frac":
            digits = len(tok) - 1
            out.append("." + f"{moment.microsecond:06d}"[:digits])
        elif kind == "ampm":
            am, pm = _AM_PM[names]
            text = am if moment.hour < 12 else pm
            out.append(text if tok.lower() == "am/pm" else text[0])
        elif kind == "elapsed":
            total = elapsed if elapsed is not None else (moment - dt.datetime(1899, 12, 30)).total_seconds()
            unit = {"h": 3600, "m": 60, "s": 1}[tok]
            out.append(str(int(total // unit)))
    return "".join(out)


def cell_text(value: Any, fmt: str, fmt_id: int | None, lang: str) -> str:
    """A cell's value as the sheet shows it (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta):
        return nfc(format_datetime(value, date_format(fmt or "", fmt_id, lang), lang))
    if isinstance(value, int | float):
        return nfc(format_number(value, fmt or "General", lang))
    return visible(str(value))


# --- characters --------------------------------------------------------------------------------

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))  # zero-width space, word joiner, BOM, soft hyphen
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_WORD = re.compile(r"[^\W\d_]+")
# Cyrillic and Greek letters drawn like a Latin letter (the ones a keyboard or a copy can slip in)
LOOKALIKES: dict[str, str] = {
    **dict(zip("АВЕКМНОРСТХУаеорсхуіјѕԁԛԝ", "ABEKMHOPCTXYaeopcxyijsdqw", strict=True)),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧονκρτυχ", "ABEZHIKMNOPTYXovkptux", strict=True)),
}


def visible(text: str) -> str:
    """NFC text without the invisible characters a sheet does not show."""
    return nfc(text.translate(_INVISIBLE))


def _script(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    if name.startswith("CYRILLIC"):
        return "cyrillic"
    if name.startswith("GREEK"):
        return "greek"
    if name.startswith("LATIN"):
        return "latin"
    return None


def text_problem(text: str) -> tuple[str, dict[str, Any]] | None:
    """The first reason ``text`` must not be imported, as (message key, params), or None."""
    if match := _BIDI.search(text):
        return "bidi_control", {"code": f"U+{ord(match.group()):04X}"}
    if match := _CONTROL.search(text):
        return "control_char", {"code": f"U+{ord(match.group()):04X}"}
    has_latin = any(_script(c) == "latin" for c in text)
    for word in _WORD.findall(text):
        scripts = {_script(c) for c in word}
        foreign = next((c for c in word if _script(c) in ("cyrillic", "greek")), None)
        if foreign is None:
            continue
        if "latin" in scripts or (len(word) == 1 and has_latin and foreign in LOOKALIKES):
            return "mixed_script", {"word": word, "char": foreign, "code": f"U+{ord(foreign):04X}",
                                    "script": _script(foreign) or ""}
    return None


def letter_problem(value: str) -> tuple[str, dict[str, Any]] | None:
    """Why a one-character answer cell that is not A..F looks like one (``А`` Cyrillic), or None."""
    stripped = value.strip()
    if len(stripped) == 1 and stripped.upper() in LOOKALIKES:
        latin = LOOKALIKES[stripped.upper()].upper()
        if latin in "ABCDEF":
            return "lookalike_letter", {"value": stripped, "latin": latin, "code": f"U+{ord(stripped):04X}",
                                        "script": _script(stripped) or ""}
    return None


def answer_letter(value: str) -> str:
    """An answer cell as a letter: full-width ``Ａ`` (an input method's) is the letter A."""
    return unicodedata.normalize("NFKC", value).strip()
