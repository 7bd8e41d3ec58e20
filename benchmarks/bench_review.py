"""Benchmark of the desk's review queue: the whole demo round settled in a real browser.

    make demo                                   # the demo round: 141 pages scanned, items left for review
    .venv/bin/python benchmarks/bench_review.py [--demo demo-output]

A copy of the demo workspace is served by ``ducha serve``; Chromium, driven
by Playwright, settles every open item kind by kind as a clerk who reads
each crop right would, using the simulation's truth for what the paper
says. It prints:

- key presses per settled item, by kind (targets: at most 2 on average for
  ticks and signatures; for an amount at most the characters typed plus 1);
- the server's time per action (settle or undo), as the browser measures it
  from sending the request to the first byte of the answer, p50 and p95
  (target: p95 under 100 ms), and the route's own share (Server-Timing);
- the wall time for the whole queue with no human in it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from desk_fixtures import DeskServer  # the test suite's live server, reused
from desk_review_clerk import KINDS, Settled, settle_grid
from playwright.sync_api import Request, sync_playwright

from ducha.db.migrate import upgrade_to_head
from ducha.workspace import copy_workspace, open_workspace

ROUND = "2015-08"
CHROMIUM = "/usr/bin/chromium"
CLERK = "复核员"
CLERK_PASSWORD = "bench-review-2015"
TARGET_KEYS_TICKS_SIGNATURES = 2.0
TARGET_P95_MS = 100.0
ACTION_PATHS = ("/settle", "/undo")
PAGE_TIMEOUT_MS = 180_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    index = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(index), math.ceil(index)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (index - lo)


def load_truth(demo: Path) -> dict[tuple[str, int], dict[str, Any]]:
    data = json.loads((demo / "returned" / "ground_truth.json").read_text(encoding="utf-8"))
    return {(p["form_id"], p["sheet_page"]): p for f in data["files"] for p in f["pages"]}


def report(settled: list[Settled], server_ms: list[float], route_ms: list[float], wall_s: float) -> bool:
    by_kind: dict[str, list[Settled]] = defaultdict(list)
    for item in settled:
        by_kind["conflict" if item.conflict else item.kind].append(item)
    print(f"\n{len(settled)} items settled in {wall_s:.1f} s wall time ({wall_s / max(len(settled), 1) * 1000:.0f} ms an item, "
          "machine side only: page loads, key presses, requests)")
    print(f"{'kind':<10} {'items':>6} {'keys/item':>10} {'guess right':>12} {'target':>24}")
    ok = True
    for kind in KINDS:
        items = by_kind.get(kind, [])
        if not items:
            print(f"{kind:<10} {0:>6}")
            continue
        keys = sum(len(i.keys) for i in items) / len(items)
        right = sum(i.keys == ["Enter"] for i in items)
        if kind == "amount":
            over = [i for i in items if len(i.keys) > len(i.typed) + 1]
            bound = sum(len(i.typed) + 1 for i in items) / len(items)
            target = f"<= chars+1 ({bound:.2f}); {len(over)} over"
            ok &= not over
        elif kind in ("tick", "signature"):
            target = f"<= {TARGET_KEYS_TICKS_SIGNATURES:g}"
            ok &= keys <= TARGET_KEYS_TICKS_SIGNATURES
        else:
            target = "-"
        print(f"{kind:<10} {len(items):>6} {keys:>10.2f} {right:>12} {target:>24}")
    p50, p95 = percentile(server_ms, 50), percentile(server_ms, 95)
    print(f"server time per action (browser: request sent -> first byte), {len(server_ms)} actions: "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(server_ms, default=math.nan):.1f} ms (target p95 < {TARGET_P95_MS:g} ms)")
    print(f"  of which the route itself (Server-Timing): p50 {percentile(route_ms, 50):.1f} ms, "
          f"p95 {percentile(route_ms, 95):.1f} ms")
    ok &= p95 < TARGET_P95_MS
    print("targets met" if ok else "TARGETS MISSED")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", type=Path, default=REPO / "demo-output", help="the output folder of make demo")
    parser.add_argument("--headed", action="store_true", help="show the browser")
    args = parser.parse_args()
    source = args.demo / "ducha-data"
    if not (source / "config.json").exists() or not (args.demo / "returned" / "ground_truth.json").exists():
        print(f"找不到示例工作区 {source}，请先运行 make demo", file=sys.stderr)
        return 1
    truth = load_truth(args.demo)
    # The scan files are named relative to the repository, as ``make demo`` scanned them.
    os.chdir(REPO)
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        ws = copy_workspace(open_workspace(str(source), None), Path(tmp) / "ducha-data")
        upgrade_to_head(ws.db_url)
        server = DeskServer(ws)
        server.add_user(CLERK, "admin", CLERK_PASSWORD)
        server.start()
        actions: list[Request] = []
        server_ms: list[float] = []
        route_ms: list[float] = []

        def collect(request: Request) -> None:
            if request.method == "POST" and request.url.endswith(ACTION_PATHS):
                actions.append(request)

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=not args.headed)
                page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
                # Sign-in (argon2) and first page loads can take long on a shared, loaded machine.
                page.set_default_timeout(PAGE_TIMEOUT_MS)
                page.on("requestfinished", collect)
                page.goto(server.url + "/login")
                page.fill("input[name=name]", CLERK)
                page.fill("input[name=password]", CLERK_PASSWORD)
                page.press("input[name=password]", "Enter")
                page.wait_for_url(server.url + "/")
                started = time.perf_counter()
                settled: list[Settled] = []
                for kind in KINDS:
                    settled += settle_grid(page, server.url, ROUND, kind, truth)
                wall = time.perf_counter() - started
                for request in actions:
                    server_ms.append(request.timing["responseStart"] - request.timing["requestStart"])
                    response = request.response()
                    header = response.headers.get("server-timing", "") if response else ""
                    if "dur=" in header:
                        route_ms.append(float(header.split("dur=")[1].split(";")[0]))
                browser.close()
        finally:
            server.stop()
    return 0 if report(settled, server_ms, route_ms, wall) else 1


if __name__ == "__main__":
    sys.exit(main())
