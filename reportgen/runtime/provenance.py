"""What a reviewer needs to trust a report: versions, data fingerprint, git commit, command line, seed."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import platform
import subprocess
import sys

from reportgen.data.source import DataSource

PACKAGES = ("torch", "torchvision", "numpy", "umap-learn", "scikit-learn", "pillow")
PLOTLY_JS = "3.7.0 gl2d bundle (vendored)"


def versions() -> dict[str, str]:
    from reportgen import __version__

    found = {"reportgen": __version__, "python": platform.python_version(), "plotly.js": PLOTLY_JS}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def data_fingerprint(source: DataSource) -> str:
    """sha256 over (relative path, size, mtime) of every sample file and skipped file, in listing order; for
    Parquet, of every shard; for data in memory, of the samples' names and labels (all that is known of it
    without reading it)."""
    digest = hashlib.sha256()
    for shard in getattr(source.reader, "shards", []):
        stat = shard.stat()
        digest.update(f"{shard.name}\0{stat.st_size}\0{int(stat.st_mtime)}\n".encode())
    for sample in source.samples:
        if sample.path is None:
            digest.update(f"{sample.name}\0{sample.label}\n".encode())
            continue
        stat = sample.path.stat()
        digest.update(f"{source.display_path(sample.path)}\0{stat.st_size}\0{int(stat.st_mtime)}\n".encode())
    for skipped in source.skipped:
        digest.update(f"{skipped.path}\0skipped\n".encode())
    return digest.hexdigest()


def git_commit(cwd: str = ".") -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + (" (uncommitted changes)" if dirty.stdout.strip() else "")


def provenance(source: DataSource, *, seed: int, device: str, command: list[str] | None) -> dict:
    return {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "data_root": str(source.root.resolve()) if source.root else source.name,
        "data_layout": source.layout,
        "data_fingerprint": data_fingerprint(source),
        "git_commit": git_commit(),
        "command": " ".join(command if command is not None else sys.argv),
        "seed": seed,
        "device": device,
        "versions": versions(),
    }
