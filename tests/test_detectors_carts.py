"""Carts-that-don't-convert detector, per product over five minutes."""

from __future__ import annotations

from monitor.bins import Bin, ProductBin
from monitor.detectors.carts import CartsConfig, CartsDetector

T0 = 1_700_000_000


def product_bin(i: int, *products: ProductBin) -> Bin:
    return Bin(session="s1", start=T0 + 10 * i, viewers=500, viewers_estimated=False, events=10, products=products)


def test_carts_prompt_names_the_product_carted_but_not_bought() -> None:
    det = CartsDetector(CartsConfig())
    out = []
    for i in range(30):
        out = det.observe(product_bin(i, ProductBin("p1", clicks=4, carts=1, orders=0),
                                      ProductBin("p2", clicks=4, carts=1, orders=1)))
    assert [dict(c.labels)["product"] for c in out] == ["p1"]


def test_carts_quiet_when_carts_convert_or_volume_is_small() -> None:
    det = CartsDetector(CartsConfig())
    # p1 converts; p2 is carted without orders but only 8 carts in five minutes
    assert not any(det.observe(product_bin(i, ProductBin("p1", clicks=4, carts=1, orders=1),
                                           ProductBin("p2", clicks=2, carts=1 if i % 4 == 0 else 0)))
                   for i in range(60))


def test_carts_forgets_products_quiet_for_a_window() -> None:
    det = CartsDetector(CartsConfig(window_bins=3))
    det.observe(product_bin(0, ProductBin("p1", clicks=4, carts=1)))
    for i in range(1, 5):
        det.observe(product_bin(i))
    assert det.windows == {}
