"""torchrun scale-out: 2 CPU processes (gloo) give exactly the single-process numbers, with no sample lost or
counted twice, and one report."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

VOLATILE = {"provenance", "timings", "background_seconds", "section_seconds", "section_wait_seconds", "title",
            "report_html"}


def comparable(report):
    """Everything but run times and the output's own name."""
    kept = {k: v for k, v in report.items() if k not in VOLATILE}
    kept["raw_vs_model"] = {k: v for k, v in kept["raw_vs_model"].items() if k != "seconds"}
    return kept


def test_two_processes_equal_one(model_files, image_tree, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(image_tree, data)
    (data / "val" / "dot" / "broken.png").write_bytes(b"not a png")  # a skip, seen by one rank only
    common = [str(model_files["pt2"]), str(data), "-q", "--projection", "pca", "--batch-size", "8", "--workers", "0"]
    # torchrun gives each rank OMP_NUM_THREADS=1, and a CPU convolution's last bits depend on the thread
    # count (its reduction order): the single process gets the same one thread, then every number must match
    one_thread = dict(os.environ, OMP_NUM_THREADS="1")
    single = subprocess.run([sys.executable, "-m", "reportgen", *common, "-o", str(tmp_path / "one.html")],
                            capture_output=True, text=True, env=one_thread)
    assert single.returncode == 0, single.stderr
    torchrun = Path(sys.executable).with_name("torchrun")
    multi = subprocess.run([str(torchrun), "--nproc_per_node=2", "-m", "reportgen", *common,
                            "-o", str(tmp_path / "two.html")], capture_output=True, text=True)
    assert multi.returncode == 0, multi.stderr[-3000:]
    assert multi.stdout.count("wrote ") == 1  # rank 0 alone writes and reports
    one = json.loads((tmp_path / "one.json").read_text())
    two = json.loads((tmp_path / "two.json").read_text())
    assert two["n_samples"] == 66 and two["n_skipped"] == 1
    assert len({s["path"] for s in two["samples"]}) == len(two["samples"]) == 66
    assert comparable(one) == comparable(two)
