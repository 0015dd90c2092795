"""The shared expected extractions (tests/cases.json) through the Python package."""

from __future__ import annotations

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parents[2] / "tests"))
from cases import CASES, check  # noqa: E402  (the shared rules, beside the cases)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(engine, case):
    if "error" in case:
        with pytest.raises(ValueError) as raised:
            engine.extract(case["text"], **case["options"])
        assert raised.value.code == case["error"]
    else:
        check(case, engine.extract(case["text"], **case["options"]).to_dict())
