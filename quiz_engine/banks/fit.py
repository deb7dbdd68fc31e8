"""Will a question fit the overlay's lower third? An estimate from character widths. Pure.

The overlay (``overlay/overlay.css`` and ``overlay.js``) shows a question as a lower third: a
card at the bottom of the title-safe area (y 54..1026 of 1080) that must not reach above 55 % of
the picture, :data:`BOX_HEIGHT` px in all. When a question is long the overlay shrinks its text
(``--fit``) down to :data:`FIT_MIN` of the normal sizes (the question's 46 px to 32 px); the
options' text follows but never goes below :data:`FIT_OPTIONS` (32 px to 24 px, readable on a
TV). This module lays the card out the same way at that smallest size — the question wrapped word
by word beside the timer, the options in 2 columns (3 for 3, 5 or 6 options) — with the advance
widths of the overlay's font, Be Vietnam Pro ExtraBold (measured in Chromium; a Vietnamese letter
is as wide as its base letter), and says whether it fits. It never says less than Chromium lays
out (tests/browser/test_overlay_layout.py measures every question of the shipped banks against
it); it says a few px more on average. Bank validation turns a "no" into a warning: such a
question is still shown, but higher on the picture, over the host (up to the top of title-safe;
past that its text is cut short on the overlay, never made smaller: the phones show all of it).

The numbers below are overlay.css's, at 1920×1080: change them together.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# the overlay's box and its smallest text
BOX_HEIGHT = 1026 - 594  # title-safe bottom minus the lower third's highest top (55 % of 1080)
FIT_MIN = 0.7  # overlay.js FIT_MIN: the question's text
FIT_OPTIONS = 0.75  # overlay.js FIT_OPTIONS: the options' smallest scale
SAFETY = 1.03  # widths a little wider than measured: wrapping, kerning, text-wrap: pretty

# .q-panel and its parts (px at --fit 1; "scaled" ones shrink with the question's text (--fit),
# "option-scaled" ones with the options' (--fit-o))
PANEL_WIDTH = 1728 - 2  # title-safe width, inside the 1 px border
PANEL_BORDERS = 2
HEAD_HEIGHT = 60
TEXT_SIZE, TEXT_LINE = 46, 1.2  # scaled
TEXT_MARGIN_TOP = 14  # scaled
TEXT_MARGIN_LEFT = 32
RING_BLOCK = 12 + 120  # margin-top + the ring
RING_WIDTH = 24 + 120 + 28  # margins + the ring
OPTIONS_MARGIN_TOP = 16  # scaled
OPTIONS_MARGIN_BOTTOM = 24
OPTIONS_SIDES = 32 + 28
OPTION_COL_GAP = 16
OPTION_ROW_GAP = 12  # option-scaled
OPTION_MIN_HEIGHT = 68  # option-scaled
OPTION_BORDERS = 2 + 2
OPTION_PAD_Y = 8 + 8  # option-scaled
OPTION_PAD_LEFT = 9  # option-scaled
OPTION_PAD_RIGHT = 18
OPTION_GAPS = 16 + 16  # option-scaled: letter | text | percentage
OPTION_LETTER = 50  # option-scaled
OPTION_PCT = 3.1 * 30  # option-scaled: 3.1em of 30 px, kept free for "100%" shown at the reveal
OPTION_SIZE, OPTION_LINE = 32, 1.2  # option-scaled

# advance widths in 1/1000 em of Be Vietnam Pro 800, for " " (32) .. "~" (126)
_ASCII_WIDTHS = (
    230, 361, 416, 858, 651, 878, 770, 237, 458, 458, 519, 666, 361, 606, 352, 553, 708, 446, 669, 687,
    723, 689, 706, 599, 679, 706, 352, 361, 579, 761, 579, 637, 1023, 780, 721, 781, 758, 649, 647, 793,
    740, 301, 499, 728, 650, 900, 754, 829, 690, 828, 726, 677, 698, 742, 758, 1074, 786, 736, 669, 519,
    546, 519, 629, 747, 317, 663, 673, 635, 673, 624, 416, 665, 617, 306, 310, 613, 299, 897, 607, 663,
    673, 673, 441, 546, 441, 596, 600, 888, 624, 601, 527, 498, 443, 498, 498,
)
_WIDTHS = {chr(32 + i): w for i, w in enumerate(_ASCII_WIDTHS)}
_WIDTHS.update({"đ": 692, "Đ": 783, "–": 711, "—": 869, "…": 908, "“": 469, "”": 473, "‘": 253, "’": 239})
_OTHER = 750  # any other character: a wide letter's width


def char_width(ch: str) -> int:
    """Advance width of one character in 1/1000 em (a Vietnamese letter: its base letter's)."""
    if ch in _WIDTHS:
        return _WIDTHS[ch]
    base = unicodedata.normalize("NFD", ch)[:1]
    return _WIDTHS.get(base, _OTHER)


def text_width(text: str) -> float:
    """Width of ``text`` in em."""
    return sum(char_width(ch) for ch in text) / 1000 * SAFETY


def wrapped_lines(text: str, width_em: float) -> int:
    """How many lines ``text`` takes in a box ``width_em`` wide: greedy, at spaces, and inside a
    word only when the word alone is wider than the box (CSS ``overflow-wrap: anywhere``)."""
    space = char_width(" ") / 1000 * SAFETY
    lines, used = 0, 0.0
    for word in " ".join(text.split()).split(" "):
        w = text_width(word)
        if lines and used + space + w <= width_em:
            used += space + w
            continue
        lines += 1  # a new line, which the word may overrun
        while w > width_em:
            lines += 1
            w -= width_em
        used = w
    return max(lines, 1)


def columns(n_options: int) -> int:
    """The overlay's option columns: 3 for 3, 5 or 6 options (two rows at most), else 2."""
    return 3 if n_options in (3, 5, 6) else 2


@dataclass(frozen=True)
class Estimate:
    """The question card at one text scale: how tall, and how its text wraps."""

    height: int
    text_lines: int
    option_lines: tuple[int, ...]

    @property
    def fits(self) -> bool:
        return self.height <= BOX_HEIGHT


def option_scale(scale: float) -> float:
    """The options' scale (``--fit-o``) at the question's text scale (``--fit``), as overlay.js."""
    return max(scale, FIT_OPTIONS)


def estimate(text: str, options: Sequence[str], scale: float = FIT_MIN) -> Estimate:
    """The card's height (px) for a question and its options at text scale ``scale``."""
    s, so = scale, option_scale(scale)
    size = TEXT_SIZE * s
    text_box = PANEL_WIDTH - TEXT_MARGIN_LEFT - RING_WIDTH
    text_lines = wrapped_lines(text, text_box / size)
    text_block = max(TEXT_MARGIN_TOP * s + text_lines * size * TEXT_LINE, RING_BLOCK)

    cols = columns(len(options))
    col_width = (PANEL_WIDTH - OPTIONS_SIDES - OPTION_COL_GAP * (cols - 1)) / cols
    option_box = (col_width - OPTION_BORDERS - OPTION_PAD_RIGHT
                  - (OPTION_PAD_LEFT + OPTION_GAPS + OPTION_LETTER + OPTION_PCT) * so)
    osize = OPTION_SIZE * so
    option_lines = tuple(wrapped_lines(o, option_box / osize) for o in options)
    heights = [max(OPTION_MIN_HEIGHT * so,
                   OPTION_BORDERS + OPTION_PAD_Y * so + max(OPTION_LETTER * so, n * osize * OPTION_LINE))
               for n in option_lines]
    rows = [max(heights[i : i + cols]) for i in range(0, len(heights), cols)]
    options_block = (OPTIONS_MARGIN_TOP * s + sum(rows) + OPTION_ROW_GAP * so * (len(rows) - 1)
                     + OPTIONS_MARGIN_BOTTOM)

    height = PANEL_BORDERS + HEAD_HEIGHT + text_block + options_block
    return Estimate(math.ceil(height), text_lines, option_lines)


_WARNING = (
    "too long for the overlay's lower third: at the smallest text size it needs about {height} px of the "
    "{box} px the card may take (the question takes {lines} lines, the longest option {option_lines}), so it "
    "will be shown higher on the picture, over the host (and cut short if even that is not enough); "
    "shorten the question or its options",
    "quá dài so với khung phụ đề (lower third) của overlay: ở cỡ chữ nhỏ nhất vẫn cần khoảng {height} px trong "
    "{box} px cho phép (câu hỏi chiếm {lines} dòng, đáp án dài nhất {option_lines} dòng), nên sẽ hiện cao hơn trên "
    "khung hình, che người dẫn (và bị cắt bớt nếu vẫn không đủ chỗ); hãy rút gọn câu hỏi hoặc các đáp án",
)


def fit_warning(text: str, options: Sequence[str], lang: str | None = None) -> str | None:
    """The warning for a question that does not fit the lower third at :data:`FIT_MIN`, or None."""
    est = estimate(text, options)
    if est.fits:
        return None
    template = _WARNING[1] if lang == "vi" else _WARNING[0]
    return template.format(height=est.height, box=BOX_HEIGHT, lines=est.text_lines,
                           option_lines=max(est.option_lines, default=1))
