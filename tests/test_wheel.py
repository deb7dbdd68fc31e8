"""Issue 11, deployment: the built wheel, installed non-editable in a fresh venv and run from
an empty folder, serves every page and every asset the pages load, and ``serve --demo`` works."""

from __future__ import annotations

import re
import signal
import site
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from quiz_engine.redis_server import free_port
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

ASSET = re.compile(r"""(?:src|href)="(/[^"]+)"|url\(["']?([^"')]+)["']?\)|(?:import|from)\s*["'](\.{1,2}/[^"']+)["']""")


def _assets(url: str, text: str) -> set[str]:
    found = set()
    for match in ASSET.finditer(text):
        ref = next(g for g in match.groups() if g)
        absolute = urljoin(url, ref).split("?", 1)[0]
        if "/static/" in absolute or "/overlay-assets/" in absolute:  # not API links (downloads)
            found.add(absolute)
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel; its dependencies come from the test venv's
    site-packages through a .pth line (installing them again would download them)."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(tmp / "dist"), str(ROOT)], check=True, timeout=300, capture_output=True)
    wheel = next((tmp / "dist").glob("quiz_engine-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", purelib, str(wheel)],
                   check=True, timeout=300, capture_output=True)
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "zz_test_deps.pth").write_text("\n".join(deps) + "\n")
    where = subprocess.run([str(python), "-c", "import quiz_engine; print(quiz_engine.__file__)"], cwd=tmp,
                           check=True, capture_output=True, text=True).stdout.strip()
    assert where.startswith(purelib), f"quiz_engine imported from {where}, not the installed wheel"
    return python


def test_the_installed_wheel_serves_every_page_and_asset(installed: Path, fresh_redis: str,
                                                         tmp_path: Path) -> None:
    port = free_port()
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(installed), "-m", "quiz_engine", "serve", "--demo", "--port", str(port),
                                 "--redis-url", fresh_redis, "--host-token", "wheel-test-token-123"],
                                cwd=empty, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        token = re.search(r"overlay\?token=(\S+)", log.read_text())
        assert token, log.read_text()
        seen: set[str] = set()
        todo = [f"{base}/", f"{base}/host", f"{base}/overlay?token={token.group(1)}"]
        while todo:
            url = todo.pop()
            r = httpx.get(url, timeout=5)
            assert r.status_code == 200, f"{url}: {r.status_code} {r.text[:100]}"
            seen.add(url.split("?", 1)[0])
            if r.headers["content-type"].startswith(("text/html", "text/css", "text/javascript",
                                                     "application/javascript")):
                todo += [a for a in _assets(url, r.text) if a not in seen and a not in todo]
        for must in ("/overlay-assets/overlay.js", "/overlay-assets/overlay.css", "/static/host.js",
                     "/static/viewer.js", "/static/i18n/vi.js", "/static/fonts/fonts.css"):
            assert f"{base}{must}" in seen, sorted(seen)
        assert any(u.endswith(".woff2") for u in seen)
        state = httpx.get(f"{base}/api/host/state", headers={"Authorization": "Bearer wheel-test-token-123"})
        assert state.status_code == 200
        assert "demo" in state.text  # the packaged demo bank's episode is loaded
        assert not (empty / "question_banks").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
