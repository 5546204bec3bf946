"""Two installs of reportgen on the same data, interleaved round by round (this machine's load drifts; a ratio of
neighbours in time survives it): whole-report seconds, peak RSS, page bytes and the page's open time, each as a
ratio new / old, with the bare decode + forward pass of the same round as the common yardstick.

    .venv/bin/python bench/compare_versions.py OLD_PYTHON --n 10000 --rounds 3
    # OLD_PYTHON: an interpreter whose `-m reportgen` is the older version (a venv on a worktree of that commit)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from harness import HERE, PY, page_open_seconds, prepare, timed


def one_report(python: str, root: Path, name: str, workers: int) -> dict:
    out = root / f"{name}.html"
    wall, rss = timed([python, "-m", "reportgen", str(root / "model.pt2"), str(root / "data"), "-o", str(out), "-q",
                       "--workers", str(workers)])
    return {"wall": wall, "rss": rss, "bytes": out.stat().st_size, "html": out,
            "n": json.loads(out.with_suffix(".json").read_text())["n_samples"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old_python")
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "reportgen-bench")
    args = parser.parse_args()
    root = args.workdir / f"n{args.n}"
    prepare(root, args.n)
    rows = []
    for r in range(args.rounds):
        bare, _ = timed([PY, str(HERE / "bare_pass.py"), str(root / "model.pt2"), str(root / "data"),
                         str(args.workers)])
        pair = [("old", args.old_python), ("new", PY)] if r % 2 == 0 else [("new", PY), ("old", args.old_python)]
        got = {name: one_report(python, root, name, args.workers) for name, python in pair}
        rows.append({"bare": bare, **got})
        print(f"round {r + 1}: bare {bare:.1f} s, old {got['old']['wall']:.1f} s, new {got['new']['wall']:.1f} s",
              file=sys.stderr)
    opened = {name: page_open_seconds(rows[-1][name]["html"]) for name in ("old", "new")}
    med = lambda key, name: statistics.median(r[name][key] for r in rows)  # noqa: E731
    ratio = lambda name: statistics.median(r[name]["wall"] / r["bare"] for r in rows)  # noqa: E731
    n = rows[-1]["new"]["n"]
    print(f"\n## N = {n}, {args.rounds} interleaved rounds (medians)\n")
    print("| | old | new | new / old |\n|---|---|---|---|")
    print(f"| whole report / bare pass | {ratio('old'):.2f}x | {ratio('new'):.2f}x | {ratio('new') / ratio('old'):.2f} |")
    paired = sorted(r["new"]["wall"] / r["old"]["wall"] for r in rows)  # each round's own pair: the fairest figure
    print(f"| whole report, s | {med('wall', 'old'):.1f} | {med('wall', 'new'):.1f} | "
          f"{statistics.median(paired):.2f} (rounds: {', '.join(f'{v:.2f}' for v in paired)}) |")
    print(f"| peak RSS, MB | {med('rss', 'old'):.0f} | {med('rss', 'new'):.0f} | "
          f"{med('rss', 'new') / med('rss', 'old'):.2f} |")
    print(f"| page, MB | {med('bytes', 'old') / 1e6:.1f} | {med('bytes', 'new') / 1e6:.1f} | "
          f"{med('bytes', 'new') / med('bytes', 'old'):.2f} |")
    print(f"| page ready in Chromium, s | {opened['old']:.2f} | {opened['new']:.2f} | "
          f"{opened['new'] / opened['old']:.2f} |")


if __name__ == "__main__":
    main()
