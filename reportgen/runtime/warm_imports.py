"""Import the analysis libraries during the collect pass, once its decoding workers are forked.

scikit-learn, SciPy and umap-learn (its numba kernels loaded from the cache) take about 1.1-1.2 s to import on
these 2-core machines with the collector paused (1.4-1.8 s without: runtime/collector.py), all of it holding the
GIL. Imported where first used, that time fell at the start of the analyses, where both UMAP fits and the main
thread waited on it. In the pass, the decoding workers are busy meanwhile filling their queues, so the time is
shared with work that has to be done anyway. Where it runs there:

- On CPU, on the main thread, right after the fork and before the first batch. The forward runs on every core
  when the model is heavy, and an import thread beside it took a core from one of its OpenMP threads, stalling
  the others at every barrier: ResNet-18 at 224 px over 1,000 photos, three alternating pairs, the pass 15.1-15.5
  s with the imports on a thread against 14.6-14.7 here, the whole report 25.5-25.8 s against 24.9-25.0;
  MobileNetV3-small 10.8-10.9 against 10.4-10.7; a small CNN on 28-px digits at 10,000, 11.6-11.7 either way.
- On a thread where the main thread mostly waits: on CUDA (the workers bound the pass; the forward is the GPU's)
  and on a machine's first run, when importing umap-learn compiles its kernels for ~30 s (numba_cache.py) and the
  pass should not stop for it. The GIL's switch interval drops from 5 ms to 0.2 ms meanwhile: the forward pass
  takes the GIL back between operators, and at 5 ms each time the import thread held it, the pass slowed by more
  than the imports saved (10,000 digits, five alternating runs each: 13.9 s -> 13.1 s).
"""

from __future__ import annotations

import importlib
import sys
import threading

from reportgen.runtime.collector import long_lived
from reportgen.runtime.numba_cache import compiled_before, import_cached

LIBRARIES = ("scipy.stats", "sklearn.decomposition", "sklearn.cluster", "sklearn.metrics", "sklearn.neighbors")
SWITCH_INTERVAL = 0.0002  # seconds


def import_all(with_umap: bool) -> None:
    try:
        for name in LIBRARIES:
            importlib.import_module(name)
        if with_umap:
            import_cached("umap")
    except Exception:  # noqa: BLE001, S110 - the analysis that needs the library imports it again, and says what failed
        pass


class WarmImports:
    """`start()` once the workers run; `done()` when the pass ends, however it ends."""

    def __init__(self, *, with_umap: bool, on_thread: bool = True):
        """`on_thread`: import beside the pass (see the module's note), else at once in start()."""
        self.with_umap = with_umap
        self.on_thread = on_thread
        self.previous_interval: float | None = None
        self.thread: threading.Thread | None = None

    @classmethod
    def for_device(cls, device, *, with_umap: bool) -> WarmImports:
        """On the main thread for a CPU pass, unless umap-learn's kernels are still to be compiled."""
        return cls(with_umap=with_umap,
                   on_thread=device.type != "cpu" or (with_umap and not compiled_before("umap")))

    def start(self) -> None:
        if not self.on_thread:
            with long_lived():  # ~0.2 s less with the collector paused, and frozen after (runtime/collector.py)
                import_all(self.with_umap)
            return
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
