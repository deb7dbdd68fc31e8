"""Join names: characters XML forbids and names that render empty are refused (issue 11, defects 3, 12).

A name with U+FFFF (or a C0 control, U+FFFE, a lone surrogate) used to be accepted and
then broke the winners workbook; a name made only of Hangul fillers, the braille blank or
a combining grapheme joiner looked blank on stream and could stand in for anyone. Both
are ``bad_field`` now. Ordinary Vietnamese names, and mixed-script look-alikes (told apart
by the public tag), are still accepted.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest

from quiz_engine.errors import ProtocolError
from quiz_engine.protocol.frames import Join, has_visible, parse_client_frame, parse_profile
from tests.client import Client
from tests.conftest import ServerProc

XML_FORBIDDEN = ["\ud7ff\ue000\uffff", "Lan\uffff", "Lan\ufffe", "a\x00b", "a\x01b", "a\x08b", "a\x0bb", "a\x0cb",
                 "a\x1fb", "Lan\ud800", "Lan\udfff"]
BLANK_LOOKING = ["\u3164", "\u115f", "\u1160", "\uffa0", "\u2800", "\u034f", "\ufffc", "\u3164 \u3164",
                 "\u115f\u1160\u3164\uffa0\u2800\u034f\ufffc", "\u2800 \u034f\u200b", "...", "-_-", "\u3164\u0301"]
ACCEPTED = ["Nguyễn Thị Lan", "Đỗ Minh", "Lan 2", "7", "honest0", "h\u043enest0", "李小龙", "Ánh\u3164",
            unicodedata.normalize("NFD", "Trần Thị Bình")]


def _refusal(frame: dict[str, object]) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        parse_client_frame({"type": "join", **frame})
    assert info.value.code == "bad_field"
    return info.value


@pytest.mark.parametrize("name", XML_FORBIDDEN)
def test_xml_forbidden_characters_refused_in_every_field(name: str) -> None:
    err = _refusal({"name": name})
    assert "'name'" in str(err) and "not allowed" in str(err) and "U+" in str(err)
    for field in ("full_name", "unit"):
        err = _refusal({"name": "Lan", field: f"Ok {name}"})
        assert f"'{field}'" in str(err) and "not allowed" in str(err)


def test_the_reported_name_is_refused_naming_the_character() -> None:
    assert "U+FFFF" in str(_refusal({"name": "\ud7ff\ue000\uffff"}))


@pytest.mark.parametrize("name", BLANK_LOOKING)
def test_names_without_a_visible_letter_or_digit_refused(name: str) -> None:
    assert not has_visible(name)
    err = _refusal({"name": name})
    assert "'name'" in str(err) and ("visible" in str(err) or "empty" in str(err))
    err = _refusal({"name": "Lan", "full_name": name})
    assert "'full_name'" in str(err)


@pytest.mark.parametrize("name", ACCEPTED)
def test_ordinary_and_look_alike_names_accepted(name: str) -> None:
    frame = parse_client_frame({"type": "join", "name": name, "full_name": name, "unit": "Sở Nội vụ"})
    assert isinstance(frame, Join)
    assert frame.profile["name"] == unicodedata.normalize("NFC", name)
    assert frame.profile["full_name"] == unicodedata.normalize("NFC", name)


def test_tab_newline_cr_are_still_stripped_not_refused() -> None:
    # XML allows them, so they keep today's treatment: removed like every control character
    assert parse_profile({"name": "Lan\tHoa\r\nMai"}, ())["name"] == "LanHoaMai"


def test_blank_looking_unit_is_not_a_name_and_stays_allowed() -> None:
    # the visible-letter rule is for what identifies a person (name, full name), not the unit
    assert parse_profile({"name": "Lan", "unit": "-"}, ())["unit"] == "-"


async def test_server_refuses_bad_names_and_accepts_look_alikes(make_server: Callable[..., ServerProc]) -> None:
    server = make_server("--load", "test/ep1")
    c = await Client.connect(f"{server.ws}/ws/viewer")
    await c.expect("snapshot")
    for i, bad in enumerate(["\ud7ff\ue000\uffff", "a\x01b", "\u3164", "\u2800\u2800", "\u034f", "\ufffc",
                             "\u115f \u1160"]):
        await c.send({"type": "join", "name": bad, "ref": f"b{i}"})
        err = await c.expect("error", ref=f"b{i}")
        assert err["code"] == "bad_field" and "'name'" in err["message"], (bad, err)
    await c.send({"type": "join", "name": "Lan", "full_name": "\u3164", "ref": "f"})
    err = await c.expect("error", ref="f")
    assert err["code"] == "bad_field" and "'full_name'" in err["message"]
    # still not joined after the refusals: an answer is refused as not_joined
    await c.send({"type": "answer", "question": 0, "option": 0, "ref": "a"})
    assert (await c.expect("error", ref="a"))["code"] == "not_joined"
    welcome = await c.join("Nguyễn Thị Lan", full_name="Đỗ Minh", unit="Sở Nội vụ")
    assert welcome["profile"]["name"] == "Nguyễn Thị Lan"
    await c.close()
    latin, cyrillic = Client.connect(f"{server.ws}/ws/viewer"), Client.connect(f"{server.ws}/ws/viewer")
    a, b = await latin, await cyrillic
    wa, wb = await a.join("honest0"), await b.join("h\u043enest0")
    assert wa["profile"]["name"] != wb["profile"]["name"] and wa["tag"] != wb["tag"]  # the tag tells them apart
    await a.close()
    await b.close()
