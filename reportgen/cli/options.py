"""What the commands share: their options and how they parse, and the one-line user error."""

from __future__ import annotations

from pathlib import Path

import click

from reportgen.errors import ReportgenError
from reportgen.options import PROJECTIONS
from reportgen.review.quality_gate import GATE_FAILED_EXIT_CODE, parse_threshold


class UserInputError(click.ClickException):
    """A ReportgenError surfaced by a command: one line on stderr, exit status 2, no traceback."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"reportgen: error: {self.message}", err=True)


class DefaultToReport(click.Group):
    """`reportgen MODEL DATA` means `reportgen report MODEL DATA`; subcommands keep their names."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["report", *args]
        return super().parse_args(ctx, args)

    def format_help(self, ctx, formatter):
        """`reportgen --help` is where people look for how to run a report: after the commands, the report's
        own usage and every option it takes."""
        super().format_help(ctx, formatter)
        report = self.commands["report"]
        sub = click.Context(report, info_name=ctx.info_name, parent=None)
        formatter.write_paragraph()
        formatter.write_text("Run a report (the default command, `report` may be left out):")
        formatter.write_usage(ctx.info_name, "MODEL DATA [OPTIONS]")
        with formatter.indentation():
            formatter.write_text(report.help.split("\n\n")[0] if report.help else "")
        report.format_options(sub, formatter)


def numbers(_ctx, _param, value):
    if value is None:
        return None
    try:
        return tuple(float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give comma-separated numbers, e.g. 0.485,0.456,0.406") from None


def positive_batch(_ctx, _param, value):
    if value == "auto":
        return None
    try:
        size = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: give a whole number or auto") from None
    if size < 1:
        raise click.BadParameter("must be at least 1")
    return size


def image_size(_ctx, _param, value):
    """`224` (square) or `224,320` (height,width)."""
    if value is None:
        return None
    try:
        sides = tuple(int(v) for v in value.replace("x", ",").split(","))
    except ValueError:
        sides = ()
    if len(sides) not in (1, 2) or min(sides) < 1:
        raise click.BadParameter(f"{value!r}: give a side in pixels (224) or height,width (224,320)")
    return sides[0] if len(sides) == 1 else sides


def names(_ctx, _param, value):
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
        click.option("--batch-size", default="auto", show_default=True, callback=positive_batch,
                     help="Images per batch; auto = 128 on CPU, about half the free GPU memory on CUDA."),
        click.option("--amp", is_flag=True,
                     help="Mixed precision for the pass (float16 on CUDA, bfloat16 on CPU): faster, numbers "
                          "differ slightly from full precision."),
        click.option("--workers", type=click.IntRange(0), default=None,
                     help="DataLoader worker processes (default: up to 4)."),
        click.option("--projection", type=click.Choice(PROJECTIONS), default="umap", show_default=True),
        click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same coordinates."),
        click.option("--top-k", type=click.IntRange(1), default=25, show_default=True,
                     help="Hardest samples shown per split."),
        click.option("--neighbours", type=click.IntRange(1, 50), default=8, show_default=True,
                     help="Nearest neighbours shown in the sample panel."),
        click.option("--saliency-samples", type=click.IntRange(0), default=200, show_default=True,
                     help="Samples given saliency maps and Grad-CAM: the hardest, then a few wrong and correct "
                          "per class."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bars."),
        click.option("--fail-under", "fail_under", multiple=True, callback=thresholds, metavar="METRIC=VALUE",
                     help="CI gate, repeatable: accuracy=0.95, recall[cat]=0.8 (also precision, f1) are lower "
                          "bounds; ece<=0.05 (also mce, ace, classwise_ece, nll, brier; the evaluation split's) "
                          "upper bounds; prefix a split as val:accuracy=0.9. Past one: the report is still "
                          f"written, exit status {GATE_FAILED_EXIT_CODE}."),
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


def thresholds(_ctx, _param, values):
    try:
        return [parse_threshold(v) for v in values]
    except ReportgenError as exc:
        raise UserInputError(str(exc)) from exc
