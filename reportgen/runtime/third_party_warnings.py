"""Deprecation notices from the libraries reportgen runs are addressed to the authors of the code that calls
them, not to someone reading a report: the command hides them. Every other warning (a real UserWarning, and
anything of reportgen's own) still reaches the terminal. The library leaves warnings to its caller."""

from __future__ import annotations

import warnings

THIRD_PARTY = r"(torch|torchvision|umap|pynndescent|sklearn|numba|llvmlite|scipy|PIL|timm|transformers|datasets|pyarrow)(\.|$)"
NOTICES = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def hide_third_party_notices() -> None:
    for category in NOTICES:
        warnings.filterwarnings("ignore", category=category, module=THIRD_PARTY)
    # torch.load(weights_only=True) of a file pickled with protocol 4 says it "might not support" it: it does,
    # and a refusal would be an error reportgen reports in its own words anyway
    warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
