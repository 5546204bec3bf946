"""`reportgen index` (the archive page) and `reportgen comment` (one pull-request comment, kept up to date)."""

from __future__ import annotations

from pathlib import Path

import click

from reportgen.cli.options import UserInputError
from reportgen.errors import ReportgenError


@click.command("index")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default="index.html",
              show_default=True, help="Where to write the index page.")
def index_command(folder, output):
    """Write one sortable page listing every report under FOLDER (date, title, model sha256, data
    fingerprint, accuracy, delta vs baseline, link). Reads each report's embedded summary; nothing is re-run."""
    from reportgen.review.archive_index import write_index

    try:
        rows = write_index(folder, output)
    except ReportgenError as exc:
        raise UserInputError(str(exc)) from exc
    click.echo(f"wrote {output}: {len(rows)} reports")


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

