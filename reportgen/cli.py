"""`reportgen MODEL DATA -o report.html`, `reportgen demo`: a thin layer over the library."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from reportgen import __version__
from reportgen.errors import ReportgenError
from reportgen.projection import METHODS
from reportgen.quality_gate import GATE_FAILED_EXIT_CODE, parse_threshold


class UserInputError(click.ClickException):
    """A ReportgenError surfaced by a command: one line on stderr, exit status 2, no traceback."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"reportgen: error: {self.message}", err=True)


class _DefaultToReport(click.Group):
    """`reportgen MODEL DATA` means `reportgen report MODEL DATA`; subcommands keep their names."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["report", *args]
        return super().parse_args(ctx, args)


def _floats(_ctx, _param, value):
    if value is None:
        return None
    try:
        return tuple(float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give comma-separated numbers, e.g. 0.485,0.456,0.406") from None


def _batch_size(_ctx, _param, value):
    if value == "auto":
        return None
    try:
        size = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: give a whole number or auto") from None
    if size < 1:
        raise click.BadParameter("must be at least 1")
    return size


def _names(_ctx, _param, value):
    return [v.strip() for v in value.split(",")] if value else None


def report_options(func):
    """Options shared by `report` and `demo`: how the analysis runs and what it writes."""
    options = [
        click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default="report.html",
                     show_default=True, help="Where to write the HTML report."),
        click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Where to write report.json (default: beside the HTML, same name)."),
        click.option("--no-json", is_flag=True, help="Write no JSON twin."),
        click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda[:N]."),
        click.option("--batch-size", default="auto", show_default=True, callback=_batch_size,
                     help="Images per batch; auto = 128 on CPU, about half the free GPU memory on CUDA."),
        click.option("--amp", is_flag=True,
                     help="Mixed precision for the pass (float16 on CUDA, bfloat16 on CPU): faster, numbers "
                          "differ slightly from full precision."),
        click.option("--workers", type=click.IntRange(0), default=None,
                     help="DataLoader worker processes (default: up to 4)."),
        click.option("--projection", type=click.Choice(METHODS), default="umap", show_default=True),
        click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same coordinates."),
        click.option("--top-k", type=click.IntRange(1), default=25, show_default=True,
                     help="Hardest samples shown per split."),
        click.option("--neighbours", type=click.IntRange(1, 50), default=8, show_default=True,
                     help="Nearest neighbours shown in the sample panel."),
        click.option("--saliency-samples", type=click.IntRange(0), default=200, show_default=True,
                     help="Samples given saliency maps and Grad-CAM: the hardest, then a few wrong and correct "
                          "per class."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bars."),
        click.option("--fail-under", "fail_under", multiple=True, callback=_thresholds, metavar="METRIC=VALUE",
                     help="CI gate, repeatable: accuracy=0.95, recall[cat]=0.8 (also precision, f1; prefix a "
                          f"split as val:accuracy=0.9). Below it: the report is still written, exit status "
                          f"{GATE_FAILED_EXIT_CODE}."),
        click.option("--markdown", "markdown_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Also write a short GitHub-flavoured summary for a pull-request comment."),
        click.option("--report-url", help="Where the HTML report will be published (a CI artifact URL), named in "
                                          "the --markdown summary (default: the HTML path)."),
        click.option("--export-csv", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write path,x,y,split,label,prediction,confidence,loss for every sample (Bulk's CSV)."),
        click.option("--export-projector", type=click.Path(file_okay=False, path_type=Path),
                     help="Write TensorBoard Embedding Projector files (tensors, metadata, sprite, config) here."),
        click.option("--notes", type=click.Path(dir_okay=False, path_type=Path),
                     help="A markdown file of your own notes, shown in the report (raw HTML is not rendered)."),
        click.option("--class-groups", type=click.Path(dir_okay=False, path_type=Path),
                     help="A CSV of class,group (e.g. CIFAR-100's superclasses): accuracy per group, the group "
                          "confusion matrix, colour by group."),
        click.option("--history", type=click.Path(path_type=Path),
                     help="Per-epoch training metrics to plot: a CSV (epoch,train_loss,...), a JSON list of rows or "
                          "{metric: [values]}, or a TensorBoard event folder."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _thresholds(_ctx, _param, values):
    try:
        return [parse_threshold(v) for v in values]
    except ReportgenError as exc:
        raise UserInputError(str(exc)) from exc


@click.group(cls=_DefaultToReport, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reportgen")
def cli():
    """Criticise a trained PyTorch image classifier: one self-contained HTML report and its JSON twin.

    \b
      reportgen model.pt2 data/ -o report.html
      reportgen demo -o report.html
    """


@cli.command("report")
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("data", type=click.Path(path_type=Path))
@report_options
@click.option("--arch", help="For a state_dict: a torchvision model name (resnet18) or package.module:factory.")
@click.option("--trust-model", is_flag=True,
              help="Allow loading a whole pickled model; this can run code from the file, so only for files you trust.")
@click.option("--classes", callback=_names, help="Class names in the model's output order: a,b,c.")
@click.option("--image-size", type=click.IntRange(1), help="Resize images to this square size.")
@click.option("--mean", callback=_floats, help="Per-channel mean to subtract, e.g. 0.485,0.456,0.406 (default 0).")
@click.option("--std", callback=_floats, help="Per-channel std to divide by, e.g. 0.229,0.224,0.225 (default 1).")
@click.option("--layer", help="Module whose output is the embedding (default: input of the last Linear layer).")
@click.option("--cam-layer", help="Layer Grad-CAM reads (default: the last convolution), e.g. layer4.")
@click.option("--title", help="Report title.")
@click.option("--baseline", type=click.Path(path_type=Path),
              help="An older checkpoint (any format; --arch applies to both) to compare with on the same data.")
def report_command(model, data, output, json_path, no_json, **kwargs):
    """Analyse MODEL on the images in DATA and write the report.

    MODEL is a torch.export program (.pt2), a TorchScript file, a state_dict (with --arch) or, with
    --trust-model, a pickled module. DATA is an image folder (DATA/<class>/*.png), a folder with train/ and
    val/ (or test/) image folders, or a CSV manifest with path,label columns.
    """
    _run_report(model, data, output, json_path, no_json, kwargs)


@cli.command("index")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default="index.html",
              show_default=True, help="Where to write the index page.")
def index_command(folder, output):
    """Write one sortable page listing every report under FOLDER (date, title, model sha256, data
    fingerprint, accuracy, delta vs baseline, link). Reads each report's embedded summary; nothing is re-run."""
    from reportgen.archive_index import write_index

    try:
        rows = write_index(folder, output)
    except ReportgenError as exc:
        raise UserInputError(str(exc)) from exc
    click.echo(f"wrote {output}: {len(rows)} reports")


@cli.command("comment")
@click.argument("body", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--github", metavar="OWNER/REPO#N", help="The pull request (default: this GitHub Actions run's).")
@click.option("--gitlab", metavar="PROJECT!IID", help="The merge request (default: this GitLab CI job's).")
@click.option("--marker", default="report", show_default=True, metavar="NAME",
              help="Names the comment: a rerun with the same name edits it, another name adds a second one.")
@click.option("--api-url", help="API base (default: GITHUB_API_URL or CI_API_V4_URL, else github.com / gitlab.com).")
def comment_command(body, github, gitlab, marker, api_url):
    """Post BODY (the --markdown summary) as ONE pull-request comment, or update the one posted before.

    The token comes from GITHUB_TOKEN (needs `pull-requests: write`) or GITLAB_TOKEN (api scope, Reporter role).
    On a fork's pull request, where the token is read-only, it says so and exits 0."""
    from reportgen.review.ci_environment import comment_target
    from reportgen.review.pr_comment import post_github_comment, post_gitlab_note

    try:
        text = body.read_text(encoding="utf-8")
        target = comment_target(github=github, gitlab=gitlab, api_url=api_url)
        if target.skip_reason:
            click.echo(f"reportgen: comment skipped on {target.label}: {target.skip_reason}", err=True)
            return
        post = post_github_comment if target.forge == "github" else post_gitlab_note
        done = post(text, target.project, target.number, token=target.token, name=marker, api_url=target.api_url)
    except OSError as exc:
        raise UserInputError(f"{body}: could not be read ({exc.strerror or exc})") from exc
    except ReportgenError as exc:
        raise UserInputError(str(exc)) from exc
    click.echo(f"{done.action} comment on {target.label}: {done.url}")


@cli.command("demo")
@report_options
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default="reportgen-demo",
              show_default=True, help="Where the demo's images and model are written.")
@click.option("--epochs", type=click.IntRange(1), default=12, show_default=True)
def demo_command(output, json_path, no_json, workdir, epochs, **kwargs):
    """Train a small CNN on scikit-learn's bundled handwritten digits (no download) and report on it."""
    from reportgen.demo import prepare_demo

    quiet = kwargs["quiet"]
    try:
        model_path, data_dir = prepare_demo(workdir, epochs=epochs, seed=kwargs["seed"], quiet=quiet)
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
    from reportgen.follow_ups import check_follow_up_paths, write_follow_ups
    from reportgen.pipeline import ReportOptions, build_report

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
    summary = result.report
    accuracy = "n/a" if summary["accuracy"] is None else f"{summary['accuracy']:.3f}"
    click.echo(f"wrote {result.html_path} ({result.html_path.stat().st_size / 1e6:.1f} MB)"
               + (f" and {result.json_path}" if result.json_path else "")
               + f": {summary['n_samples']} samples, accuracy {accuracy}, "
               f"{summary['n_skipped']} skipped")
    if failures:
        raise GateFailed("; ".join(str(f) for f in failures))


def main(argv=None):
    try:
        cli.main(args=argv, prog_name="reportgen", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        # A DataLoader interrupted mid-start complains from __del__ at exit; the one line below says it all.
        sys.unraisablehook = lambda _info: None
        click.echo("reportgen: interrupted; no report was written", err=True)
        if argv is None:  # the console command: a fit thread may still run, and exiting must not wait for it
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    if argv is None:  # the console command, not a caller in this process
        # Everything is written and said. The interpreter's teardown after a report (freeing the arrays, the
        # libraries' exit hooks) took 2.0 s of a 27.6 s run at N = 10,000 (bench/harness.py): skip it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
