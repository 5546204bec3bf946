"""Writing the report: check an output path before the long run, and write atomically (never half a file)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from reportgen.errors import ReportgenError


def check_writable(path: Path, option: str) -> None:
    """Fail before the long run, not after it: create the folder and prove a file can be written there."""
    if path.is_dir():
        raise ReportgenError(f"{path}: is a folder; give {option} a file name, such as {path / 'report.html'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as exc:
        raise ReportgenError(f"{path}: cannot write there ({exc.strerror or exc}); choose another {option} "
                             "path") from exc


OURS = {".html": b'<meta name="generator" content="reportgen', ".json": b'"schema_version"'}


def replaces_a_report(path: Path, option: str, marker: bytes | None = None) -> bool:
    """True when `path` holds an earlier reportgen report (it will be replaced, and the command says so); a
    ReportgenError when it holds anything else, which a report must never silently overwrite. `marker`: the bytes
    that mark the file as ours, if not a report's (OURS)."""
    if not path.exists():
        return False
    marker = marker or OURS.get(path.suffix.lower())
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        head = b""
    if marker is not None and marker in head or not head:
        return True
    raise ReportgenError(f"{path}: exists and is not a reportgen report, so it is not overwritten; give {option} "
                         "another path, or remove the file")


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and rename: never a half-written report."""
    path = Path(path)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a report is meant to be shared
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ReportgenError(f"{path}: could not be written ({exc.strerror or exc})") from exc
        raise
