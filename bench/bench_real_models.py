"""Real models at 224 px: the report's pass and the whole report against the same model's bare forward over images
already in memory (bench/bare_forward.py), side by side in one run. Prints a markdown table.

    .venv/bin/python bench/bench_real_models.py                                  # ResNet-18, MobileNetV3-small, ViT-Ti
    .venv/bin/python bench/bench_real_models.py --models resnet18 --n 1000 10000 --repeat 3
    .venv/bin/python bench/bench_real_models.py --before ../base-venv/bin/python  # and an older checkout, same rounds

Data: photo-sized seeded JPEGs (bench/real_images.py), 10 classes. Models: untrained (weights=None /
pretrained=False, seeded), saved as state_dicts and read with --arch, so the report uses torchvision's (or timm's)
evaluation preprocessing. Each round times the bare forward, then the report (`reportgen ... -q`); the table
holds the median round by the whole report's ratio, with every round's ratios after it. "pass" is the report's
"decode + forward" stage; "bare time" is N / the bare forward's images/s at its fastest batch size (and, for
comparison with figures from before the sizes were timed, at one batch of 64; and, strictest, with the model's
BatchNorms folded into its convolutions, as the report's pass runs it).
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
from real_images import write_photos

MODELS = {"resnet18": "resnet18", "mobilenet_v3_small": "mobilenet_v3_small",
          "vit_tiny": "timm:vit_tiny_patch16_224", "resnet50": "resnet50",
          "efficientnet_b0": "timm:efficientnet_b0"}  # timm's BatchNormAct2d, which torch.fx's fuse leaves unfolded


def save_model(arch: str, path: Path) -> Path:
    if not path.exists():
        torch.manual_seed(0)
        if arch.startswith("timm:"):
            import timm

            model = timm.create_model(arch.removeprefix("timm:"), pretrained=False, num_classes=10)
        else:
            import torchvision

            model = torchvision.models.get_model(arch, weights=None, num_classes=10)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), path)
    return path


def bare(python: str, weights: Path, arch: str, data: Path) -> dict:
    done = subprocess.run([python, str(HERE / "bare_forward.py"), str(weights), arch, str(data)], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(python: str, weights: Path, arch: str, data: Path, out: Path, workers: int, extra: list[str]) -> dict:
    start = time.perf_counter()
    done = subprocess.run([python, "-m", "reportgen", str(weights), str(data), "--arch", arch, "-o", str(out), "-q",
                           "--workers", str(workers), *extra], capture_output=True, text=True, cwd=out.parent, check=False)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"reportgen failed:\n{done.stderr[-3000:]}")
    data_json = json.loads(out.with_suffix(".json").read_text())
    provenance = data_json.get("provenance", {})
    return {"wall": wall, "pass": data_json["timings"]["decode + forward"],
            "saliency": data_json["section_seconds"].get("saliency", 0.0) + data_json["section_seconds"].get(
                "insides", 0.0),
            "n": data_json["n_samples"], "threads": provenance.get("forward_threads"),
            "split": provenance.get("core_split"), "form": provenance.get("forward_form"),
            "timings": data_json["timings"]}


def one_round(args, name: str, n: int) -> dict[str, dict]:
    """Bare forward, then the report with each interpreter (this checkout's, then --before's): label -> row."""
    arch = MODELS[name]
    weights = save_model(arch, args.workdir / "models" / f"{name}.pt")
    data = write_photos(args.workdir / f"photos-{n}", n)
    rates = bare(sys.executable, weights, arch, data)
    rows = {}
    for label, python in [("after", args.python)] + ([("before", args.before)] if args.before else []):
        out = args.workdir / f"out-{name}-{n}-{label}" / "report.html"
        out.parent.mkdir(parents=True, exist_ok=True)
        row = report(python, weights, arch, data, out, args.workers, args.extra)
        bare_seconds = row["n"] / rates["best float32"]
        whole_batch_seconds = row["n"] / rates["float32 whole batch"]
        folded_seconds = row["n"] / rates["best float32 folded"]
        rows[label] = row | {"bare": rates, "bare_seconds": bare_seconds, "pass_rate": row["n"] / row["pass"],
                             "pass_ratio": bare_seconds / row["pass"], "report_ratio": row["wall"] / bare_seconds,
                             "pass_ratio_64": whole_batch_seconds / row["pass"],
                             "report_ratio_64": row["wall"] / whole_batch_seconds,
                             "pass_ratio_folded": folded_seconds / row["pass"],
                             "report_ratio_folded": row["wall"] / folded_seconds}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["resnet18", "mobilenet_v3_small", "vit_tiny"],
                        choices=sorted(MODELS))
    parser.add_argument("--n", type=int, nargs="+", default=[1000])
    parser.add_argument("--repeat", type=int, default=1, help="rounds of bare forward + report per row")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--python", default=sys.executable, help="the interpreter whose reportgen is measured")
    parser.add_argument("--before", help="another interpreter (an older checkout's venv), measured in the same rounds")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "reportgen-real-models")
    parser.add_argument("extra", nargs="*", help="extra reportgen options, after --")
    args = parser.parse_args()
    rows = []
    for n in args.n:
        for name in args.models:
            rounds = [one_round(args, name, n) for _ in range(args.repeat)]
            for label in rounds[0]:
                mine = sorted((r[label] for r in rounds), key=lambda r: r["report_ratio"])
                median = mine[len(mine) // 2] | {"rounds": mine}
                rows.append((name if not args.before else f"{name} ({label})", n, median))
                print(f"{name} {label} N={n}: " + json.dumps({k: v for k, v in median.items() if k != "rounds"}),
                      file=sys.stderr)
    print(f"\n{args.python}{' vs ' + args.before if args.before else ''}: {torch.get_num_threads()} torch threads, "
          f"{args.workers} workers, median round of {args.repeat}")
    print("| model | N | bare forward img/s (fp32 best batch; batch of 64; bf16) | pass img/s | pass / bare | "
          "whole report s | report / bare time | vs a batch of 64: pass; report | vs bare with BN folded: pass; report | "
          "saliency + insides s | "
          "forward threads; chunk; form | rounds (pass / bare; report / bare) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, n, r in rows:
        every = "; ".join(f"{x['pass_ratio']:.2f} / {x['report_ratio']:.2f}" for x in r["rounds"])
        form = r["form"] or {}
        chunk = ((r["split"] or {}).get("forward_chunk") or {}).get("chosen", "-")
        print(f"| {name} | {n:,} | {r['bare']['best float32']:.1f}; {r['bare']['float32 whole batch']:.1f}; "
              f"{r['bare']['bfloat16 channels_last']:.1f} | {r['pass_rate']:.1f} | **{r['pass_ratio']:.2f}x** | "
              f"{r['wall']:.1f} | **{r['report_ratio']:.2f}x** | {r['pass_ratio_64']:.2f}x; {r['report_ratio_64']:.2f}x | "
              f"{r['pass_ratio_folded']:.2f}x; {r['report_ratio_folded']:.2f}x | "
              f"{r['saliency']:.1f} | {r['threads']}; {chunk}; {form.get('memory_format', '-')}{' +' + str(form['batchnorms_folded']) + ' BN folded' if form.get('batchnorms_folded') else ''} | {every} |")

if __name__ == "__main__":
    main()
