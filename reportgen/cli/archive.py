"""`reportgen index` (the archive page), `reportgen diff` (two reports compared) and `reportgen comment` (one pull-request comment, kept up to date)."""

from __future__ import annotations

from pathlib import Path

import click

from reportgen.cli.options import UserInputError
from reportgen.errors import ReportgenError


@click.command("index")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default="index.html",
              show_default=True, help="Where to write the index page.")
@click.option("--diffs/--no-diffs", default=True, show_default=True,
              help="Also write each report's diff against the previous one on the same data, into "
                   "OUTPUT's name + '-diffs/'.")
def index_command(folder, output, diffs):
    """Write one page over every report under FOLDER: a sortable table (date, title, model sha256, data
    fingerprint, accuracy, delta vs baseline, link), trend charts of chosen metrics, filters by model and data,
    and two picks to compare. Reads each report's JSON twin, else its page's embedded summary; nothing is re-run."""
    from reportgen.render.files import replaces_a_report
    from reportgen.review.archive_index import write_index

    try:
        replaces_a_report(output, "-o")
        rows = write_index(folder, output, diffs=diffs)
    except ReportgenError as exc:
        raise UserInputError(str(exc)) from exc
    paired = sum(1 for r in rows if r.get("diff_previous"))
    click.echo(f"wrote {output}: {len(rows)} reports" + (f", {paired} diffs with the previous run" if paired else ""))


@click.command("diff")
@click.argument("a", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("b", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default="diff.html",
              show_default=True, help="Where to write the diff page.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the diff as JSON here.")
def diff_command(a, b, output, json_path):
    """Compare report A (the older) with report B from their report.json files (an HTML report's JSON twin is
    found beside it); no model is run. Per-split and per-class deltas, flipped samples, the classes worse beyond
    noise, and new and resolved findings; samples are matched by path."""
    from reportgen.render.files import replaces_a_report
    from reportgen.review.diff_page import write_diff

    try:
        replaces_a_report(output, "-o")
        if json_path is not None:
            replaces_a_report(json_path, "--json", marker=b'"kind": "reportgen-diff"')
        diff = write_diff(a, b, output, json_path=json_path)
    except ReportgenError as exc:
        raise UserInputError(str(exc)) from exc
    flips = diff["flips"]
    click.echo(f"wrote {output}" + (f" and {json_path}" if json_path else "") + f": {flips['n_fixed']} fixed, "
               f"{flips['n_broken']} broken, {len(diff['findings']['new'])} new and "
               f"{len(diff['findings']['resolved'])} resolved findings")
    for warning in diff["warnings"]:
        click.echo(f"reportgen: note: {warning}", err=True)


@click.command("comment")
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
    from reportgen.review.pr_comment import post_comment

    try:
        text = body.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"{body}: could not be read ({exc.strerror or exc})") from exc
    try:
        done = post_comment(text, github=github, gitlab=gitlab, name=marker, api_url=api_url)
    except ReportgenError as exc:
        raise UserInputError(str(exc)) from exc
    if done is not None:  # None: skipped (a fork's read-only token), and said so
        click.echo(f"{done.action} comment on {done.on}: {done.url}")

