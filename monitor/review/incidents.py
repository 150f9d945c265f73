"""Incidents from the alerts audit trail: one per alert fingerprint, with its timeline.

The records are `monitor.alert_lifecycle.Transition.to_dict()` as the engine appends them to the
alerts stream. Delivery is at-least-once (an engine that restarts writes the transitions
since its last checkpoint again), so a record repeated with the same (fingerprint, event,
at) counts once, as every other consumer of the stream counts it. Time to acknowledge is
counted from firing (an alert nobody was told about yet cannot be acknowledged late), and
is None for alerts never acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.review.model import Incident


def incidents(records: Sequence[dict[str, Any]], session: str) -> list[Incident]:
    """Group the session's transitions by alert, in order of first appearance."""
    by_fp: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, str, float]] = set()
    for record in sorted((r for r in records if r.get("session") == session), key=lambda r: float(r["at"])):
        key = (str(record["fingerprint"]), str(record.get("event", "")), float(record["at"]))
        if key not in seen:
            seen.add(key)
            by_fp.setdefault(key[0], []).append(record)
    out = []
    for fp, trail in by_fp.items():
        pending = _first(trail, lambda r: r.get("state") == "pending")
        fired = _first(trail, lambda r: r.get("state") == "firing")
        acked = _first(trail, lambda r: r.get("event") == "acknowledged")
        resolved = _first(trail, lambda r: r.get("state") == "resolved")
        last = trail[-1]
        ack_at = float(acked["at"]) if acked else None
        fired_at = float(fired["at"]) if fired else None
        out.append(Incident(
            fingerprint=fp,
            rule=str(last.get("rule", "")),
            severity=str(last.get("severity", "")),
            summary=str(last.get("summary", "")),
            labels={str(k): str(v) for k, v in (last.get("labels") or {}).items()},
            pending_at=float(pending["at"]) if pending else None,
            fired_at=fired_at,
            acked_at=ack_at,
            acked_by=str(acked.get("actor")) if acked and acked.get("actor") else None,
            resolved_at=float(resolved["at"]) if resolved else None,
            time_to_ack_s=round(ack_at - fired_at, 1) if ack_at is not None and fired_at is not None else None,
            evidence=tuple(_evidence(trail)),
            transitions=tuple({"at": float(r["at"]), "event": str(r.get("event", "")),
                               "state": str(r.get("state", "")), "actor": r.get("actor")} for r in trail),
        ))
    return out


def _first(trail: list[dict[str, Any]], test: Any) -> dict[str, Any] | None:
    return next((r for r in trail if test(r)), None)


def _evidence(trail: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evidence comments across the trail, each once, oldest first (the latest record may hold fewer)."""
    seen: dict[str, dict[str, Any]] = {}
    for record in trail:
        for item in record.get("evidence") or ():
            key = str(item.get("id", item.get("text", "")))
            seen.setdefault(key, dict(item))
    return list(seen.values())[:10]
