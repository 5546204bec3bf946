"""`reportgen MODEL DATA` (the report command) and `reportgen demo`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reportgen.cli.options import UserInputError, image_size, names, numbers, report_options
from reportgen.errors import ReportgenError
from reportgen.review.quality_gate import GATE_FAILED_EXIT_CODE


@click.command("report")
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("data", type=click.Path(path_type=Path))
@report_options
@click.option("--arch", help="For a state_dict: a torchvision model name (resnet18) or package.module:factory.")
@click.option("--trust-model", is_flag=True,
              help="Allow loading a whole pickled model; this can run code from the file, so only for files you trust.")
@click.option("--classes", callback=names, help="Class names in the model's output order: a,b,c.")
@click.option("--image-size", callback=image_size,
              help="Input size: 224 (square) or 224,320 (height,width). Default: the model's own (timm, "
                   "torchvision weights) or the first image's size.")
@click.option("--normalize", type=click.Choice(["imagenet", "none"]),
              help="Named mean/std: imagenet = 0.485,0.456,0.406 / 0.229,0.224,0.225. Default: the model's own "
                   "convention when it carries one (timm, torchvision weights), else none.")
@click.option("--mean", callback=numbers, help="Per-channel mean to subtract, e.g. 0.485,0.456,0.406 (default 0).")
@click.option("--std", callback=numbers, help="Per-channel std to divide by, e.g. 0.229,0.224,0.225 (default 1).")
@click.option("--channels", type=click.Choice(["1", "3"]), callback=lambda _c, _p, v: int(v) if v else None,
              help="Grey (1) or colour (3) input, for a model whose first layer doesn't say (an MLP).")
@click.option("--reference", type=click.Path(path_type=Path),
              help="Labelled data to place unlabelled DATA against (same forms as DATA): which images look unlike "
                   "anything the model was shown.")
@click.option("--layer", help="Module whose output is the embedding (default: input of the last Linear layer).")
@click.option("--cam-layer", help="Layer Grad-CAM reads (default: the last convolution), e.g. layer4.")
@click.option("--title", help="Report title.")
@click.option("--baseline", type=click.Path(path_type=Path),
              help="An older checkpoint (any format; --arch applies to both) to compare with on the same data.")
def report_command(model, data, output, json_path, no_json, **kwargs):
    """Analyse MODEL on the images in DATA and write the report.

    MODEL is a torch.export program (.pt2), a TorchScript file, a state_dict (with --arch; timm:NAME for a timm
    model) or, with --trust-model, a pickled module. DATA is an image folder (DATA/<class>/*.png), a folder
    with train/ and val/ (or test/) image folders, a CSV manifest with path,label columns, Parquet shards
    (a file or a folder, Hugging Face layout), a datasets.save_to_disk folder, or a folder of unlabelled images
    (a predictions-only report; add --reference for labelled data to compare with).
    """
    _run_report(model, data, output, json_path, no_json, kwargs)


@click.command("demo")
@report_options
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default="reportgen-demo",
              show_default=True, help="Where the demo's images and model are written.")
@click.option("--epochs", type=click.IntRange(1), default=12, show_default=True)
@click.option("--retrain", is_flag=True, help="Train the demo model again even if --workdir holds one.")
def demo_command(output, json_path, no_json, workdir, epochs, retrain, **kwargs):
    """Train a small CNN on scikit-learn's bundled handwritten digits (no download) and report on it."""
    from reportgen.demo import prepare_demo

    quiet = kwargs["quiet"]
    try:
        model_path, data_dir = prepare_demo(workdir, epochs=epochs, seed=kwargs["seed"], quiet=quiet,
                                             retrain=retrain)
    except ReportgenError as exc:
        raise UserInputError(str(exc)) from exc
    if not quiet:
        click.echo(f"demo model: {model_path}  data: {data_dir}", err=True)
    if kwargs.get("history") is None:
        kwargs["history"] = Path(workdir) / "history.csv"  # the demo plots its own training curves
    _run_report(model_path, data_dir, output, json_path, no_json, kwargs)


class GateFailed(click.ClickException):
    """The report was written but fell below a --fail-under threshold: one line, its own exit status."""

    exit_code = GATE_FAILED_EXIT_CODE

    def show(self, file=None):
        click.echo(f"reportgen: quality gate failed: {self.message}", err=True)


def _run_report(model, data, output, json_path, no_json, kwargs):
    from reportgen.runtime.collector import frozen, long_lived

    with frozen():  # the process's long-lived objects out of the collector's way for the run (runtime/collector.py)
        with long_lived():  # torch, torchvision and the rest: ~0.4 s less to import with the collector paused
            import reportgen.pipeline  # noqa: F401
        _report(model, data, output, json_path, no_json, kwargs)


def _report(model, data, output, json_path, no_json, kwargs):
    from reportgen.pipeline import ReportOptions, build_report
    from reportgen.review.follow_ups import check_follow_up_paths, write_follow_ups

    if json_path is None and not no_json:
        json_path = output.with_suffix(".json")
    follow = {key: kwargs.pop(key) for key in ("fail_under", "markdown_path", "report_url", "export_csv")}
    options = ReportOptions(command=["reportgen", *sys.argv[1:]], **kwargs)
    try:
        check_follow_up_paths(**follow)
        result = build_report(model, data, output, json_path=None if no_json else json_path, options=options)
        if result is None:
            return  # a torchrun worker rank: rank 0 writes the report and says so
        failures = write_follow_ups(result, **follow)
    except ReportgenError as exc:
        raise UserInputError(str(exc)) from exc
    click.echo(closing_lines(result))
    if failures:
        raise GateFailed("; ".join(str(f) for f in failures))


TERMINAL_FINDINGS = 3


def closing_lines(result) -> str:
    """What was written, the evaluation split's accuracy (the others apart), and the top findings."""
    report = result.report
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    head = report["headline"]
    others = ", ".join(f"{name} {fmt(s['accuracy'])}" for name, s in report["splits"].items() if name != head["split"])
    scored = (f"{head['split']} accuracy {fmt(head['accuracy'])}" + (f" ({others})" if others else "")
              if head.get("labelled", True) else f"no labels: predictions only, mean confidence "
                                                   f"{fmt(head.get('mean_confidence'))}")
    lines = [f"wrote {result.html_path} ({result.html_path.stat().st_size / 1e6:.1f} MB)"
             + (f" and {result.json_path}" if result.json_path else "")
             + f": {report['n_samples']} samples, {scored}, {report['n_skipped']} skipped"]
    if result.replaced:
        lines.append(f"  (replaced the earlier report{'s' if len(result.replaced) > 1 else ''} at "
                     f"{', '.join(map(str, result.replaced))})")
    for finding in report.get("findings", [])[:TERMINAL_FINDINGS]:
        lines.append(f"  {finding['severity']}: {finding['text']}")
    return "\n".join(lines)
