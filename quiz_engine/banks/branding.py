"""The organiser's look per show: a bank's optional ``[branding]`` table, validated.

    [branding]
    logo = "logo.png"      # an image file beside the bank file, or a data:image/…;base64,… URL
    primary = "#0b3d91"    # the band along the top of every card (panels are derived, darker)
    accent = "#ffc83d"     # question number, option letters, the timer, the join address

A bank file is untrusted input that ends up on air, so nothing in it reaches the overlay as CSS or
HTML text: a colour must be exactly ``#rrggbb`` (stored lower case); the logo must be a PNG, JPEG,
WebP, GIF or SVG image — recognised by its first bytes, not by its name — of at most
:data:`MAX_LOGO_BYTES`, read from beside the bank (no absolute path, no ``..``) or given as a
base64 ``data:`` URL. The overlay gets :meth:`Branding.public`: the colours and the logo as a
``data:`` URL (the overlay's CSP allows ``img-src data:``); it checks both again, sets the colours
as CSS custom properties through the CSSOM and the logo as an ``<img>`` source (an SVG in an
``<img>`` runs no script and loads nothing).

Pure apart from reading the logo file; messages in English and Vietnamese like
:mod:`quiz_engine.banks.messages`.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path, PurePosixPath

from quiz_engine.banks.messages import messages
from quiz_engine.banks.model import Branding

BRANDING_KEYS = ("logo", "primary", "accent")
MAX_LOGO_BYTES = 128 * 1024  # a logo, not a photo: it travels in every overlay snapshot
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
DATA_URL = re.compile(r"data:(image/(?:png|jpeg|webp|gif|svg\+xml));base64,([A-Za-z0-9+/]*={0,2})")
MIME_BY_SUFFIX = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
                  ".gif": "image/gif", ".svg": "image/svg+xml"}

# key -> (English, Vietnamese)
_MESSAGES: dict[str, tuple[str, str]] = {
    "not_table": ("[branding] must be a table with logo, primary and accent",
                  "[branding] phải là một bảng gồm logo, primary và accent"),
    "colour": ('{key} must be a colour written #rrggbb, such as "#0b3d91", not {value}',
               "{key} phải là một mã màu dạng #rrggbb, ví dụ “#0b3d91”, không phải {value}"),
    "logo_not_string": ("logo must be a file name beside the bank or a data:image/…;base64,… URL",
                        "logo phải là tên một tệp ảnh đặt cạnh tệp ngân hàng, hoặc một URL data:image/…;base64,…"),
    "logo_path": ("logo {value} must be a file beside the bank: a relative path without “..”",
                  "logo {value} phải là một tệp đặt cạnh tệp ngân hàng: đường dẫn tương đối, không có “..”"),
    "logo_suffix": ("logo {value} must be a .png, .jpg, .webp, .gif or .svg file",
                    "logo {value} phải là tệp .png, .jpg, .webp, .gif hoặc .svg"),
    "logo_missing": ("logo file {value} not found beside the bank",
                     "không tìm thấy tệp logo {value} cạnh tệp ngân hàng"),
    "logo_unreadable": ("cannot read logo file {value}: {error}", "không đọc được tệp logo {value}: {error}"),
    "logo_data_url": ("a logo data: URL must be data:image/png (or jpeg, webp, gif, svg+xml);base64, then base64",
                      "URL data: của logo phải có dạng data:image/png (hoặc jpeg, webp, gif, svg+xml);base64, rồi đến "
                      "dữ liệu base64"),
    "logo_too_big": ("the logo is {size} KB; at most {limit} KB (a logo, not a photo)",
                     "logo nặng {size} KB; tối đa {limit} KB (chỉ là logo, không phải ảnh chụp)"),
    "logo_not_image": ("the logo is not a {kind} image (its content does not match)",
                       "logo không phải ảnh {kind} (nội dung tệp không khớp)"),
}

Issue = tuple[str, str]  # (field, message)


def _say(lang: str | None, msg: str, /, **params: object) -> str:
    english, vietnamese = _MESSAGES[msg]
    return (vietnamese if lang == "vi" else english).format(**params)


def _shown(value: object, lang: str | None) -> str:
    """A bad value as a message quotes it, cut short (a wrong data: URL can be 100 KB)."""
    text = str(value)
    text = text if len(text) <= 40 else text[:37] + "…"
    return f"“{text}”" if lang == "vi" else repr(text)


def _looks_like(mime: str, data: bytes) -> bool:
    """The image's first bytes match its declared type (an SVG: XML text with an <svg> element)."""
    if mime == "image/png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if mime == "image/jpeg":
        return data.startswith(b"\xff\xd8\xff")
    if mime == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if mime == "image/gif":
        return data[:6] in (b"GIF87a", b"GIF89a")
    try:
        text = data[:4096].decode("utf-8-sig").lstrip()
    except UnicodeDecodeError:
        return False
    return text.startswith("<") and "<svg" in text


def _image(mime: str, data: bytes, lang: str | None, issues: list[Issue]) -> str | None:
    """``data:`` URL of a checked image, or None (an issue added)."""
    if len(data) > MAX_LOGO_BYTES:
        issues.append(("logo", _say(lang, "logo_too_big", size=-(-len(data) // 1024), limit=MAX_LOGO_BYTES // 1024)))
        return None
    if not _looks_like(mime, data):
        issues.append(("logo", _say(lang, "logo_not_image", kind=mime.removeprefix("image/").upper())))
        return None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _logo(value: object, base_dir: Path | None, lang: str | None, issues: list[Issue]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        issues.append(("logo", _say(lang, "logo_not_string")))
        return None
    value = value.strip()
    if value[:5].lower() == "data:":
        match = DATA_URL.fullmatch(value)
        if not match:
            issues.append(("logo", _say(lang, "logo_data_url")))
            return None
        try:
            data = base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            issues.append(("logo", _say(lang, "logo_data_url")))
            return None
        return _image(match.group(1), data, lang, issues)
    relative = PurePosixPath(value.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or ":" in value or base_dir is None:
        issues.append(("logo", _say(lang, "logo_path", value=_shown(value, lang))))
        return None
    mime = MIME_BY_SUFFIX.get(relative.suffix.lower())
    if mime is None:
        issues.append(("logo", _say(lang, "logo_suffix", value=_shown(value, lang))))
        return None
    path = base_dir.joinpath(*relative.parts)
    try:
        size = path.stat().st_size
        if size > MAX_LOGO_BYTES:  # said without reading it
            issues.append(("logo", _say(lang, "logo_too_big", size=-(-size // 1024), limit=MAX_LOGO_BYTES // 1024)))
            return None
        data = path.read_bytes()
    except FileNotFoundError:
        issues.append(("logo", _say(lang, "logo_missing", value=_shown(value, lang))))
        return None
    except OSError as error:
        issues.append(("logo", _say(lang, "logo_unreadable", value=_shown(value, lang), error=error.strerror)))
        return None
    return _image(mime, data, lang, issues)


def parse_branding(raw: object, base_dir: Path | None, lang: str | None = None) -> tuple[Branding | None, list[Issue]]:
    """The bank's ``[branding]`` (None when absent) and every problem in it as (field, message).

    ``base_dir`` is the bank file's folder (None for a bank that is not a file: then a logo must
    be a ``data:`` URL)."""
    if raw is None:
        return None, []
    if not isinstance(raw, dict):
        return None, [("", _say(lang, "not_table"))]
    issues: list[Issue] = []
    T = messages(lang)
    for key in raw:
        if key not in BRANDING_KEYS:
            issues.append((key, T("unknown_key", key=key, allowed=", ".join(BRANDING_KEYS))))
    colours: dict[str, str | None] = {}
    for key in ("primary", "accent"):
        value = raw.get(key)
        if value is None:
            colours[key] = None
        elif isinstance(value, str) and COLOUR.fullmatch(value.strip()):
            colours[key] = value.strip().lower()
        else:
            issues.append((key, _say(lang, "colour", key=key, value=_shown(value, lang))))
    logo = raw.get("logo")
    logo_url = _logo(logo, base_dir, lang, issues) if logo is not None else None
    if issues:
        return None, issues
    return Branding(colours["primary"], colours["accent"], logo.strip() if isinstance(logo, str) else None,
                    logo_url), []


def dump_branding(branding: Branding) -> dict[str, str]:
    """The ``[branding]`` table as written back to a bank file (the logo as it was given)."""
    return {key: value for key in BRANDING_KEYS if (value := getattr(branding, key))}
