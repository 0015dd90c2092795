"""Shared fixtures: one engine for the session, the CLI binary to compare
against, and documents that stress offsets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import edgemine

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
from locations import binary  # noqa: E402  (the end-to-end checks' own lookup)

# Text whose code points, UTF-8 bytes and UTF-16 units all differ: emoji
# (outside the BMP, two UTF-16 units, some joined by ZWJ), CJK, combining
# marks (a letter and its accent are two code points), right-to-left script.
NON_ASCII = (
    "Dr. Zoë Müller 👩🏽‍🔬 met Siemens engineers in Zürich on Monday. "
    "北京的 Huawei team sent 🚀 rockets to São Paulo and Kraków. "
    "The cafe\u0301 owner, Jose\u0301 Garci\u0301a, thanked Microsoft for the 🇩🇪 flags. "
    "مرحبا Anna Keller visited the Tōkyō plant of Toyota, and Ω-Systems GmbH bought it."
)


@pytest.fixture(scope="session")
def engine() -> edgemine.Engine:
    # Two threads, as the CLI is run with below, so both batch alike.
    return edgemine.Engine(threads=2)


@pytest.fixture(scope="session")
def cli() -> Path:
    """EDGEMINE_BIN, else the workspace's release build, else its debug build."""
    return binary()


@pytest.fixture(scope="session")
def sample_text() -> str:
    return (REPO / "samples" / "sample.txt").read_text(encoding="utf-8")
