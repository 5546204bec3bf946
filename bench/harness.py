"""The benchmark harness: builds its own data, times the whole report against a bare decode+forward pass of
the same data in the same run, and prints a table per N (stage seconds and shares, peak RSS, page bytes, open time).

    .venv/bin/python bench/harness.py --n 2000 10000          # add 60000 for the large run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
MEASURE = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)")


def timed(cmd: list[str], env=None) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB of the command and its workers)."""
    start = time.perf_counter()
    done = subprocess.run([PY, "-c", MEASURE, *cmd], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return wall, int(done.stderr.strip().splitlines()[-1]) / 1024


def page_open_seconds(html: Path) -> float:
    """Navigation start to the report script's ready flag, in real headless Chromium."""
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(html.as_uri(), timeout=120_000)
        page.wait_for_selector("body[data-ready=true]", timeout=120_000)
        seconds = page.evaluate("performance.now()") / 1000
        browser.close()
    return seconds


def prepare(root: Path, n: int) -> None:
    if not (root / "model.pt2").exists():
        subprocess.run([PY, str(HERE / "make_data.py"), str(root), "--n", str(n)], check=True)


def bench(n: int, workdir: Path, workers: int, extra: list[str], cold_cache: bool, page: bool = True) -> dict:
    root = workdir / f"n{n}"
    prepare(root, n)
    bare_wall, bare_rss = timed([PY, str(HERE / "bare_pass.py"), str(root / "model.pt2"), str(root / "data"),
                                 str(workers)])
    env = dict(os.environ)
    if cold_cache:
        env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-cold-")
    out = root / "report.html"
    wall, rss = timed([PY, "-m", "reportgen", str(root / "model.pt2"), str(root / "data"), "-o", str(out), "-q",
                       "--workers", str(workers), *extra], env=env)
    report = json.loads(out.with_suffix(".json").read_text())
    size = out.stat().st_size
    return {"n": report["n_samples"], "bare": bare_wall, "bare_rss": bare_rss, "wall": wall, "rss": rss,
            "timings": report["timings"], "background": report.get("background_seconds", {}),
            "sections": report["section_seconds"], "waits": report.get("section_wait_seconds", {}), "bytes": size,
            "open": page_open_seconds(out) if page else None}


def bench_rounds(n: int, args) -> dict:
    """`args.repeat` rounds back to back; the median round by ratio, with every round's ratio attached."""
    rounds = [bench(n, args.workdir, args.workers, args.extra, cold_cache=False, page=False)
              for _ in range(args.repeat - 1)]
    rounds.append(bench(n, args.workdir, args.workers, args.extra, cold_cache=False))
    opened = rounds[-1]["open"]
    rounds.sort(key=lambda r: r["wall"] / r["bare"])
    median = dict(rounds[len(rounds) // 2], open=opened)
    median["ratios"] = [r["wall"] / r["bare"] for r in rounds]
    return median


def print_table(row: dict, label: str) -> None:
    """Stages in order (they add up to the whole report), then what ran at the same time inside "projections +
    analyses": its rows overlap, so their shares of the whole add up to more than that stage's."""
    t = row["timings"]
    staged = sum(t.values())
    share = lambda seconds: f"{seconds / row['wall']:.0%}"  # noqa: E731
    indent = "&nbsp;&nbsp;"
    print(f"\n## N = {row['n']} {label}")
    print("| stage | seconds | share |\n|---|---|---|")
    for stage, seconds in t.items():
        print(f"| {stage} | {seconds:.2f} | {share(seconds)} |")
    print(f"| start-up, imports, writing | {row['wall'] - staged:.2f} | {share(row['wall'] - staged)} |")
    for job, seconds in row["background"].items():
        print(f"| {indent}during \"projections + analyses\", on another thread: {job} | {seconds:.2f} | "
              f"{share(seconds)} |")
    own, waited = sum(row["sections"].values()), sum(row["waits"].values())
    main = f"{indent}during \"projections + analyses\", on the main thread"
    print(f"| {main}: the analyses' own work | {own:.2f} | {share(own)} |")
    saliency = row["sections"].get("saliency", 0.0)
    print(f"| {indent}{indent}of which saliency and Grad-CAM | {saliency:.2f} | {share(saliency)} |")
    print(f"| {main}: waiting for the fits | {waited:.2f} | {share(waited)} |")
    print(f"| **whole report** | **{row['wall']:.2f}** | |")
    print(f"| bare decode + forward (same data, same run) | {row['bare']:.2f} | |")
    rounds = row.get("ratios")
    spread = f" (median of {len(rounds)} rounds: {', '.join(f'{r:.2f}x' for r in rounds)})" if rounds else ""
    print(f"\nratio whole report / bare pass: **{row['wall'] / row['bare']:.2f}x**{spread}; peak RSS report "
          f"{row['rss']:.0f} MB (bare {row['bare_rss']:.0f} MB); HTML {row['bytes'] / 1e6:.1f} MB = "
          f"{row['bytes'] / row['n']:.0f} B/sample; page ready in Chromium after {row['open']:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "reportgen-bench")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cold", action="store_true", help="also run once with an empty numba cache")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of bare pass + report per N")
    parser.add_argument("extra", nargs="*", help="extra reportgen options, after --")
    args = parser.parse_args()
    for n in args.n:
        if args.cold:
            print_table(bench(n, args.workdir, args.workers, args.extra, cold_cache=True), "(cold numba cache)")
        print_table(bench_rounds(n, args), "")
