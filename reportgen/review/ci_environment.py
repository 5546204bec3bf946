"""Which pull request to comment on, and with which token: from `--github`/`--gitlab` or from the CI's variables."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from reportgen.errors import ReportgenError

_GITHUB_SPEC = re.compile(r"^(?P<project>[\w.-]+/[\w.-]+)#(?P<number>\d+)$")
_GITLAB_SPEC = re.compile(r"^(?P<project>[^!\s]+)!(?P<number>\d+)$")


@dataclass(frozen=True)
class CommentTarget:
    forge: str  # "github" or "gitlab"
    project: str  # OWNER/REPO on GitHub; the numeric id or group/name path on GitLab
    number: int  # the pull request's number, the merge request's iid
    api_url: str
    token: str = ""
    skip_reason: str | None = None  # set when this run cannot comment (a fork's read-only token): not an error

    @property
    def label(self) -> str:
        return f"{self.project}{'#' if self.forge == 'github' else '!'}{self.number}"


def comment_target(*, github: str | None = None, gitlab: str | None = None, api_url: str | None = None,
                   environ=None) -> CommentTarget:
    """The explicit OWNER/REPO#N or PROJECT!IID, else the pull request this GitHub Actions or GitLab CI job runs for."""
    env = os.environ if environ is None else environ
    if github and gitlab:
        raise ReportgenError("give --github or --gitlab, not both")
    forge = "github" if github else "gitlab" if gitlab else _forge_from_env(env)
    if forge == "github":
        target = _parse("--github", github, _GITHUB_SPEC, "OWNER/REPO#N") if github else _github_from_env(env)
        url, token_var = api_url or env.get("GITHUB_API_URL") or "https://api.github.com", "GITHUB_TOKEN"
    else:
        target = _parse("--gitlab", gitlab, _GITLAB_SPEC, "PROJECT!IID") if gitlab else _gitlab_from_env(env)
        url, token_var = api_url or env.get("CI_API_V4_URL") or "https://gitlab.com/api/v4", "GITLAB_TOKEN"
    project, number, skip_reason = target
    token = env.get(token_var, "")
    if not token and not skip_reason:
        raise ReportgenError(_missing_token(forge, env))
    return CommentTarget(forge, project, number, url, token, skip_reason)


def _forge_from_env(env) -> str:
    if env.get("GITHUB_ACTIONS") == "true":
        return "github"
    if env.get("GITLAB_CI") == "true":
        return "gitlab"
    raise ReportgenError("say where to comment: --github OWNER/REPO#N or --gitlab PROJECT!IID (they are read from "
                         "the CI's variables only inside GitHub Actions or GitLab CI)")


def _parse(option, spec, pattern, form):
    match = pattern.match(spec.strip())
    if not match:
        raise ReportgenError(f"{option} {spec!r}: write {form}, e.g. "
                             + ("octo-org/vision#12" if option == "--github" else "1234!7 or group/vision!7"))
    return match["project"], int(match["number"]), None


def _github_from_env(env):
    repo, event_path = env.get("GITHUB_REPOSITORY"), env.get("GITHUB_EVENT_PATH")
    if not repo or not event_path:
        raise ReportgenError("GITHUB_REPOSITORY or GITHUB_EVENT_PATH is not set; give --github OWNER/REPO#N")
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportgenError(f"GITHUB_EVENT_PATH {event_path}: not readable as JSON ({exc}); "
                             "give --github OWNER/REPO#N") from None
    pull = event.get("pull_request") if isinstance(event, dict) else None
    if not isinstance(pull, dict) or "number" not in pull:
        raise ReportgenError(f"this {env.get('GITHUB_EVENT_NAME', 'GitHub')} event is not about a pull request; "
                             "run on pull_request or give --github OWNER/REPO#N")
    head = (pull.get("head") or {}).get("repo") or {}
    skip = None
    if env.get("GITHUB_EVENT_NAME") == "pull_request" and head.get("full_name") != repo:
        skip = ("a pull request from a fork gets a read-only GITHUB_TOKEN; the report is in the run's artifacts "
                "and the check still passes or fails")
    return repo, int(pull["number"]), skip


def _gitlab_from_env(env):
    project = env.get("CI_MERGE_REQUEST_PROJECT_ID") or env.get("CI_PROJECT_ID")
    iid = env.get("CI_MERGE_REQUEST_IID")
    if not project or not iid:
        raise ReportgenError("CI_MERGE_REQUEST_IID is not set: run the job in a merge request pipeline "
                             "(rules: if: $CI_PIPELINE_SOURCE == \"merge_request_event\") or give --gitlab PROJECT!IID")
    skip = None
    if env.get("CI_PROJECT_ID") and env["CI_PROJECT_ID"] != project and not env.get("GITLAB_TOKEN"):
        skip = ("this merge request's pipeline runs in a fork, which has no GITLAB_TOKEN for the target project; "
                "the report is in the job's artifacts and the job still passes or fails")
    return project, int(iid), skip


def _missing_token(forge, env) -> str:
    if forge == "github":
        return "GITHUB_TOKEN is not set; in the workflow step add `env: GITHUB_TOKEN: ${{ github.token }}`"
    why = " (CI_JOB_TOKEN cannot post merge-request notes)" if env.get("CI_JOB_TOKEN") else ""
    return (f"GITLAB_TOKEN is not set{why}; add a project access token with the api scope and the Reporter role "
            "as a masked CI/CD variable GITLAB_TOKEN")
