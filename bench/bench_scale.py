"""How the page and the run scale with classes (K) and samples (N): page bytes, bytes per sample, time until the
first figure is drawn in headless Chromium, horizontal overflow, peak RSS, and seconds, one row per case.

    .venv/bin/python bench/bench_scale.py                        # synthetic K x N grid + one real run per K
    .venv/bin/python bench/bench_scale.py --synthetic 10:5000 1000:50000 --real 1000:5000
    .venv/bin/python bench/bench_scale.py --real 1000:50000 10:200000   # the big end-to-end rows

Synthetic rows build the collected arrays directly (clustered embeddings, logits, real WebP thumbnails of 32 px
colour images) and run every analysis that needs no model, then render: they measure the page and the
analyses, not the model. Real rows run the `reportgen` command end to end on images written by
bench/many_classes.py (K classes of 32 px RGB images, a small CNN) or bench/make_data.py (10 digit classes).
Each row runs in its own process, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PY = sys.executable
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DEFAULT_SYNTHETIC = [f"{k}:{n}" for k in (10, 100, 1000) for n in (5000, 50000, 200000)]
DEFAULT_REAL = ["10:5000", "100:5000", "1000:5000"]


def synthetic_collected(n: int, k: int, seed: int = 0):
    """A Collected of n samples in k classes, generated in float32 blocks (no (n, k) float64 temporaries)."""
    from PIL import Image

    from reportgen.collect.batched_pass import Collected
    from reportgen.collect.thumbnails import encode_thumbnail

    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % k).astype(np.int64)
    d = 64
    centres = rng.normal(0, 3, (k, d)).astype(np.float32)
    embeddings = centres[labels] + rng.normal(0, 1, (n, d)).astype(np.float32)
    logits = np.empty((n, k), np.float32)
    probs = np.empty((n, k), np.float32)
    for start in range(0, n, 4096):
        rows = slice(start, start + 4096)
        block = rng.normal(0, 1, (len(labels[rows]), k)).astype(np.float32)
        block[np.arange(block.shape[0]), labels[rows]] += rng.normal(3, 1.5, block.shape[0]).astype(np.float32)
        logits[rows] = block
        e = np.exp(block - block.max(1, keepdims=True))
        probs[rows] = e / e.sum(1, keepdims=True)
    preds = logits.argmax(1)
    loss = -np.log(np.maximum(probs[np.arange(n), labels], 1e-12)).astype(np.float32)
    # 64 real thumbnails of 32 px colour images, reused: the bytes per sample of a real RGB data set
    pool = [encode_thumbnail(Image.fromarray(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8), "RGB")
                             .resize((32, 32), Image.BICUBIC)) for _ in range(64)]
    splits = np.where(np.arange(n) % 5 == 0, 1, 0)
    return Collected(classes=[f"class_{c:05d}" for c in range(k)], split_names=["train", "val"],
                     paths=[f"{'val' if s else 'train'}/class_{c:05d}/img_{i:07d}.png"
                            for i, (c, s) in enumerate(zip(labels, splits))],
                     split=splits, labels=labels, logits=logits, probs=probs, preds=preds, loss=loss,
                     embeddings=embeddings, thumbnails=[pool[i % 64] for i in range(n)],
                     pixels=rng.integers(0, 256, (n, 32 * 32), dtype=np.uint8))


def render_synthetic(n: int, k: int, out: Path) -> dict:
    """One synthetic row, in this process: analyses + render, as the pipeline runs them after the pass."""
    from reportgen.pipeline import analyse_collected
    from reportgen.render.page import render_html
    from reportgen.render.report_json import dumps_json, report_json
    from reportgen.render.sample_payload import sample_payload

    started = time.perf_counter()
    collected = synthetic_collected(n, k)
    built = time.perf_counter()
    outcome = analyse_collected(collected)
    report = report_json(outcome.sections, base={"schema_version": 2, "title": "synthetic"})
    out.write_text(render_html(outcome.sections, title=f"synthetic N={n} K={k}", samples=sample_payload(collected),
                               meta={"version": "bench"}), encoding="utf-8")
    out.with_suffix(".json").write_text(dumps_json(report), encoding="utf-8")
    return {"seconds": time.perf_counter() - built, "build_seconds": built - started,
            "errors": report["section_errors"],
            "slowest": sorted(outcome.seconds.items(), key=lambda kv: -kv[1])[:3]}


def in_child(cmd: list[str], env=None, cwd=None) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, peak RSS in GB of the command and its children, the finished process)."""
    measure = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
               "print('RSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)")
    started = time.perf_counter()
    done = subprocess.run([PY, "-c", measure, *cmd], capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - started
    rss = next((int(line.split()[1]) for line in done.stderr.splitlines()[::-1] if line.startswith("RSS ")), 0)
    if done.returncode:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return wall, rss / 1024 / 1024, done


def open_in_chromium(html: Path) -> dict:
    """Seconds from navigation to the first figure drawn (the projection), overflow, DOM size, errors."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(html.as_uri(), timeout=300_000)
        page.wait_for_selector("body[data-ready=true]", timeout=300_000)
        ready = page.evaluate("performance.now()") / 1000
        facts = page.evaluate("""() => ({overflow: document.documentElement.scrollWidth - window.innerWidth,
            nodes: document.getElementsByTagName('*').length})""")
        browser.close()
    return {"open": ready, **facts, "page_errors": errors}


def real_data(k: int, n: int, workdir: Path) -> tuple[Path, Path]:
    root = workdir / (f"digits_n{n}" if k == 10 else f"k{k}_n{n}")
    if not (root / "model.pt2").exists():
        if k == 10:
            subprocess.run([PY, str(HERE / "make_data.py"), str(root), "--n", str(n)], check=True)
        else:
            subprocess.run([PY, str(HERE / "many_classes.py"), str(root), "--n", str(n), "--classes", str(k)],
                           check=True)
    return root / "model.pt2", root / "data"


def row(kind: str, k: int, n: int, workdir: Path, extra: list[str]) -> dict:
    out = workdir / f"{kind}_k{k}_n{n}.html"
    if kind == "synthetic":
        wall, rss, done = in_child([PY, __file__, "--child", f"{k}:{n}", str(out)])
        info = json.loads(done.stdout.strip().splitlines()[-1])
    else:
        model, data = real_data(k, n, workdir)
        wall, rss, _ = in_child([PY, "-m", "reportgen", str(model), str(data), "-o", str(out), "-q", *extra],
                                cwd=workdir)
        report = json.loads(out.with_suffix(".json").read_text())
        info = {"seconds": wall, "errors": report["section_errors"],
                "slowest": sorted(report["section_seconds"].items(), key=lambda kv: -kv[1])[:3]}
    size = out.stat().st_size
    return {"kind": kind, "k": k, "n": n, "bytes": size, "per_sample": size / n, "rss": rss, "wall": wall,
            **info, **open_in_chromium(out)}


def print_header() -> None:
    print("| kind | K | N | page MB | B/sample | first figure (s) | overflow px | DOM nodes | peak RSS GB | "
          "seconds | slowest analyses |")
    print("|---|---|---|---|---|---|---|---|---|---|---|", flush=True)


def print_row(r: dict) -> None:
    """One row as soon as it is measured: a long grid that fails late keeps what it measured."""
    slow = ", ".join(f"{name} {s:.1f}" for name, s in r["slowest"])
    print(f"| {r['kind']} | {r['k']:,} | {r['n']:,} | {r['bytes'] / 1e6:.1f} | {r['per_sample']:.0f} | "
          f"{r['open']:.2f} | {r['overflow']} | {r['nodes']:,} | {r['rss']:.2f} | {r['wall']:.0f} | {slow} |", flush=True)
    if r["errors"] or r["page_errors"]:
        print(f"|   errors: {r['errors']} {r['page_errors'][:2]} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic", nargs="*", default=None, metavar="K:N")
    parser.add_argument("--real", nargs="*", default=None, metavar="K:N")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "reportgen-scale")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("extra", nargs="*", help="extra reportgen options for the real rows, after --")
    args = parser.parse_args()
    if args.child:
        k, n = (int(v) for v in args.child[0].split(":"))
        print(json.dumps(render_synthetic(n, k, Path(args.child[1]))))
        sys.exit(0)
    args.workdir.mkdir(parents=True, exist_ok=True)
    both_default = args.synthetic is None and args.real is None
    cases = [("synthetic", c) for c in (DEFAULT_SYNTHETIC if both_default else args.synthetic or [])]
    cases += [("real", c) for c in (DEFAULT_REAL if both_default else args.real or [])]
    print_header()
    for kind, case in cases:
        k, n = (int(v) for v in case.split(":"))
        print_row(row(kind, k, n, args.workdir, args.extra))
