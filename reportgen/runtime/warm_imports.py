"""Import the analysis libraries on a thread while the collect pass runs.

scikit-learn, SciPy and umap-learn (its numba kernels loaded from the cache) take 1.8 s to import on these
2-core machines, all of it holding the GIL. Imported where first used, that time fell at the start of the
analyses, where both UMAP fits and the main thread waited on it. In the collect pass the main thread mostly
waits: on the model's forward pass, which releases the GIL, and on the decoding workers. So the imports run
there, on a thread started once the DataLoader has forked its workers (no worker is forked while a module is
half imported).

The GIL's switch interval drops from 5 ms to 0.2 ms meanwhile: the forward pass takes the GIL back between
operators, and at 5 ms each time the import thread held it, the pass slowed by more than the imports saved.
Measured at N = 10,000, five alternating runs of each: the whole report 13.9 s -> 13.1 s (median; every pair
faster, by 2.5 to 11 %).
"""

from __future__ import annotations

import importlib
import sys
import threading

from reportgen.runtime.numba_cache import import_cached

LIBRARIES = ("scipy.stats", "sklearn.decomposition", "sklearn.cluster", "sklearn.metrics", "sklearn.neighbors")
SWITCH_INTERVAL = 0.0002  # seconds


def import_all(with_umap: bool) -> None:
    try:
        for name in LIBRARIES:
            importlib.import_module(name)
        if with_umap:
            import_cached("umap")
    except Exception:  # noqa: BLE001 - the analysis that needs the library imports it again and says what failed
        pass


class WarmImports:
    """`start()` once the workers run; `done()` when the pass ends, however it ends."""

    def __init__(self, *, with_umap: bool):
        self.with_umap = with_umap
        self.previous_interval: float | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.previous_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.thread = threading.Thread(target=import_all, args=(self.with_umap,), name="reportgen-imports",
                                       daemon=True)
        self.thread.start()

    def done(self) -> None:
        # the thread may still be importing: whoever needs a module next waits for it on the import lock
        if self.previous_interval is not None:
            sys.setswitchinterval(self.previous_interval)
            self.previous_interval = None
