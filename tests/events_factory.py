"""Build raw events for tests, with event time near now unless given."""

from __future__ import annotations

import itertools
import time

_ids = itertools.count(1)


def raw_event(kind: str, session: str = "room-a", ts: int | str | None = None, **fields: object
              ) -> dict[str, object]:
    """A valid raw event of `kind` with a unique id; `ts` in epoch ms or RFC 3339 (now when None)."""
    return {"id": f"t{next(_ids)}", "session": session, "type": kind,
            "ts": ts if ts is not None else int(time.time() * 1000), "platform": "douyin", **fields}


def mixed_batch(session: str, comments: int, likes: int, orders: int, viewers: int) -> list[dict[str, object]]:
    """A batch whose expected snapshot numbers are known exactly."""
    batch = [raw_event("viewer_count", session, viewers=viewers)]
    batch += [raw_event("comment", session, user=f"u{i}", text=f"comment {i}") for i in range(comments)]
    batch += [raw_event("like", session, user=f"u{i}", count=2) for i in range(likes)]
    batch += [raw_event("order", session, user=f"u{i}", product="p1", qty=1, amount=10.5, status="paid")
              for i in range(orders)]
    return batch
