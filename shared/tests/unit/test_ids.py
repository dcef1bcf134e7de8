"""The platform's id: one pattern, checked the same in plain Python and by the API's validation."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError
from shared.ids import ID_MAX_LENGTH, ID_PATTERN, IdField, is_id

GOOD = ["C-1", "a", "P.SW1", "case:2026:07", "x_y-z", "9" * ID_MAX_LENGTH]
BAD = ["", "-leading", ".x", "sp ace", "slash/", "é", "9" * (ID_MAX_LENGTH + 1), "trailing\n", None, 7]


@pytest.mark.parametrize("value", GOOD)
def test_a_good_id_is_accepted_by_both(value: str) -> None:
    assert is_id(value)
    assert TypeAdapter(IdField).validate_python(value) == value


@pytest.mark.parametrize("value", BAD)
def test_a_bad_id_is_refused_by_both(value: object) -> None:
    assert not is_id(value)
    with pytest.raises(ValidationError):
        TypeAdapter(IdField).validate_python(value, strict=True)


def test_the_api_types_carry_the_one_pattern() -> None:
    schema = TypeAdapter(IdField).json_schema()
    assert schema == {"type": "string", "minLength": 1, "maxLength": ID_MAX_LENGTH, "pattern": ID_PATTERN}
