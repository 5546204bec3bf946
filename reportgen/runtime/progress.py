"""Progress bars on stderr for the long stages; `quiet` silences them."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm


def progress(*, total: int | None, desc: str, unit: str = "it", quiet: bool = False) -> tqdm:
    return tqdm(total=total, desc=desc, unit=unit, disable=quiet, file=sys.stderr, leave=False, dynamic_ncols=True)


def say(text: str, *, quiet: bool = False) -> None:
    """One line on stderr for the user, between progress bars (none with -q)."""
    if not quiet:
        tqdm.write(f"reportgen: {text}", file=sys.stderr)
