"""Which device the pass and the gradients run on."""

from __future__ import annotations

import torch

from reportgen.errors import ReportgenError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ReportgenError("--device cuda: no CUDA device is available on this machine; use --device cpu or auto")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise ReportgenError(f"--device {name}: not a device name; use auto, cpu or cuda") from exc
