"""A contest file and a unit roster for tests that run a real server: the contest opened a day
ago (Vietnam time) and stays open for weeks, so the tests never depend on today's date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from quiz_engine.contest.model import ZONE
from tests.conftest import ROOT

BANKS = ROOT / "question_banks"  # the contest draws from the cchc-2026 bank there

ROSTER_CSV = """STT,Mã đơn vị,Đơn vị,Trực thuộc,Số CBCCVC
1,hd-snv,Sở Nội vụ,UBND tỉnh Hải Dương,85
2,tp-tranphu,UBND phường Trần Phú,TP Hải Dương,42
3,ns-anbinh,UBND xã An Bình,Huyện Nam Sách,25
4,kt-anbinh,UBND xã An Bình,Huyện Kim Thành,23
"""


def write_contest(folder: Path, *, questions_per_pool: int = 1, per_question: int = 30, per_attempt: int = 600,
                  attempts: int = 2, reveal: str = "after_attempt", prediction: bool = True,
                  language: str = "vi") -> tuple[Path, Path]:
    """(contest file, roster file) in ``folder``: 4 pools (the bank's 4 episodes), so an attempt
    has ``4 × questions_per_pool`` questions."""
    now = dt.datetime.now(ZONE).replace(microsecond=0)
    opens, closes = now - dt.timedelta(days=1), now + dt.timedelta(days=20)
    pools = "".join(f'\n[[pools]]\nid = "p{i}"\ntitle = "Chủ đề {i}"\nepisodes = ["tap-{i}"]\n'
                    f"draw = {questions_per_pool}\n" for i in range(1, 5))
    text = f"""[contest]
id = "test-online"
title = "Cuộc thi trực tuyến thử nghiệm"
bank = "cchc-2026"
language = "{language}"
opens = {opens.replace(tzinfo=None).isoformat()}
closes = {closes.replace(tzinfo=None).isoformat()}
attempts = {attempts}
counts = "best"
time_per_question = {per_question}
time_per_attempt = {per_attempt}
required = ["full_name", "unit", "phone"]
reveal = "{reveal}"
participation_threshold = 0.5
{pools}"""
    if prediction:
        text += '\n[prediction]\ntext = "Tuần này có bao nhiêu lượt thi trả lời đúng tất cả các câu?"\n'
    contest = folder / "test.contest.toml"
    contest.write_text(text, encoding="utf-8")
    roster = folder / "roster.csv"
    roster.write_text(ROSTER_CSV, encoding="utf-8")
    return contest, roster


def contest_args(folder: Path, **kwargs: Any) -> list[str]:
    """The ``serve`` arguments of a node running that contest (besides the test bank)."""
    contest, roster = write_contest(folder, **kwargs)
    return ["--bank", str(BANKS), "--contest", str(contest), "--roster", str(roster)]
