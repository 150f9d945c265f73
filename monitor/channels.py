"""Channels of a session's rings and totals, and the lookup tables that route events onto them.

The 1-s ring and the totals list share channel indices; the minute ring feeds the chart
curves. Lookup tables are numpy arrays indexed by kind code (`monitor.batch`) or order
book channel (`monitor.orders`), so a whole column of events maps onto channels with one
fancy-indexing call; -1 means "no channel" (`Ring.add_columns` ignores it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from monitor import products as P
from monitor.batch import CART, CLICK, COMMENT, FOLLOW, GIFT, JOIN, LEAVE, LIKE, RARE, SHARE
from monitor.orders import GMV as O_GMV
from monitor.orders import ORDERS as O_ORDERS
from monitor.orders import PAID as O_PAID
from monitor.orders import PAID_QTY as O_QTY
from monitor.orders import REFUND_N as O_REFUND_N
from monitor.orders import REFUNDS as O_REFUNDS

# 1-s ring channels (also the session totals list, same indices)
(
    EVENTS,
    COMMENTS,
    LIKES,
    JOINS,
    LEAVES,
    LEAVES_EST,
    CLICKS,
    CARTS,
    ORDERS,
    PAID,
    GMV,
    REFUNDS,
    REFUND_N,
    FOLLOWS,
    SHARES,
    GIFTS,
    CLICKERS,
    INTERACTORS,
    DWELL_SUM,
    DWELL_N,
    DWELL_EST,
) = range(21)
CHANNELS = 21
# minute ring channels
M_ENTRIES, M_LEAVES, M_GMV, M_COMMENTS, M_ONLINE_SUM, M_ONLINE_N = range(6)
MINUTE_CHANNELS = 6


def _table(values: dict[int, Any], default: Any, dtype: type, size: int = RARE + 1) -> Any:
    """A lookup array indexed by code (numpy fancy indexing maps a whole column)."""
    out: Any = np.full(size, default, dtype=dtype)
    for code, value in values.items():
        out[code] = value
    return out


# order book channel -> 1-s ring channel / product ring channel / product total (-1: none)
ORDER_SESSION = _table(
    {O_ORDERS: ORDERS, O_PAID: PAID, O_GMV: GMV, O_REFUNDS: REFUNDS, O_REFUND_N: REFUND_N}, -1, np.int64, 6
)
ORDER_PRODUCT = _table({O_ORDERS: P.ORDERS, O_PAID: P.PAID, O_GMV: P.GMV, O_QTY: P.QTY}, -1, np.int64, 6)
ORDER_TOTAL = _table(
    {
        O_ORDERS: P.T_ORDERS,
        O_PAID: P.T_PAID,
        O_GMV: P.T_GMV,
        O_QTY: P.T_QTY,
        O_REFUNDS: P.T_REFUNDS,
        O_REFUND_N: P.T_REFUND_N,
    },
    -1,
    np.int64,
    6,
)

# +weight (like/gift count, else 1) per event on these 1-s ring channels; +1 on minute channels (-1: none)
UNIT_CHANNEL = _table(
    {
        COMMENT: COMMENTS,
        LIKE: LIKES,
        JOIN: JOINS,
        LEAVE: LEAVES,
        CLICK: CLICKS,
        CART: CARTS,
        SHARE: SHARES,
        FOLLOW: FOLLOWS,
        GIFT: GIFTS,
    },
    -1,
    np.int64,
)
MINUTE_CHANNEL = _table({COMMENT: M_COMMENTS, JOIN: M_ENTRIES, LEAVE: M_LEAVES}, -1, np.int64)
# a viewer's activity (opens or extends a visit) and the interaction rate's kinds
ACTIVE = _table({k: True for k in (COMMENT, LIKE, JOIN, CLICK, CART, SHARE, FOLLOW, GIFT)}, False, np.bool_)
INTERACT = _table({COMMENT: True, LIKE: True, SHARE: True}, False, np.bool_)
LATEST_CHANNEL = np.array([INTERACTORS, CLICKERS], dtype=np.int64)  # by key & 1 in `SessionState._latest`
