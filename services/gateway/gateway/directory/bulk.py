"""Reading a bulk import of directory records (JSON or CSV) and checking every row (no I/O).

A file is refused whole only when it cannot be read as rows at all (not a JSON array, a CSV
without an ``id`` column or with columns the record does not have, too many rows). Otherwise
each row is checked on its own: a bad row is reported with its number, its id and what is wrong
with it, and the good rows go on to be written.

Rows are numbered from 1 in the order they were sent: in a CSV file, row 1 is the line after
the header. In CSV, list fields (``roles``, ``sibling_case_ids``) are separated by ``;`` and an
empty cell means "not given".
"""

from __future__ import annotations

import csv
import io
import json
import typing
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError
from shared.ids import is_id

LIST_SEPARATOR = ";"

M = TypeVar("M", bound=BaseModel)


class UnreadableImport(Exception):
    """The upload as a whole cannot be read as rows; nothing is imported."""


@dataclass(frozen=True)
class RowError:
    field: str | None
    message: str


@dataclass(frozen=True)
class Rejected:
    row: int
    id: str | None
    errors: list[RowError]


@dataclass
class CheckedRows(Generic[M]):
    """Rows that passed (row number, id, record as the API's body) and rows that did not."""

    good: list[tuple[int, str, M]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def received(self) -> int:
        return len(self.good) + len(self.rejected)


def read_rows(body: bytes, content_type: str, model: type[BaseModel], *, max_rows: int) -> list[Any]:
    """The rows of a JSON array or a CSV file, as sent (not yet checked)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableImport("The file is not UTF-8 text.") from exc
    if media_type == "application/json":
        rows = _json_rows(text)
    elif media_type in ("text/csv", "application/csv"):
        rows = _csv_rows(text, model)
    else:
        raise UnreadableImport("Send the records as application/json (an array of objects) or text/csv.")
    if not rows:
        raise UnreadableImport("The file holds no rows.")
    if len(rows) > max_rows:
        raise UnreadableImport(f"The file holds {len(rows)} rows; one import takes at most {max_rows}. Split it.")
    return rows


def _json_rows(text: str) -> list[Any]:
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableImport(f"The file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from exc
    if not isinstance(rows, list):
        raise UnreadableImport("The JSON must be an array of records, each an object with an 'id'.")
    return rows


def _list_fields(model: type[BaseModel]) -> set[str]:
    return {name for name, f in model.model_fields.items() if typing.get_origin(f.annotation) is list}


def _csv_rows(text: str, model: type[BaseModel]) -> list[Any]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    if "id" not in columns:
        raise UnreadableImport("The CSV's first line must name the columns, one of them 'id'.")
    unknown = sorted(set(columns) - {"id", *model.model_fields})
    if unknown:
        raise UnreadableImport(f"Unknown column(s): {', '.join(unknown)}. The columns are id, {', '.join(model.model_fields)}.")
    reader.fieldnames = columns
    lists = _list_fields(model)
    rows: list[Any] = []
    try:
        for raw in reader:
            if None in raw:
                rows.append({"__error__": f"the row has {len(columns) + len(raw[None])} cells; the header names {len(columns)}"})
                continue
            row: dict[str, Any] = {}
            for name, value in raw.items():
                value = (value or "").strip()
                if value == "":
                    continue
                row[name] = [v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()] if name in lists else value
            rows.append(row)
    except csv.Error as exc:
        raise UnreadableImport(f"The CSV cannot be read: {exc}.") from exc
    return rows


def check_rows(rows: list[Any], model: type[M]) -> CheckedRows[M]:
    """Check every row against the record's rules (``model``, its body in the API: ``schemas``);
    a repeated id is refused after its first row."""
    checked: CheckedRows[M] = CheckedRows()
    first_row: dict[str, int] = {}
    for number, raw in enumerate(rows, start=1):
        if not isinstance(raw, dict):
            checked.rejected.append(Rejected(number, None, [RowError(None, "a record must be an object with an 'id'")]))
            continue
        if "__error__" in raw:
            checked.rejected.append(Rejected(number, None, [RowError(None, raw["__error__"])]))
            continue
        fields = dict(raw)
        record_id = fields.pop("id", None)
        errors: list[RowError] = []
        if not is_id(record_id):
            errors.append(RowError("id", "the id must be 1-64 letters, digits and . _ : - (starting with a letter or digit)"))
            record_id = record_id if isinstance(record_id, str) else None
        elif record_id in first_row:
            errors.append(RowError("id", f"the id appears already in row {first_row[record_id]}"))
        try:
            record = model.model_validate(fields)
        except ValidationError as exc:
            errors.extend(RowError(".".join(str(p) for p in e["loc"]) or None, e["msg"]) for e in exc.errors())
        if errors:
            checked.rejected.append(Rejected(number, record_id, errors))
            continue
        assert record_id is not None
        first_row[record_id] = number
        checked.good.append((number, record_id, record))
    return checked
