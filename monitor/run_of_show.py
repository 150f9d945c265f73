"""Run-of-show plans: the merchant's product order, must-pitch items, time slots and gaps.

Plans arrive as CSV or JSON text typed by people, so parsing is strict and every error names
the row and the field. Times are minutes from the start of the show, the way run-of-show
sheets are written; the parsed plan holds seconds.

CSV: a header row, then one product per row. Columns (only `product` is required)::

    product,name,position,must_pitch,start_min,end_min,min_gap_min,pitch_min

JSON: either a list of rows with the same keys, or
``{"duration_min": 120, "min_gap_min": 10, "items": [...]}``.

Exceptions::

    ValueError
     └── RunOfShowError   one bad field of one row (row, field, expected, got)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from monitor.event_parsing import ID_PATTERN

_COLUMNS = ("product", "name", "position", "must_pitch", "start_min", "end_min", "min_gap_min", "pitch_min")
_TRUE = frozenset({"1", "true", "yes", "y", "x", "是", "必播"})
_FALSE = frozenset({"", "0", "false", "no", "n", "否"})
MAX_ITEMS = 500


class RunOfShowError(ValueError):
    """One field of one plan row is wrong; row 0 means the plan as a whole."""

    def __init__(self, row: int, field: str, expected: str, got: object) -> None:
        self.row = row
        self.field = field
        where = "plan" if row == 0 else f"row {row}"
        super().__init__(f"{where}, field '{field}': expected {expected}, got {got!r}")


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One planned product. Offsets are seconds from the start of the show."""

    product: str
    position: int
    name: str = ""
    must_pitch: bool = False
    start_s: float | None = None
    end_s: float | None = None
    min_gap_s: float | None = None
    pitch_s: float | None = None

    def in_slot(self, offset_s: float) -> bool:
        """Whether the show is inside this item's time slot (no slot means always)."""
        if self.start_s is not None and offset_s < self.start_s:
            return False
        return self.end_s is None or offset_s <= self.end_s


@dataclass(frozen=True, slots=True)
class RunOfShow:
    """A validated plan: items in planned order plus show-wide defaults."""

    items: tuple[PlanItem, ...]
    duration_s: float | None = None
    min_gap_s: float | None = None

    def item(self, product: str) -> PlanItem | None:
        """Return the plan row of `product`, or None when the plan does not list it."""
        for item in self.items:
            if item.product == product:
                return item
        return None

    @property
    def order(self) -> tuple[str, ...]:
        """Products in planned order."""
        return tuple(item.product for item in self.items)

    def gap_s(self, product: str, default: float) -> float:
        """Minimum seconds between two pitches of `product`: row, then plan, then `default`."""
        item = self.item(product)
        if item is not None and item.min_gap_s is not None:
            return item.min_gap_s
        return self.min_gap_s if self.min_gap_s is not None else default


def _minutes(row: int, field: str, value: object) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise RunOfShowError(row, field, "a number of minutes >= 0", value)
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise RunOfShowError(row, field, "a number of minutes >= 0", value) from None
    if not number >= 0 or number == float("inf"):
        raise RunOfShowError(row, field, "a number of minutes >= 0", value)
    return number * 60.0


def _flag(row: int, field: str, value: object) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RunOfShowError(row, field, "yes/no, true/false or 1/0", value)


def _item(row: int, data: Mapping[str, Any]) -> PlanItem:
    unknown = sorted(set(data) - set(_COLUMNS))
    if unknown:
        raise RunOfShowError(row, unknown[0], "one of the columns " + ", ".join(_COLUMNS), "an unknown column")
    product = data.get("product")
    product = str(product).strip() if isinstance(product, (str, int)) and not isinstance(product, bool) else product
    if not isinstance(product, str) or not ID_PATTERN.match(product):
        raise RunOfShowError(row, "product", "a product id (letters, digits, _ . : @ -)", product)
    position_raw = data.get("position")
    if position_raw is None or (isinstance(position_raw, str) and not position_raw.strip()):
        position = row
    else:
        try:
            position = int(str(position_raw).strip()) if not isinstance(position_raw, bool) else -1
        except ValueError:
            position = -1
        if position < 1:
            raise RunOfShowError(row, "position", "an integer >= 1", position_raw)
    name = data.get("name") or ""
    if not isinstance(name, str) or len(name) > 200:
        raise RunOfShowError(row, "name", "text of at most 200 characters", name)
    start = _minutes(row, "start_min", data.get("start_min"))
    end = _minutes(row, "end_min", data.get("end_min"))
    if start is not None and end is not None and end <= start:
        raise RunOfShowError(row, "end_min", f"a time after start_min ({start / 60:g})", data.get("end_min"))
    pitch = _minutes(row, "pitch_min", data.get("pitch_min"))
    if pitch == 0:
        raise RunOfShowError(row, "pitch_min", "a number of minutes > 0", data.get("pitch_min"))
    return PlanItem(
        product=product,
        position=position,
        name=name.strip(),
        must_pitch=_flag(row, "must_pitch", data.get("must_pitch")),
        start_s=start,
        end_s=end,
        min_gap_s=_minutes(row, "min_gap_min", data.get("min_gap_min")),
        pitch_s=pitch,
    )


def _plan(rows: list[Mapping[str, Any]], duration_s: float | None, min_gap_s: float | None) -> RunOfShow:
    if not rows:
        raise RunOfShowError(0, "items", "at least one product", "none")
    if len(rows) > MAX_ITEMS:
        raise RunOfShowError(0, "items", f"at most {MAX_ITEMS} products", len(rows))
    items = [_item(index, row) for index, row in enumerate(rows, start=1)]
    seen: dict[str, int] = {}
    for index, item in enumerate(items, start=1):
        if item.product in seen:
            raise RunOfShowError(index, "product", f"a product not already listed in row {seen[item.product]}",
                                 item.product)
        seen[item.product] = index
        if duration_s is not None and item.start_s is not None and item.start_s >= duration_s:
            raise RunOfShowError(index, "start_min", f"a time before the show ends ({duration_s / 60:g} min)",
                                 item.start_s / 60)
    ordered = sorted(enumerate(items), key=lambda pair: (pair[1].position, pair[0]))
    return RunOfShow(items=tuple(item for _, item in ordered), duration_s=duration_s, min_gap_s=min_gap_s)


def parse_run_of_show_csv(text: str) -> RunOfShow:
    """Parse a CSV plan (header row first). Raises `RunOfShowError` naming row and field."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "product" not in [f.strip() for f in reader.fieldnames]:
        raise RunOfShowError(0, "header", "a header row with a 'product' column", reader.fieldnames)
    rows: list[Mapping[str, Any]] = []
    for raw in reader:
        extra = raw.get(None)
        if extra is not None:
            raise RunOfShowError(len(rows) + 1, "(columns)", "no more values than header columns", extra)
        row = {k.strip(): v for k, v in raw.items() if k is not None}
        if all(v is None or not str(v).strip() for v in row.values()):
            continue
        rows.append({k: v for k, v in row.items() if v is not None and str(v).strip() != ""})
    return _plan(rows, None, None)


def parse_run_of_show_json(text: str | bytes) -> RunOfShow:
    """Parse a JSON plan (a list of rows or an object with `items`). Raises `RunOfShowError`."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise RunOfShowError(0, "(json)", "valid JSON", str(exc)) from None
    duration_s = min_gap_s = None
    if isinstance(data, dict):
        unknown = sorted(set(data) - {"items", "duration_min", "min_gap_min"})
        if unknown:
            raise RunOfShowError(0, unknown[0], "one of items, duration_min, min_gap_min", "an unknown key")
        duration_s = _minutes(0, "duration_min", data.get("duration_min"))
        min_gap_s = _minutes(0, "min_gap_min", data.get("min_gap_min"))
        data = data.get("items")
    if not isinstance(data, list):
        raise RunOfShowError(0, "items", "a list of product rows", data)
    for index, row in enumerate(data, start=1):
        if not isinstance(row, dict):
            raise RunOfShowError(index, "(row)", "an object with at least 'product'", row)
    return _plan(data, duration_s, min_gap_s)


def parse_run_of_show(text: str, fmt: str) -> RunOfShow:
    """Parse `text` as `fmt` ("csv" or "json")."""
    if fmt == "csv":
        return parse_run_of_show_csv(text)
    if fmt == "json":
        return parse_run_of_show_json(text)
    raise RunOfShowError(0, "format", "csv or json", fmt)
