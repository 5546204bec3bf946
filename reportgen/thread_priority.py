"""A lower CPU priority for the one thread that runs a job nobody waits on first.

In the analyses stage three jobs share two cores: the embedding's UMAP (the longest, and the page's main
picture), the raw-pixel projection, and the analyses on the main thread. At equal priority the embedding's fit
got two thirds of a core, and the stage ended when it did. With the raw-pixel thread at nice +10 that thread
takes the CPU the other two leave, and still a whole core whenever one is free: at N = 10,000 the stage went
from 4.3-4.6 s to 3.8-4.3 s (four alternating runs each).

Linux gives each thread its own nice value, set with setpriority(PRIO_PROCESS, thread id). Elsewhere that call
would name a process, so there this does nothing. Raising a nice value needs no privilege; lowering it back
does, so only a thread that ends with its job should ask for this.
"""

from __future__ import annotations

import os
import sys
import threading

YIELDING_NICE = 10  # added to the thread's nice value; the kernel caps the sum at 19


def run_yielding(function, *args, **kwargs):
    """`function(*args, **kwargs)` on the calling thread, which first lowers its own CPU priority (Linux)."""
    if sys.platform == "linux":
        thread = threading.get_native_id()
        try:
            os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + YIELDING_NICE)
        except OSError:  # a sandbox that forbids it: the job runs all the same, at the usual priority
            pass
    return function(*args, **kwargs)
