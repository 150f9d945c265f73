"""The engine process's garbage-collector policy (docs/deploy.md, "The engine's garbage collector").

CPython collects its youngest generation every 700 net allocations of container objects.
The engine allocates a few per event and keeps a read's worth (about 5,000 events) alive at
once, so at 700 the collector runs a few times per read, and the survivors it promotes set
off full collections, each traversing the whole heap: start-up (~70,000 objects: modules,
configs, lexicons) plus every session's state. Measured in one engine (bench/engine_cpu.py,
406,610 simulated events): 1,500-1,900 young, ~150 middle and 8-13 full collections per run,
the full ones ~0.1 s each; with this policy 9 young and none else (counted with
`gc.callbacks`). Cyclic garbage is rare
(~2,200 objects per process, the same at 200k and 400k events: start-up, not per event).
Engine CPU per 1,000 events, median of 3, same run: backlog 20.1 -> 14.7 ms (0.73x CPython's
defaults), paced 20,000/s 39.8 -> 38.3 ms (inside that bench's noise); RSS +25 MB when
catching up (292 vs 263 MB peak), none when paced.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

# Net of deallocations: what refcounting frees counts down, so a read's temporaries rarely reach it
# and a steady engine collects about as often as its state grows by 50,000 objects.
GEN0_THRESHOLD = 50_000


def tune_engine_gc(gen0_threshold: int = GEN0_THRESHOLD) -> None:
    """Freeze what exists now and collect the youngest generation every `gen0_threshold` allocations.

    Call once the process holds its long-lived state (after start-up; again after restoring
    partitions, if that is later). Frozen objects sit in the permanent generation, which no
    collection visits; refcounting still frees them. `gc.collect()` first, so no garbage is
    frozen (it would never be freed). The older generations keep CPython's multipliers (10, 10)
    and its rule that a full collection waits until a quarter more objects are long-lived.
    `gen0_threshold` 0 leaves CPython's defaults alone (`LIVEMON_GC_THRESHOLD=0`).
    """
    if gen0_threshold == 0:
        return
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)
    log.info("gc: froze %d start-up objects; youngest generation collected every %d allocations",
             gc.get_freeze_count(), gen0_threshold)
