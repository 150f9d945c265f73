"""Run-of-show parsing: valid plans become ordered items; every error names row and field."""

from __future__ import annotations

import pytest

from monitor.run_of_show import RunOfShowError, parse_run_of_show, parse_run_of_show_csv, parse_run_of_show_json

CSV_PLAN = """\ufeffproduct,name,position,must_pitch,start_min,end_min,min_gap_min,pitch_min
sku-dress,Summer dress,2,yes,0,30,15,5
sku-bag,Canvas bag,1,,,,,
sku-hat,Sun hat,3,是,60,90,,3
"""


def test_csv_plan_orders_items_by_position_and_converts_minutes_to_seconds() -> None:
    plan = parse_run_of_show_csv(CSV_PLAN)
    assert plan.order == ("sku-bag", "sku-dress", "sku-hat")
    dress = plan.item("sku-dress")
    assert dress is not None
    assert (dress.must_pitch, dress.start_s, dress.end_s, dress.min_gap_s, dress.pitch_s) == (
        True, 0.0, 1800.0, 900.0, 300.0,
    )
    assert plan.item("sku-hat") is not None and plan.item("sku-hat").must_pitch  # type: ignore[union-attr]
    assert plan.item("sku-bag") is not None and not plan.item("sku-bag").must_pitch  # type: ignore[union-attr]
    assert plan.item("missing") is None


def test_json_plan_carries_show_defaults_and_gap_precedence() -> None:
    plan = parse_run_of_show_json(
        '{"duration_min": 120, "min_gap_min": 10, "items": [{"product": "a", "min_gap_min": 20}, {"product": "b"}]}'
    )
    assert plan.duration_s == 7200.0
    assert plan.gap_s("a", default=60.0) == 1200.0  # row beats plan
    assert plan.gap_s("b", default=60.0) == 600.0  # plan beats default
    assert parse_run_of_show_json('[{"product": "c"}]').gap_s("c", default=60.0) == 60.0


def test_plan_item_slot_bounds_are_inclusive_and_open_ended() -> None:
    plan = parse_run_of_show('[{"product": "a", "start_min": 10, "end_min": 20}, {"product": "b"}]', "json")
    a, b = plan.item("a"), plan.item("b")
    assert a is not None and b is not None
    assert [a.in_slot(t) for t in (599.0, 600.0, 1200.0, 1201.0)] == [False, True, True, False]
    assert b.in_slot(0.0) and b.in_slot(1e6)


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ("product,start_min\na,0\nb,abc\n", "csv", "row 2, field 'start_min': expected a number of minutes >= 0"),
        ("product,start_min,end_min\na,30,10\n", "csv", "row 1, field 'end_min': expected a time after start_min"),
        ("product\na\na\n", "csv", "row 2, field 'product': expected a product not already listed in row 1"),
        ("product,colour\na,red\n", "csv", "row 1, field 'colour': expected one of the columns"),
        ("product,must_pitch\na,maybe\n", "csv", "row 1, field 'must_pitch': expected yes/no"),
        ("product,position\na,0\n", "csv", "row 1, field 'position': expected an integer >= 1"),
        ("name\nx\n", "csv", "plan, field 'header'"),
        ("product\nbad id!\n", "csv", "row 1, field 'product'"),
        ("product\n", "csv", "plan, field 'items': expected at least one product"),
        ('[{"product": "a"}, {"product": "b", "pitch_min": 0}]', "json", "row 2, field 'pitch_min'"),
        ('[{"product": "a"}, 7]', "json", "row 2, field '(row)'"),
        ('{"items": [], "speed": 1}', "json", "plan, field 'speed'"),
        ('{"duration_min": 60, "items": [{"product": "a", "start_min": 90}]}', "json", "row 1, field 'start_min'"),
        ("{not json", "json", "plan, field '(json)'"),
        ("product\na\n", "xlsx", "plan, field 'format'"),
    ],
)
def test_parse_errors_name_the_row_and_field(text: str, fmt: str, message: str) -> None:
    with pytest.raises(RunOfShowError) as info:
        parse_run_of_show(text, fmt)
    assert message in str(info.value)
