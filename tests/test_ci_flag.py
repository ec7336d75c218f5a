"""``CI`` counts as set for any non-empty value other than 0/false (tests/conftest.py)."""

import pytest

from tests.conftest import in_ci


@pytest.mark.parametrize("value, expected", [
    ("true", True), ("TRUE", True), ("1", True), ("yes", True), ("github", True), (" on ", True),
    ("", False), (None, False), ("0", False), ("false", False), ("False", False), ("  ", False),
])
def test_ci_values(value, expected):
    assert in_ci(value) is expected
