"""Helpers of the browser tests: Debian's Chromium, the app clock, logging in and out."""

from __future__ import annotations

from datetime import datetime

from app import clock

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-dev-shm-usage"]


def at(value: str) -> None:
    """Set the app clock; the live server shares this process's clock."""
    clock.set_override(datetime.fromisoformat(value))


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-pass-2026")
    page.click("form:not([action$='/logout']) button[type=submit]")
    page.wait_for_url(f"{base}/inbox")


def logout(page) -> None:
    page.click("form[action$='/logout'] button")
