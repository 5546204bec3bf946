"""`reportgen comment`: ONE comment per marker on a local fake of the GitHub and GitLab APIs."""

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from fake_forge import FakeForge
from reportgen.cli import cli
from reportgen.errors import ReportgenError
from reportgen.review.pr_comment import GITHUB_COMMENT_LIMIT, fit_body, post_github_comment, post_gitlab_note

ROOT = Path(__file__).resolve().parents[1]
MARK = "<!-- reportgen:report -->"
CI_VARIABLES = ("GITHUB_", "GITLAB_", "CI_", "RUNNER_")  # this suite may itself run in CI: none of its variables leak


@pytest.fixture
def forge():
    fake = FakeForge()
    yield fake
    fake.close()


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith(CI_VARIABLES):
            monkeypatch.delenv(name)
    return monkeypatch


def marked(comments, mark=MARK):
    return [c for c in comments if c["body"].startswith(mark)]


# (b) the comment code against the fake APIs

def test_github_keeps_one_comment_per_marker_across_pages(forge):
    for i in range(120):  # more than one page (100 a page): the marked comment lands on page 2
        forge.add("github", "octo/vision", 7, f"review comment {i}")
    forge.add("github", "octo/vision", 7, f"a reply quoting it:\n> {MARK}")
    post = dict(repo="octo/vision", number=7, token=forge.token, api_url=forge.url)
    first = post_github_comment("accuracy 91%", **post)
    comments = forge.comments[("github", "octo/vision", 7)]
    assert first.action == "created" and len(comments) == 122 and first.url.endswith(str(first.id))
    again = post_github_comment("accuracy 93%", **post)
    assert (again.action, again.id) == ("updated", first.id) and len(comments) == 122
    assert marked(comments) == [{**marked(comments)[0], "body": f"{MARK}\naccuracy 93%"}]
    other = post_github_comment("the other model", name="ablation", **post)
    assert other.action == "created" and other.id != first.id
    assert len(marked(comments)) == 1 and len(marked(comments, "<!-- reportgen:ablation -->")) == 1
    assert ("GET", "/repos/octo/vision/issues/7/comments?per_page=100&page=2") in forge.requests


def test_gitlab_keeps_one_note_per_marker(forge):
    forge.add("gitlab", "group/vision", 3, f"{MARK} quoted by a system note", system=True)
    post = dict(project="group/vision", iid=3, token=forge.token, api_url=f"{forge.url}/api/v4")
    first = post_gitlab_note("accuracy 91%", **post)
    again = post_gitlab_note("accuracy 93%", **post)
    other = post_gitlab_note("the other model", name="ablation", **post)
    notes = forge.comments[("gitlab", "group/vision", 3)]
    assert (first.action, again.action, other.action) == ("created", "updated", "created")
    assert again.id == first.id and len(notes) == 3
    assert [n["body"] for n in marked(notes) if not n.get("system")] == [f"{MARK}\naccuracy 93%"]
    assert ("PUT", f"/api/v4/projects/group%2Fvision/merge_requests/3/notes/{first.id}") in forge.requests


@pytest.mark.parametrize("token, code, fix", [("wrong", "401", "GITHUB_TOKEN"),
                                              ("read-only-token", "403", "pull-requests: write")])
def test_github_refusals_are_one_line_naming_the_fix(forge, token, code, fix):
    with pytest.raises(ReportgenError) as caught:
        post_github_comment("x", "octo/vision", 7, token=token, api_url=forge.url)
    message = str(caught.value)
    assert "\n" not in message and f"GitHub answered {code}" in message and fix in message


def test_gitlab_401_and_an_unreachable_api_are_one_line(forge):
    with pytest.raises(ReportgenError, match=r"^GitLab answered 401 401 Unauthorized .*GITLAB_TOKEN.*api scope"):
        post_gitlab_note("x", "5", 3, token="wrong", api_url=f"{forge.url}/api/v4")
    forge.close()
    with pytest.raises(ReportgenError, match="could not reach the GitHub API at http://127.0.0.1:.*--api-url"):
        post_github_comment("x", "octo/vision", 7, token=forge.token, api_url=forge.url)


def test_an_over_long_body_is_cut_under_githubs_limit_with_the_marker_kept(forge):
    text = "".join(f"| row {i} | {'x' * 60} |\n" for i in range(2000))  # about 150,000 characters
    done = post_github_comment(text, "octo/vision", 7, token=forge.token, api_url=forge.url)
    (stored,) = forge.comments[("github", "octo/vision", 7)]  # the fake refuses (422) anything over 65,536
    assert done.action == "created" and len(stored["body"]) <= GITHUB_COMMENT_LIMIT
    assert stored["body"].startswith(MARK + "\n| row 0 |") and "summary truncated at 65,536" in stored["body"]
    assert "|\n\n*reportgen: summary truncated" in stored["body"]  # cut at a line break, not mid-row
    assert fit_body("short") == f"{MARK}\nshort"


# the CLI: targets from the CI's variables, forks, missing tokens

def write_event(path, repo="octo/vision", head="octo/vision", number=7):
    path.write_text(json.dumps({"number": number, "pull_request": {"number": number,
                                                                   "head": {"repo": {"full_name": head}}}}))
    return path


def test_cli_reads_the_pull_request_from_github_actions_variables(forge, clean_env, tmp_path):
    body = tmp_path / "pr.md"
    body.write_text("accuracy 91%\n")
    clean_env.setenv("GITHUB_ACTIONS", "true")
    clean_env.setenv("GITHUB_REPOSITORY", "octo/vision")
    clean_env.setenv("GITHUB_EVENT_NAME", "pull_request")
    clean_env.setenv("GITHUB_EVENT_PATH", str(write_event(tmp_path / "event.json")))
    clean_env.setenv("GITHUB_API_URL", forge.url)
    clean_env.setenv("GITHUB_TOKEN", forge.token)
    for expected in ("created", "updated"):
        result = CliRunner().invoke(cli, ["comment", str(body)])
        assert result.exit_code == 0 and result.output.startswith(f"{expected} comment on octo/vision#7: https://")
    assert len(forge.comments[("github", "octo/vision", 7)]) == 1
    clean_env.setenv("GITHUB_EVENT_PATH", str(write_event(tmp_path / "fork.json", head="someone/vision")))
    clean_env.setenv("GITHUB_TOKEN", forge.read_only_token)
    forked = CliRunner().invoke(cli, ["comment", str(body)])
    assert forked.exit_code == 0 and "comment skipped on octo/vision#7: a pull request from a fork" in forked.output
    clean_env.delenv("GITHUB_TOKEN")
    clean_env.setenv("GITHUB_EVENT_PATH", str(tmp_path / "event.json"))
    missing = CliRunner().invoke(cli, ["comment", str(body)])
    assert missing.exit_code == 2 and missing.output.strip().count("\n") == 0
    assert missing.output.startswith("reportgen: error: GITHUB_TOKEN is not set")


def test_cli_on_gitlab_names_the_token_it_needs(forge, clean_env, tmp_path):
    body = tmp_path / "pr.md"
    body.write_text("accuracy 91%\n")
    for name, value in {"GITLAB_CI": "true", "CI_PROJECT_ID": "55", "CI_MERGE_REQUEST_PROJECT_ID": "55",
                        "CI_MERGE_REQUEST_IID": "9", "CI_API_V4_URL": f"{forge.url}/api/v4",
                        "CI_JOB_TOKEN": "job-token"}.items():
        clean_env.setenv(name, value)
    result = CliRunner().invoke(cli, ["comment", str(body)])
    assert result.exit_code == 2
    assert "GITLAB_TOKEN is not set (CI_JOB_TOKEN cannot post merge-request notes)" in result.output
    clean_env.setenv("GITLAB_TOKEN", forge.token)
    result = CliRunner().invoke(cli, ["comment", str(body), "--marker", "val"])
    assert result.exit_code == 0 and result.output.startswith("created comment on 55!9")
    explicit = CliRunner().invoke(cli, ["comment", str(body), "--gitlab", "55!9", "--marker", "bad name"])
    assert explicit.exit_code == 2 and "--marker 'bad name'" in explicit.output
