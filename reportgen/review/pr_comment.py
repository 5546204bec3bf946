"""Post or update ONE pull-request comment per report, found again by a hidden marker (stdlib only).

The first line of the comment is `<!-- reportgen:NAME -->`; a later run with the same NAME edits that comment
instead of adding one per push, and two reports in one pull request (two NAMEs) keep two comments.
"""

from __future__ import annotations

import dataclasses
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from reportgen import __version__
from reportgen.errors import ReportgenError

GITHUB_COMMENT_LIMIT = 65_536  # characters GitHub accepts in one comment body
GITLAB_NOTE_LIMIT = 1_000_000  # and GitLab in one note
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


@dataclass(frozen=True)
class PostedComment:
    action: str  # "created" or "updated"
    id: int
    url: str  # the comment's page on GitHub; the API URL of the note on GitLab (it has no page of its own)
    on: str = ""  # the pull or merge request, as "owner/repo#7" or "group/project!7"


def marker(name: str = "report") -> str:
    if not _NAME.match(name):
        raise ReportgenError(f"--marker {name!r}: use letters, digits, '.', '_' and '-' only")
    return f"<!-- reportgen:{name} -->"


def fit_body(text: str, name: str = "report", *, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The comment body: the marker line, then `text`, cut at a line break with a note when over `limit`."""
    head = marker(name) + "\n"
    body = head + text
    if len(body) <= limit:
        return body
    note = (f"\n\n*reportgen: summary truncated at {limit:,} characters (it had {len(text):,}); "
            "the full report is in the CI run's artifacts.*\n")
    kept = text[:limit - len(head) - len(note)]
    kept = kept[:kept.rfind("\n")] if "\n" in kept else kept
    return head + kept + note


class _Forge:
    """One forge's REST API: where the comments live, how to authenticate, what to tell the user on errors."""

    name = ""
    limit = 0
    hints: dict[int, str] = {}

    def __init__(self, api_url: str, token: str):
        self.api_url = api_url.rstrip("/")
        self.token = token

    def headers(self) -> dict[str, str]:
        raise NotImplementedError

    def request(self, method: str, url: str, payload: dict | None = None) -> tuple[object, str | None]:
        """The decoded JSON answer and the next page's URL (Link: rel="next"), or one line saying what to fix."""
        data = None if payload is None else json.dumps(payload).encode()
        headers = {**self.headers(), "User-Agent": f"reportgen/{__version__}", "Content-Type": "application/json"}
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=30) as r:
                answer = json.loads(r.read() or b"null")
                link = _NEXT_LINK.search(r.headers.get("Link") or "")
        except urllib.error.HTTPError as exc:
            raise ReportgenError(self._http_error(method, exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ReportgenError(f"could not reach the {self.name} API at {self.api_url} ({reason}); check the "
                                 f"network and --api-url") from None
        except ValueError:
            raise ReportgenError(f"{method} {url} did not answer JSON; is {self.api_url} the {self.name} API "
                                 "(--api-url)?") from None
        next_url = link[1] if link else None
        if next_url and urllib.parse.urlsplit(next_url)[:2] != urllib.parse.urlsplit(self.api_url)[:2]:
            next_url = None  # never send the token to another host
        return answer, next_url

    def _http_error(self, method: str, exc: urllib.error.HTTPError) -> str:
        try:
            said = json.loads(exc.read()).get("message") or ""
        except (ValueError, AttributeError, OSError):
            said = ""
        said = " ".join((said if isinstance(said, str) else json.dumps(said)).split())[:200]  # one line
        said = f" {said}" if said else ""
        if exc.code == 403 and exc.headers.get("X-RateLimit-Remaining") == "0":
            return f"the {self.name} API rate limit is used up (403{said}); run again later"
        hint = self.hints.get(exc.code, "see the message from the API")
        return f"{self.name} answered {exc.code}{said} to {method} {exc.url}: {hint}"

    def post_or_update(self, comments_url: str, item_url: str, text: str, name: str) -> PostedComment:
        body = fit_body(text, name, limit=self.limit)
        url = f"{comments_url}?per_page=100"
        while url:
            page, url = self.request("GET", url)
            for comment in page:
                if self.ours(comment, marker(name)):
                    done, _ = self.request(self.update_method, f"{item_url}/{comment['id']}", {"body": body})
                    return PostedComment("updated", done["id"], self.link(done, item_url))
        done, _ = self.request("POST", comments_url, {"body": body})
        return PostedComment("created", done["id"], self.link(done, item_url))

    def ours(self, comment: dict, mark: str) -> bool:
        # The marker opens the body; a reply quoting the comment starts with "> " and is left alone.
        return (comment.get("body") or "").startswith(mark)


class _GitHub(_Forge):
    name = "GitHub"
    limit = GITHUB_COMMENT_LIMIT
    update_method = "PATCH"
    hints = {401: "the token is missing or invalid; set GITHUB_TOKEN (in Actions: env GITHUB_TOKEN: "
                   "${{ github.token }})",
             403: "the token may not write comments; give the workflow `permissions: pull-requests: write` (a pull "
                  "request from a fork gets a read-only GITHUB_TOKEN)",
             404: "no such repository or pull request, or the token cannot see it; check OWNER/REPO#N",
             422: "GitHub rejected the comment body"}

    def headers(self):
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28"}

    def link(self, comment, _item_url):
        return comment.get("html_url") or comment.get("url", "")


class _GitLab(_Forge):
    name = "GitLab"
    limit = GITLAB_NOTE_LIMIT
    update_method = "PUT"
    hints = {401: "the token is missing, wrong or expired; set GITLAB_TOKEN to a project access token with the api "
                  "scope",
             403: "the token may not write notes; it needs the api scope and at least the Reporter role in the project",
             404: "no such project or merge request, or the token's user cannot see it; check PROJECT!IID and that "
                  "the token belongs to a member of the project"}

    def headers(self):
        return {"PRIVATE-TOKEN": self.token}

    def ours(self, comment, mark):
        return not comment.get("system") and super().ours(comment, mark)

    def link(self, note, item_url):
        return f"{item_url}/{note['id']}"


def post_github_comment(text: str, repo: str, number: int, *, token: str, name: str = "report",
                        api_url: str = "https://api.github.com") -> PostedComment:
    """Create, or update in place, the comment marked `name` on pull request `repo`#`number` (repo: OWNER/NAME)."""
    forge = _GitHub(api_url, token)
    base = f"{forge.api_url}/repos/{repo}/issues"
    return forge.post_or_update(f"{base}/{number}/comments", f"{base}/comments", text, name)


def post_gitlab_note(text: str, project: str, iid: int, *, token: str, name: str = "report",
                     api_url: str = "https://gitlab.com/api/v4") -> PostedComment:
    """Create, or update in place, the note marked `name` on merge request `project`!`iid` (project: id or path)."""
    forge = _GitLab(api_url, token)
    notes = f"{forge.api_url}/projects/{urllib.parse.quote(str(project), safe='')}/merge_requests/{iid}/notes"
    return forge.post_or_update(notes, notes, text, name)


def post_comment(text: str, *, github: str | None = None, gitlab: str | None = None, name: str = "report",
                 api_url: str | None = None) -> PostedComment | None:
    """`reportgen comment` as a function: post or update ONE comment on the pull request `github`
    ("owner/repo#12") or merge request `gitlab` ("group/project!7"), or on this CI run's when both are None.
    Returns None where posting is skipped (a fork's read-only token), after saying why on stderr."""
    import sys

    from reportgen.review.ci_environment import comment_target

    target = comment_target(github=github, gitlab=gitlab, api_url=api_url)
    if target.skip_reason:
        print(f"reportgen: comment skipped on {target.label}: {target.skip_reason}", file=sys.stderr)
        return None
    post = post_github_comment if target.forge == "github" else post_gitlab_note
    done = post(text, target.project, target.number, token=target.token, name=name, api_url=target.api_url)
    return dataclasses.replace(done, on=target.label)
