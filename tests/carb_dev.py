"""edgemine's triples on the CaRB dev split, scored by CaRB's own scorer.

    cargo build --release -p edgemine-cli
    python tests/carb_dev.py                       # prints F1, AUC, precision, recall
    python tests/carb_dev.py --pretokenized        # the sentences' own tokens as words
    python -m pytest tests/carb_dev.py             # the same, as a regression check

Runs `edgemine extract --input lines --format carb` on `carb/data/dev.txt`
(one sentence a line, exactly as the scorer expects it back), then
`carb.py --tabbed` with the default matcher, as the shared data's README
says. Needs docopt, numpy and scikit-learn (models/tests/requirements.txt).
The data folder is EDGEMINE_DATA, default ../shared/data; the binary is
EDGEMINE_BIN, default target/release/edgemine (then target/debug/edgemine).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from locations import binary, data_dir

# A floor under the measured dev F1 and AUC: catches a broken rule or parse, not noise.
MIN_F1 = 0.50
MIN_AUC = 0.28


def extract(out: Path, pretokenized: bool = False) -> int:
    """Writes the CaRB extractions of the dev sentences to `out`; returns how many."""
    carb = data_dir() / "carb"
    cmd = [str(binary()), "extract", str(carb / "data" / "dev.txt"), "--input", "lines", "--format", "carb"]
    if pretokenized:
        cmd.append("--pretokenized")
    with out.open("w") as f:
        subprocess.run(cmd, stdout=f, check=True)
    return sum(1 for _ in out.open())


def score(extractions: Path) -> dict[str, float]:
    """CaRB's scorer, default matcher: AUC and the best F1 with its precision and recall."""
    carb = data_dir() / "carb"
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(
            [
                sys.executable,
                "carb.py",
                "--gold=data/gold/dev.tsv",
                f"--out={Path(tmp) / 'pr.dat'}",
                f"--tabbed={extractions.resolve()}",
            ],
            cwd=carb,
            env={**os.environ, "PYTHONPATH": str(carb / "compat")},
            capture_output=True,
            text=True,
            check=True,
        )
    # carb.py prints: AUC: 0.3 	 Optimal (precision, recall, F1): [0.6 0.4 0.5]
    match = re.search(r"AUC:\s*([\d.]+).*?\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", run.stdout, re.S)
    if not match:
        raise RuntimeError(f"unexpected carb.py output:\n{run.stdout}\n{run.stderr}")
    auc, p, r, f1 = (float(x) for x in match.groups())
    return {"f1": f1, "auc": auc, "precision": p, "recall": r}


def test_carb_dev(tmp_path: Path) -> None:
    out = tmp_path / "dev.carb.tsv"
    n = extract(out)
    s = score(out)
    print(f"CaRB dev: {n} extractions, F1 {s['f1']:.3f} AUC {s['auc']:.3f} P {s['precision']:.3f} R {s['recall']:.3f}")
    assert s["f1"] >= MIN_F1, s
    assert s["auc"] >= MIN_AUC, s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pretokenized", action="store_true", help="pass --pretokenized to edgemine")
    ap.add_argument("--keep", type=Path, help="write the extractions here (default: a temporary file)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "dev.carb.tsv"
        n = extract(out, args.pretokenized)
        s = score(out)
    print(f"{n} extractions on {sum(1 for _ in (data_dir() / 'carb' / 'data' / 'dev.txt').open())} sentences")
    print(f"CaRB dev: F1 {s['f1']:.3f}  AUC {s['auc']:.3f}  P {s['precision']:.3f}  R {s['recall']:.3f}")


if __name__ == "__main__":
    main()
