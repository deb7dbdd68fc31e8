"""Files the server serves or loads that live outside the Python package in the repository.

In the repository ``overlay/`` and ``question_banks/`` are top-level folders; a built wheel
carries them inside the package as ``quiz_engine/overlay`` and ``quiz_engine/demo_banks``
(see pyproject.toml). These functions find them in either layout.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
DEMO_BANK_FILE = "demo-en.toml"


def _either(installed: str, checkout: str) -> Path:
    inside = _PACKAGE / installed
    return inside if inside.is_dir() else _PACKAGE.parent / checkout


def overlay_dir() -> Path:
    """The overlay page's folder."""
    return _either("overlay", "overlay")


def demo_bank() -> Path:
    """The demo bank file that ``serve --demo`` loads when no given bank folder has it."""
    return _either("demo_banks", "question_banks") / DEMO_BANK_FILE
