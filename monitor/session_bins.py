"""A session's closed 10-s bins (`monitor.bins`), read from its rings once the watermark passes them.

Each bin is final when it closes: the watermark has passed its end, so no event may still
arrive for it. A session that ended closes no bin after its end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor import products as P
from monitor.bins import BIN_SECONDS, Bin, ProductBin
from monitor.channels import CARTS, CLICKS, COMMENTS, DWELL_N, DWELL_SUM, EVENTS, GMV, JOINS, LEAVES, ORDERS, PAID

if TYPE_CHECKING:
    from monitor.session import SessionState


def close_bins(self: SessionState) -> list[Bin]:
    """Close every bin the watermark has passed (none past the session's end), oldest first."""
    if self.next_bin is None:
        if self.min_event_ms is None:
            return []
        self.next_bin = self.min_event_ms // 1000 // BIN_SECONDS * BIN_SECONDS
    out = []
    last_bin = None if self.ended_ms is None else self.ended_ms // 1000 // BIN_SECONDS * BIN_SECONDS
    while (self.next_bin + BIN_SECONDS) * 1000 <= self.clock.watermark_ms:
        if last_bin is not None and self.next_bin > last_bin:
            break
        out.append(_bin(self, self.next_bin))
        self.next_bin += BIN_SECONDS
    return out

def _bin(self: SessionState, start: int) -> Bin:
    s = self.ring.window(start + BIN_SECONDS - 1, BIN_SECONDS)
    table = self.products
    count = len(table.totals)
    counts_by_index = table.ring.buckets(start, 1)[0][: count * P.CHANNELS].reshape(count, P.CHANNELS)
    busy = counts_by_index.any(axis=1).tolist()
    products = []
    shown = [p for p in table.products.values() if p.pinned or busy[p.index]]
    for product in sorted(shown, key=lambda p: p.id):  # independent of arrival
        counts = counts_by_index[product.index]
        products.append(
            ProductBin(
                product=product.id,
                clicks=int(counts[P.CLICKS]),
                carts=int(counts[P.CARTS]),
                orders=int(counts[P.ORDERS]),
                paid=int(counts[P.PAID]),
                gmv=round(float(counts[P.GMV]), 2),
                stock=self.products.stock_left(product),
                pinned=product.pinned,
                name=product.name,
            )
        )
    return Bin(
        session=self.session,
        start=start,
        viewers=self.online,
        viewers_estimated=self.online_estimated,
        joins=int(s[JOINS]),
        leaves=int(s[LEAVES]),
        comments=int(s[COMMENTS]),
        clicks=int(s[CLICKS]),
        carts=int(s[CARTS]),
        orders=int(s[ORDERS]),
        paid=int(s[PAID]),
        gmv=round(float(s[GMV]), 2),
        avg_dwell_s=round(float(s[DWELL_SUM] / s[DWELL_N]), 1) if s[DWELL_N] else None,
        events=int(s[EVENTS]),
        products=tuple(products),
    )
