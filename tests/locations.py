"""Where the end-to-end checks find the project's data and the edgemine binary."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """EDGEMINE_DATA, default ../shared/data beside the clone."""
    return Path(os.environ.get("EDGEMINE_DATA", ROOT.parent / "shared" / "data"))


def binary() -> Path:
    """EDGEMINE_BIN, default target/release/edgemine, then target/debug/edgemine."""
    if "EDGEMINE_BIN" in os.environ:
        return Path(os.environ["EDGEMINE_BIN"])
    for profile in ("release", "debug"):
        path = ROOT / "target" / profile / "edgemine"
        if path.exists():
            return path
    raise FileNotFoundError("no edgemine binary: run `cargo build --release -p edgemine-cli` or set EDGEMINE_BIN")
