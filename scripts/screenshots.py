"""Screenshots of the main pages, as a person sees them on a phone (390 px) and a laptop (1280 px), in English and
Arabic: ``make screenshots`` writes them to build/screenshots/ (not kept in git), for a look at the whole product.

Run by ``make screenshots`` through scripts/demo_idp.py, on a database of its own with the demo loaded: it serves
the app on PORT, commits once per language (for the thank-you page) and signs in as the demo's Acme admin through
the demo identity provider (for the portal's dashboard).
"""

from __future__ import annotations

import os
import shutil
import sys
import logging
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "screenshots"
WIDTHS = {"phone": (390, 844), "laptop": (1280, 800)}
LANGUAGES = ("en", "ar")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _serve(port: int):
    sys.path.insert(0, str(ROOT))
    from core.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per screenshot, not per request
    server = make_server("127.0.0.1", port, create_app(), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _shoot(tab, name: str, language: str, width: str) -> None:
    tab.wait_for_load_state("networkidle") if "map" in name else tab.wait_for_load_state("load")
    path = OUT / f"{name}-{language}-{width}.png"
    tab.screenshot(path=str(path), full_page=True)
    print(f"  {path.relative_to(ROOT)}")


def main() -> int:
    port = int(os.environ.get("PORT", "5090"))
    world, acme = f"http://localhost:{port}", f"http://acme.localhost:{port}"
    server = _serve(port)
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            for width, (wide, high) in WIDTHS.items():
                for language in LANGUAGES:
                    context = browser.new_context(viewport={"width": wide, "height": high})
                    tab = context.new_page()
                    for name, address in (("global", f"{world}/"), ("global-map", f"{world}/map"),
                                          ("signup", f"{acme}/"), ("map", f"{acme}/map"), ("kits", f"{acme}/kits"),
                                          ("kit", f"{acme}/kits/equal-pay-conversation")):
                        tab.goto(f"{address}?lang={language}")
                        _shoot(tab, name, language, width)
                    tab.goto(f"{acme}/?lang={language}")
                    if tab.locator(".other-way > summary").count():  # the email form, behind single sign-on
                        tab.locator(".other-way > summary").click()
                    tab.locator("input[name=email]").fill(f"screenshots-{width}-{language}@example.org")
                    tab.locator("input[name=gender][value=man]").check()
                    tab.locator("select[name=country]").select_option("KE")
                    tab.locator("input[name=consent]").check()
                    tab.locator("button[type=submit]").click()
                    _shoot(tab, "thank-you", language, width)
                    if _sign_in(tab, acme):
                        tab.goto(f"{acme}/portal/dashboard?lang={language}")
                        _shoot(tab, "portal-dashboard", language, width)
                    context.close()
            browser.close()
    finally:
        server.shutdown()
    return 0


def _sign_in(tab, acme: str) -> bool:
    """Sign in as the demo's Acme admin through the demo identity provider (False without one: no Node)."""
    tab.goto(f"{acme}/sso/login")
    if tab.locator("input[name=username]").count() == 0:
        print("  (no demo identity provider: the portal is left out)")
        return False
    tab.locator("input[name=username]").fill("alex")
    tab.locator("input[name=password]").fill("heforshe-demo")
    tab.locator("button[type=submit]").click()
    tab.wait_for_url(f"{acme}/**")
    return True


if __name__ == "__main__":
    sys.exit(main())
