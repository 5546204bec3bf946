"""Hold a Ctrl-C back while the DataLoader forks its workers, and raise it once they have started.

Python runs os.fork()'s at-fork hooks as Python code; logging's acquire its module lock before the fork and
release it after. A KeyboardInterrupt raised inside such a hook is reported as "ignored" and lost, leaving
the lock held: the run went on as if never interrupted, and the first other thread to log (an import on a
fit thread) waited on that lock forever. Recording the signal and raising it after the fork avoids both.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


@contextmanager
def deferred_sigint():
    previous = signal.getsignal(signal.SIGINT)
    # only the main thread may install handlers; an ignored or C-level handler is left as it is
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield
        return
    caught = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        previous(signal.SIGINT, None)  # the usual handler (KeyboardInterrupt), here and not inside a hook
