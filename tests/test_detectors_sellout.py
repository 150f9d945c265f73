"""Sell-out risk and out-of-stock-while-pinned."""

from __future__ import annotations

from monitor.bins import Bin, ProductBin
from monitor.detectors.sellout import SelloutConfig, SelloutDetector

T0 = 1_700_000_000


def product_bin(i: int, *products: ProductBin) -> Bin:
    return Bin(session="s1", start=T0 + 10 * i, viewers=500, viewers_estimated=False, events=10, products=products)


def test_sellout_warns_when_stock_lasts_less_than_five_minutes() -> None:
    det = SelloutDetector(SelloutConfig())
    # 2 orders per bin = 12/min; stock 100 -> ~8 min, then 50 -> ~4 min
    assert not any(det.observe(product_bin(i, ProductBin("p1", orders=2, stock=100))) for i in range(12))
    [c] = det.observe(product_bin(12, ProductBin("p1", orders=2, stock=50)))
    assert c.rule == "sellout_risk" and dict(c.labels) == {"product": "p1"} and c.value < 5


def test_sellout_quiet_for_slow_sellers_and_unknown_stock() -> None:
    det = SelloutDetector(SelloutConfig())
    assert not any(det.observe(product_bin(i, ProductBin("p1", orders=1 if i % 20 == 0 else 0, stock=3),
                                           ProductBin("p2", orders=5))) for i in range(60))


def test_sellout_out_of_stock_while_pinned_is_critical_and_unpinned_is_not() -> None:
    det = SelloutDetector(SelloutConfig())
    [c] = det.observe(product_bin(0, ProductBin("p1", stock=0, pinned=True)))
    assert (c.rule, c.severity.value) == ("out_of_stock_pinned", "critical")
    assert det.observe(product_bin(1, ProductBin("p1", stock=0, pinned=False))) == []


def test_sellout_remembers_stock_between_updates() -> None:
    det = SelloutDetector(SelloutConfig())
    det.observe(product_bin(0, ProductBin("p1", stock=0)))
    assert det.observe(product_bin(1, ProductBin("p1", pinned=True)))[0].rule == "out_of_stock_pinned"


def test_sellout_quiet_when_a_scarce_product_has_too_few_orders_for_a_pace() -> None:
    det = SelloutDetector(SelloutConfig())
    # 3 orders in 2 min on 4 units would project 2.7 min, but 3 orders are no pace
    rows = [ProductBin("p1", orders=1 if i in (3, 7, 11) else 0, stock=4) for i in range(12)]
    assert not any(det.observe(product_bin(i, row)) for i, row in enumerate(rows))
    # the same projection from 12 orders is trusted
    det = SelloutDetector(SelloutConfig())
    assert any(det.observe(product_bin(i, ProductBin("p1", orders=1, stock=20))) for i in range(12))
