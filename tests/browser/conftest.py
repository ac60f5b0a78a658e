"""Browser tier: Debian's Chromium against the real local run, one of each per session.

The local run is started as its own process with the local stage's environment,
not the test environment the top-level conftest sets for the other tiers.
"""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_TIMEOUT_SECONDS = 60
DESKTOP = {"width": 1280, "height": 900}
# Variables the top-level conftest sets for the moto-in-process tiers; the local
# run must not inherit them or it would use the test tables and stage.
TEST_ONLY_ENV = (
    "M5_STAGE",
    "M5_TABLE_PREFIX",
    "M5_AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL",
    "AWS_SESSION_TOKEN",
    "M5_PORT",
)
QUICK_EXIT_URL = "https://www.knmi.nl/nederland-nu/weer"
QUICK_EXIT_PAGE = "<!DOCTYPE html><html lang='nl'><title>Weer</title><p>Het weer</p>"


@dataclass
class LocalStack:
    base_url: str
    moto_endpoint: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    def dynamodb(self) -> Any:
        return boto3.client(
            "dynamodb",
            endpoint_url=self.moto_endpoint,
            region_name="eu-central-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _wait_until_ready(
    lines: queue.Queue[str | None], seen: list[str], timeout: float
) -> tuple[str, str]:
    base_url = moto = None
    while base_url is None:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if found := re.search(r"Local AWS \(moto\)\s*:\s*(\S+)", line):
            moto = found.group(1)
        if found := re.match(r"READY (\S+)", line):
            base_url = found.group(1)
    if base_url is None or moto is None:
        raise RuntimeError("local run did not start:\n" + "".join(seen))
    return base_url, moto


@contextmanager
def local_run(
    *options: str, timeout: float = READY_TIMEOUT_SECONDS
) -> Iterator[LocalStack]:
    """`python -m local.run` with these options, until the block ends.

    `timeout` bounds the wait for each line of output before it is ready.
    """
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_ENV}
    env.update({"M5_STAGE": "local", "PYTHONUNBUFFERED": "1"})
    process = subprocess.Popen(
        [sys.executable, "-m", "local.run", "--port", str(_free_port()), *options],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )
    lines: queue.Queue[str | None] = queue.Queue()
    # Keep draining the output so the server never blocks on a full pipe.
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        base_url, moto = _wait_until_ready(lines, seen, timeout)
        yield LocalStack(base_url, moto, process, seen)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    with local_run() as started:
        yield started


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class Console:
    """What the page logged; CSP refusals show up here as errors."""

    messages: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m]


@pytest.fixture
def console() -> Console:
    return Console()


def _fulfil_quick_exit(route: Route) -> None:
    route.fulfill(status=200, content_type="text/html", body=QUICK_EXIT_PAGE)


@pytest.fixture
def page(browser: Browser, stack: LocalStack, console: Console) -> Iterator[Page]:
    """A fresh phone-sized tab; the quick-exit site is served locally (no internet)."""
    with new_tab(browser, stack.base_url, console) as tab:
        yield tab


@contextmanager
def new_tab(
    browser: Browser, base_url: str, console: Console, phone: bool = True
) -> Iterator[Page]:
    """A phone-sized (or desktop) tab on `base_url`; fails on a CSP violation."""
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": 390, "height": 844} if phone else DESKTOP,
        is_mobile=phone,
        has_touch=phone,
        locale="nl-NL",
        timezone_id="Europe/Amsterdam",
    )
    context.set_default_timeout(10_000)
    context.route("https://www.knmi.nl/**", _fulfil_quick_exit)
    tab = context.new_page()
    tab.on("console", lambda message: console.messages.append(message.text))
    yield tab
    context.close()
    assert console.csp_violations() == []
