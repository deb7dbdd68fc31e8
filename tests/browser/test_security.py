"""Names are text, never HTML; the pages carry a CSP; the host API refuses requests
without the token, cookie requests without the CSRF header, and cross-site form posts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import FULL_HD, LAPTOP, PHONE, host_login
from tests.conftest import ServerProc

XSS = "<img src=x onerror=alert(1)>"
TAGGED_XSS = re.compile("^" + re.escape(XSS) + r" #[34679ACDEFGHJKMNPQRTUVWXY]{4}$")  # name + public tag


def test_xss_name_is_shown_literally_on_overlay_panel_and_phone(server: ServerProc, open_page: Callable[..., Any],
                                                                bots: Callable[..., Any]) -> None:
    host = open_page(server.base + "/host", LAPTOP, "host")
    host_login(host, server.host_token)
    overlay = open_page(f"{server.base}/overlay?token={server.overlay_token}", FULL_HD, "overlay")
    viewer = open_page(server.base + "/", PHONE, "viewer")
    viewer.fill("#f-name", "Lan")
    viewer.click("#join-submit")
    expect(viewer.locator("#info-title")).to_have_text("Bạn đã sẵn sàng!")
    bots(server.ws, XSS, {0: (1, 0.0)})

    assert server.cmd("open", expect=0).status_code == 200
    expect(host.locator("#st-fastest li").first.locator("b")).to_have_text(XSS)
    assert server.cmd("close", expect=0).status_code == 200
    assert server.cmd("reveal").status_code == 200
    expect(overlay.locator("#fastest-name")).to_have_text(TAGGED_XSS)
    expect(viewer.locator("#r-fastest")).to_contain_text(XSS)
    assert server.cmd("leaderboard").status_code == 200
    expect(overlay.locator("#board li .name").first).to_have_text(TAGGED_XSS)
    expect(viewer.locator("#b-top li .top-name").first).to_contain_text(XSS)
    host.click("#tab-winners")
    expect(host.locator("#w-standings tbody tr").first).to_contain_text(XSS)
    assert server.cmd("finish").status_code == 200
    expect(overlay.locator("#winner-name")).to_have_text(TAGGED_XSS)
    for page in (host, overlay, viewer):
        # the name never became an element (and open_page fails the test on any dialog)
        assert page.locator("img[src=x]").count() == 0


def test_pages_send_a_content_security_policy(server: ServerProc) -> None:
    for path in ("/", "/host", f"/overlay?token={server.overlay_token}"):
        r = httpx.get(server.base + path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'self'" in csp, path
        assert "<script>" not in r.text and " style=" not in r.text, path


def test_host_api_refuses_missing_token_missing_csrf_and_cross_site_posts(server: ServerProc, browser: Any,
                                                                          open_page: Callable[..., Any]) -> None:
    # no token at all
    assert httpx.get(server.base + "/api/host/state").status_code == 401
    assert httpx.post(server.base + "/api/host/open", json={}).status_code == 401
    assert httpx.post(server.base + "/api/host/open", json={},
                      headers={"authorization": "Bearer wrong-token-000000"}).status_code == 401

    # a logged-in panel session: the cookie alone is not enough for a POST
    host = open_page(server.base + "/host", LAPTOP, "host")
    host_login(host, server.host_token)
    r = host.request.post(server.base + "/api/host/open", data="{}", headers={"content-type": "application/json"})
    assert r.status == 403
    assert host.request.get(server.base + "/api/host/state").status == 200  # reads are fine

    # a form on another site posting to the host API with the victim's browser
    host.route("http://evil.example/**", lambda route: route.fulfill(
        content_type="text/html",
        body=f'<form id="f" method="post" action="{server.base}/api/host/open" enctype="text/plain">'
             f'<input name=\'{{"expect":0,"x":"\' value=\'"}}\'><button id="go">go</button></form>'))
    host.goto("http://evil.example/")
    with host.expect_navigation() as nav:
        host.click("#go")
    assert nav.value.status in (401, 403)

    # nothing moved
    with server.host() as c:
        assert c.get("/api/host/state").json()["phase"] == "lobby"
