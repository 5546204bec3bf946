"""A local stand-in for the GitHub and GitLab comment APIs: an http.server on 127.0.0.1 that keeps comments in
memory, pages its lists (Link: rel="next"), checks the token and refuses bodies over GitHub's limit."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

GITHUB_LIST = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<n>\d+)/comments$")
GITHUB_ITEM = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/issues/comments/(?P<id>\d+)$")
GITLAB_LIST = re.compile(r"^/api/v4/projects/(?P<project>[^/]+)/merge_requests/(?P<n>\d+)/notes$")
GITLAB_ITEM = re.compile(r"^/api/v4/projects/(?P<project>[^/]+)/merge_requests/(?P<n>\d+)/notes/(?P<id>\d+)$")


class FakeForge:
    """comments[(kind, project, number)] is the list of stored comments, oldest first."""

    def __init__(self, token="good-token", read_only_token="read-only-token"):
        self.token, self.read_only_token = token, read_only_token
        self.comments: dict[tuple, list[dict]] = {}
        self.requests: list[tuple[str, str]] = []
        self._ids = iter(range(1000, 10**9))
        forge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_):
                pass

            def do_GET(self):
                forge.handle(self, "GET")

            def do_POST(self):
                forge.handle(self, "POST")

            def do_PATCH(self):
                forge.handle(self, "PATCH")

            def do_PUT(self):
                forge.handle(self, "PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        serve = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        serve.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def add(self, kind, project, number, body, **extra) -> dict:
        comment = {"id": next(self._ids), "body": body, **extra}
        comment["html_url"] = f"https://github.example/{project}/pull/{number}#issuecomment-{comment['id']}"
        self.comments.setdefault((kind, project, number), []).append(comment)
        return comment

    def handle(self, request: BaseHTTPRequestHandler, method: str):
        parts = urlsplit(request.path)
        path, query = parts.path, parse_qs(parts.query)  # a GitLab project path stays quoted: group%2Fname
        self.requests.append((method, request.path))
        kind = "gitlab" if path.startswith("/api/v4/") else "github"
        given = (request.headers.get("PRIVATE-TOKEN") if kind == "gitlab"
                 else (request.headers.get("Authorization") or "").removeprefix("Bearer "))
        if given not in (self.token, self.read_only_token):
            return self.answer(request, 401, {"message": "Bad credentials" if kind == "github" else "401 Unauthorized"})
        if method != "GET" and given == self.read_only_token:
            return self.answer(request, 403, {"message": "Resource not accessible by integration"})
        body = json.loads(request.rfile.read(int(request.headers.get("Content-Length") or 0)) or b"null")
        if body and kind == "github" and len(body["body"]) > 65_536:
            return self.answer(request, 422, {"message": "Body is too long (maximum is 65536 characters)"})
        for pattern in (GITHUB_LIST, GITLAB_LIST):
            match = pattern.match(path)
            if match:
                key = (kind, match.groupdict().get("repo") or unquote(match["project"]), int(match["n"]))
                if method == "POST":
                    return self.answer(request, 201, self.add(*key, body["body"]))
                return self.page(request, self.comments.get(key, []), query)
        for pattern in (GITHUB_ITEM, GITLAB_ITEM):
            match = pattern.match(path)
            if match and method in ("PATCH", "PUT"):
                for comments in self.comments.values():
                    for comment in comments:
                        if comment["id"] == int(match["id"]):
                            comment["body"] = body["body"]
                            return self.answer(request, 200, comment)
        return self.answer(request, 404, {"message": "Not Found"})

    def page(self, request, items, query):
        per_page, page = int(query.get("per_page", ["30"])[0]), int(query.get("page", ["1"])[0])
        headers = {}
        if page * per_page < len(items):
            base = request.path.split("?")[0]
            headers["Link"] = f'<{self.url}{base}?per_page={per_page}&page={page + 1}>; rel="next"'
        return self.answer(request, 200, items[(page - 1) * per_page:page * per_page], headers)

    @staticmethod
    def answer(request, status, payload, headers=None):
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)
