"""Worker pools: the one way crmdocs starts a pool of forked processes.

Four places fan work out over the cores (parsing the records, checking the
daily files, the cross-record checks, writing the computed files); each makes
its pool with :func:`executor`. A pool's workers are started by
:func:`worker_start`:

- their garbage collector is off (they never walk what the parent holds, and
  the parent froze it before forking);
- a watch thread ends a worker whose parent is gone. Killed with SIGKILL (an
  out-of-memory kill, a CI job cancelled, ``kill -9``), the parent cannot shut
  its pool down, and its workers would wait for work for ever, blocked on the
  pool's queue, each holding the records it inherited (~90 MB at county
  scale). The watch looks every :data:`WATCH_S` seconds whether this process
  has been handed to another parent and then leaves at once. Whatever a
  worker was writing is left as the atomic writer leaves it: the old file or
  the new one, and at most a hidden temporary file, which the next run tidies.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from typing import Any, Optional

# how often an idle pool worker looks for its parent (seconds): the watch thread
# sleeps in between and costs nothing else; not a rule of the program
WATCH_S = 0.5


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_S)
    os._exit(1)  # the parent is gone: nobody takes this worker's answers


def worker_start(parent: Optional[int] = None) -> None:
    """A pool worker's initializer: collector off, parent watched. ``parent``:
    the process that started the pool (:func:`executor` says it), not whoever
    is this process's parent by now — one killed before this ran has handed
    the worker to another, which the watch would take for its own."""
    gc.disable()
    parent = os.getppid() if parent is None else parent
    threading.Thread(target=_watch, args=(parent,), name="crmdocs-parent-watch", daemon=True).start()


def executor(jobs: int, context: Any) -> Any:
    """A process pool of ``jobs`` workers started from ``context`` (a
    multiprocessing context, "fork" where crmdocs forks)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=worker_start, initargs=(os.getpid(),))
