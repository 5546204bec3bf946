"""Tables the page draws itself (templates/tables.js): sortable, searchable, paged. Data only, built here.

A table of K rows travels once as compact arrays (one list per row, columns named once) instead of K rows of
HTML cells, so a 1,000-class per-class table costs tens of KB and only the rows on screen enter the DOM.
"""

from __future__ import annotations

import math


def column(key: str, label: str, kind: str = "text", digits: int = 3) -> dict:
    """kind: text | int | num (fixed digits) | pct (a share shown as a percentage) | hidden (data for actions)."""
    return {"key": key, "label": label, "kind": kind, "digits": digits}


def table(columns: list[dict], rows: list[dict], *, sort: tuple[str, str] | None = None, page: int = 25,
          search: bool = True, action: dict | None = None, caption: str | None = None) -> dict:
    """The JSON spec tables.js reads. `action` makes rows clickable: {"kind": "class", "split": index,
    "class": key} opens the samples of that class, {"kind": "cell", "split": index, "true": key, "pred": key}
    those of one confusion-matrix cell (split index -1 = every split)."""
    keys = [c["key"] for c in columns]
    return {"columns": columns, "rows": [[_cell(row.get(key)) for key in keys] for row in rows],
            "sort": list(sort) if sort else None, "page": page, "search": search, "action": action,
            "caption": caption}


def _cell(value):
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    return value
