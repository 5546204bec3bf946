"""One command for a machine with a GPU: ResNet-18 and ResNet-50 at 224 px, the report's pass and its saliency in
images/s, on the CPU and on CUDA, side by side in one run. Prints a markdown table.

    .venv/bin/python bench/cuda_bench.py                          # 2,000 photos, both models, CPU and CUDA
    .venv/bin/python bench/cuda_bench.py --n 300 --models resnet18  # a quick look
    .venv/bin/python bench/cuda_bench.py --amp                      # adds --amp rows (float16 on CUDA, bfloat16 on CPU)

Data and models as bench/bench_real_models.py (seeded photo-sized JPEGs, untrained weights, nothing downloaded).
Each row is one `reportgen` run (`--projection pca`: the projection is not what this measures): "pass" is its
"decode + forward" stage, "saliency" its saliency section (--saliency-samples samples, each explained toward its
5 most probable classes and its label, with Grad-CAM). "bare" is bench/bare_forward.py on the same device: the
model's fastest forward over images already in memory. Without CUDA the CPU rows run and a line says the CUDA
rows were skipped.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_real_models import MODELS, save_model
from real_images import write_photos


def bare(weights: Path, arch: str, data: Path, device: str) -> float:
    done = subprocess.run([sys.executable, str(HERE / "bare_forward.py"), str(weights), arch, str(data), "--device",
                           device], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["best float32"]


def report(weights: Path, arch: str, data: Path, device: str, args, amp: bool) -> dict:
    out = args.workdir / f"out-{weights.stem}-{device}{'-amp' if amp else ''}" / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "reportgen", str(weights), str(data), "--arch", arch, "-o", str(out), "-q",
               "--device", device, "--projection", "pca", "--saliency-samples", str(args.saliency_samples)]
    command += ["--workers", str(args.workers)] if args.workers is not None else []
    command += ["--amp"] if amp else []
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"reportgen failed on {device}:\n{done.stderr[-3000:]}")
    result = json.loads(out.with_suffix(".json").read_text())
    samples = result.get("samples") or []
    chosen = len(result["saliency"].get("samples", []))
    seconds = result["section_seconds"].get("saliency", 0.0)
    provenance = result["provenance"]
    return {"n": result["n_samples"], "pass": result["n_samples"] / result["timings"]["decode + forward"],
            "saliency": chosen / seconds if seconds else float("nan"), "chosen": chosen, "wall": wall,
            "form": provenance.get("forward_form") or {}, "threads": provenance.get("forward_threads"),
            "batch": provenance.get("batch_size"), "accuracy": result.get("accuracy"),
            "predictions": [x.get("prediction") for x in samples], "losses": [x.get("loss") for x in samples]}


def agreement(cpu: dict, cuda: dict) -> str:
    """How far the CUDA report's numbers are from the CPU's: same predictions, loss difference, accuracy."""
    same = sum(a == b for a, b in zip(cpu["predictions"], cuda["predictions"]))
    gaps = [abs(a - b) for a, b in zip(cpu["losses"], cuda["losses"]) if a is not None and b is not None]
    return (f"same prediction {same}/{len(cpu['predictions'])}, max |loss gap| {max(gaps, default=float('nan')):.2e}, "
            f"accuracy {cpu['accuracy']} vs {cuda['accuracy']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["resnet18", "resnet50"], choices=sorted(MODELS))
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--saliency-samples", type=int, default=200)
    parser.add_argument("--workers", type=int, default=None, help="decoding workers (reportgen's default: up to 4)")
    parser.add_argument("--amp", action="store_true", help="also time each device with --amp")
    parser.add_argument("--devices", nargs="+", default=["cpu", "cuda"], choices=["cpu", "cuda"])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "reportgen-cuda-bench")
    args = parser.parse_args()
    devices = [d for d in args.devices if d == "cpu"]
    if torch.cuda.is_available():
        devices += [d for d in args.devices if d == "cuda"]
        where = torch.cuda.get_device_name(0)
    else:
        where = "no CUDA device"
        print("CUDA: not available on this machine (torch.cuda.is_available() is False); the CUDA rows are skipped.",
              file=sys.stderr)
    data = write_photos(args.workdir / f"photos-{args.n}", args.n)
    rows = []
    for name in args.models:
        arch = MODELS[name]
        weights = save_model(arch, args.workdir / "models" / f"{name}.pt")
        for device in devices:
            ceiling = bare(weights, arch, data, device)
            for amp in [False, True] if args.amp else [False]:
                row = report(weights, arch, data, device, args, amp)
                rows.append((name, device, amp, ceiling, row))
                shown = {k: v for k, v in row.items() if k not in ("predictions", "losses")}
                print(f"{name} {device}{' amp' if amp else ''}: {json.dumps(shown)}", file=sys.stderr)
    print(f"\n{args.n:,} photos, 224 px; torch {torch.__version__}; {torch.get_num_threads()} CPU threads; {where}")
    print("| model | device | amp | bare forward img/s | pass img/s | pass / bare | saliency img/s (samples) | "
          "form | batch | whole report s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, device, amp, ceiling, r in rows:
        form = f"{r['form'].get('memory_format', '?')} {r['form'].get('precision', '?')}"
        print(f"| {name} | {device} | {'yes' if amp else 'no'} | {ceiling:.1f} | {r['pass']:.1f} | "
              f"{r['pass'] / ceiling:.2f}x | {r['saliency']:.1f} ({r['chosen']}) | {form} | {r['batch']} | "
              f"{r['wall']:.1f} |")
    for name in args.models:
        plain = {device: r for n, device, amp, _c, r in rows if n == name and not amp}
        if "cuda" in plain and "cpu" in plain:
            print(f"{name}, CPU vs CUDA (float32): {agreement(plain['cpu'], plain['cuda'])}")
    if "cuda" not in devices:
        print("\nCUDA rows skipped: no CUDA device on this machine.")


if __name__ == "__main__":
    main()
