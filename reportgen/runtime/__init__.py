"""How a run uses the machine: numba kernels cached across processes (`numba_cache`), imports warmed during the
pass (`warm_imports`), threads for the projection fits (`fits`), the device (`device`), progress bars
(`progress`), Ctrl-C held back during forks (`deferred_interrupt`) and what a reviewer needs to trust the numbers
(`provenance`)."""
