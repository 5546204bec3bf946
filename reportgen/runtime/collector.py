"""Python's cyclic garbage collector kept off the report's long-lived objects.

The report imports a great deal (torch, torchvision, scikit-learn, SciPy, umap-learn) and forks decoding workers.
Two costs of the collector follow, both measured on these 2-core machines:

- Imports make hundreds of thousands of objects, and each time their count passes a threshold the collector walks
  them, and every so often the whole heap. With the collector paused, importing torch took 0.93 s instead of 1.06,
  torchvision with reportgen 1.00 s instead of 1.31, and the analysis libraries 0.98 s instead of 1.19.
- After a fork, a collection writes to every object it walks, so each page of the parent's heap that a worker
  still shares is copied the first time. The analysis libraries' import right after the fork took 1.49-1.56 s
  beside the workers, against 1.17-1.26 s with the heap frozen before the fork (ResNet-18, 1,000 photos).

`frozen()` moves what exists to the collector's permanent generation for the length of a report (gc.freeze(),
which Python's documentation suggests before a fork). `long_lived()` pauses the collector while a block makes
objects that live as long as the report (imports, a model) and freezes them after it, as `freeze_now()` does before
each fork. The collector runs as usual on everything else. The price: cyclic garbage a paused block made is kept
until the report ends (peak RSS 1.02x on 10,000 digits). Side by side with 801fc1f, `reportgen` on ResNet-18 over
1,000 photos spent 0.90 s loading instead of 1.28 and 25.2 s in all instead of 26.0 (five alternating pairs); a
small CNN over 10,000 digits, 0.90x the whole report's time (four rounds, 0.89-0.96).

A program that froze objects of its own is left as it was: its freeze is not ours to undo.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # frozen() scopes open now
_owned = False  # the permanent generation is ours (it was empty when the outermost scope opened)


@contextmanager
def frozen():
    """Freeze every object the collector tracks now; the outermost scope's exit unfreezes them."""
    global _depth, _owned
    with _lock:
        if _depth == 0:
            _owned = gc.get_freeze_count() == 0
        _depth += 1
        if _owned:
            gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _owned:
                gc.unfreeze()
                _owned = False


def freeze_now() -> None:
    """Inside a frozen() scope, freeze what was made since it opened (before a fork); elsewhere nothing."""
    with _lock:
        if _owned:
            gc.freeze()


@contextmanager
def long_lived():
    """The collector paused while the block runs; inside a frozen() scope, what the block made is frozen after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        freeze_now()
        if was_enabled:
            gc.enable()
