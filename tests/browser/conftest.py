"""Browser fixtures: Debian's headless Chromium driven by Playwright (sync API).

Chromium is never downloaded: the tests use ``/usr/bin/chromium`` (or ``$QE_CHROMIUM``).
Without it the browser tests are skipped, unless ``QE_REQUIRE_BROWSER=1`` (CI) makes
that a failure. Every page opened through ``open_page`` records console errors, page
errors (uncaught exceptions, CSP violations show up here) and dialogs; a test fails at
teardown if any page had one it did not expect.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
VI_BANK = Path(__file__).parent / "banks" / "vi-demo.toml"
CHROMIUM = os.environ.get("QE_CHROMIUM", "/usr/bin/chromium")
HOST_TOKEN = "test-host-token-123456"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-sync"]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1440, "height": 900}
FULL_HD = {"width": 1920, "height": 1080}

# Console noise that is expected: the panel's "am I logged in?" probe answers 401, and
# the API tests provoke 401/403/409 on purpose.
EXPECTED_CONSOLE = ("status of 401", "status of 403", "status of 409")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _unavailable(reason: str) -> None:
    if os.environ.get("QE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (QE_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium not found at {CHROMIUM} (apt install chromium, or set QE_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


@dataclass
class PageLog:
    name: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """open_page(url, viewport=PHONE, name="viewer") → a Page in its own browser context."""
    contexts: list[Any] = []
    logs: list[PageLog] = []

    def opener(url: str, viewport: dict[str, int] | None = None, name: str = "page",
               background: str | None = None) -> Any:
        ctx = browser.new_context(viewport=viewport or PHONE, locale="vi-VN")
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        page = ctx.new_page()
        log = PageLog(name)
        logs.append(log)
        page.on("pageerror", lambda exc: log.errors.append(f"pageerror: {exc}"))
        page.on("console", lambda msg: log.errors.append(f"console: {msg.text}")
                if msg.type == "error" and not any(s in msg.text for s in EXPECTED_CONSOLE) else None)

        def on_dialog(dialog: Any) -> None:
            log.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(url)
        return page

    yield opener
    for ctx in contexts:
        ctx.close()
    problems = [f"{log.name}: {e}" for log in logs for e in log.errors + log.dialogs]
    assert not problems, "browser problems:\n" + "\n".join(problems)


def shot(page: Any, name: str, *, overlay: bool = False) -> Path:
    """Save docs/screenshots/<name>.png; overlays are shot over a grey camera-like backdrop."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    if overlay:
        page.wait_for_timeout(1300)  # let the scene transition finish (screenshot only, not an assertion)
        # test-only backdrop standing in for the camera shot (via CSSOM: the CSP forbids inline <style>)
        page.evaluate("""for (const el of [document.documentElement, document.body])
            el.style.background = 'radial-gradient(ellipse at 30% 35%, #8d8f93 0%, #5d6066 45%, #3b3d42 100%)'""")
    page.screenshot(path=str(path), animations="disabled")
    return path


def host_login(page: Any, token: str = HOST_TOKEN) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#login")).to_be_visible()
    page.fill("#login-token", token)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#panel")).to_be_visible()
    expect(page.locator("#conn")).to_have_text("Đã kết nối")


class Bot:
    """A scripted viewer over a raw WebSocket (websocket-client), run in a thread."""

    def __init__(self, ws_base: str, name: str, answers: dict[int, tuple[int, float]] | None = None,
                 **profile: str) -> None:
        import websocket

        self.ws = websocket.create_connection(f"{ws_base}/ws/viewer", timeout=20)
        self.answers = answers or {}
        self.frames: list[dict[str, Any]] = []
        self.ws.send(json.dumps({"type": "join", "name": name, **profile}))
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import websocket

        try:
            while True:
                frame = json.loads(self.ws.recv())
                self.frames.append(frame)
                if frame.get("type") == "question" and frame["index"] in self.answers:
                    option, delay = self.answers[frame["index"]]
                    threading.Timer(delay, self._answer, (frame["index"], option)).start()
        except (websocket.WebSocketException, OSError, ValueError):
            return

    def _answer(self, index: int, option: int) -> None:
        import contextlib

        import websocket

        with contextlib.suppress(websocket.WebSocketException, OSError):
            self.ws.send(json.dumps({"type": "answer", "question": index, "option": option}))

    def close(self) -> None:
        import contextlib

        with contextlib.suppress(Exception):
            self.ws.close()


@pytest.fixture
def bots() -> Iterator[Callable[..., Bot]]:
    made: list[Bot] = []

    def make(*args: Any, **kwargs: Any) -> Bot:
        bot = Bot(*args, **kwargs)
        made.append(bot)
        return bot

    yield make
    for bot in made:
        bot.close()
