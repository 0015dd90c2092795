"""The recorded recipe variants (models/variants/) and the model card's table of them."""

import json
from pathlib import Path

import pytest

from model_card import variant_table, with_variant_table
from record_variant import INPUT_MODES, record

VARIANTS = Path(__file__).resolve().parents[1] / "variants"
SCORE_KEYS = {"precision", "recall", "f1", "upos", "uas", "las"}


def evaluation(f1: float, per_type: float, upos: float) -> dict:
    """The shape of evaluate.py --json, with made-up numbers."""
    span = lambda f: {"precision": f + 1, "recall": f - 1, "f1": f}  # noqa: E731
    return {
        "entities": {"micro": span(f1), **{t: span(per_type) for t in ("PER", "ORG", "LOC")}},
        "upos": upos, "uas": 88.123, "las": 85.456,
    }


def test_a_record_keeps_the_options_that_differ_and_each_input_mode(tmp_path):
    run = tmp_path / "wnut-ew5"
    run.mkdir()
    # train.py's options in its own order, as train.json holds them
    args = {"out": str(run), "epochs": 8, "lr": 8e-5, "no_case": False, "wnut": True, "entity_weight": 5.0,
            "ema": 0.0, "distill_weight": 10.0, "phrases_per_step": 32, "seed": 13, "threads": 1}
    (run / "train.json").write_text(json.dumps({"args": args, "minutes": 61.26, "threads": 1}))
    (run / "dev.sentences.json").write_text(json.dumps(evaluation(75.004, 70.0, 96.5)))
    (run / "dev.context128.json").write_text(json.dumps(evaluation(74.0, 69.0, 96.2)))

    rec = record(run)
    assert rec["options"] == "--epochs 8 --wnut --entity-weight 5.0 --distill-weight 10.0 --phrases-per-step 32 --threads 1"
    assert rec["train_minutes"] == 61.3
    assert rec["dev"]["sentences"]["f1"] == 75.0 and rec["dev"]["context128"]["upos"] == 96.2
    assert rec["dev"]["sentences"]["ORG"] == 70.0

    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "wnut-ew5.json").write_text(json.dumps(rec))
    rows = [line for line in variant_table(tmp_path / "records") if line.startswith("| wnut-ew5 ")]
    assert rows == [
        "| wnut-ew5 | `" + rec["options"] + "` | sentences | 76.00 | 74.00 | **75.00** | 96.50 | 88.12 | 85.46 | 61 |",
        "| wnut-ew5 | `" + rec["options"] + "` | context128 | 75.00 | 73.00 | **74.00** | 96.20 | 88.12 | 85.46 | 61 |",
    ]


def test_the_card_gets_its_variant_section_replaced_or_added():
    table = ["## Recipe variants", "", "| new |", ""]
    card = "# m\n\n## Recipe variants\n\n| old |\n\n## Reference export\n\ntext\n"
    assert with_variant_table(card, table) == "# m\n\n## Recipe variants\n\n| new |\n\n## Reference export\n\ntext\n"
    bare = "# m\n\n## Reference export\n\ntext\n"
    assert with_variant_table(bare, table) == "# m\n\n## Recipe variants\n\n| new |\n\n## Reference export\n\ntext\n"


def test_a_run_without_dev_scores_is_refused(tmp_path):
    (tmp_path / "train.json").write_text(json.dumps({"args": {}, "minutes": 1.0, "threads": 2}))
    with pytest.raises(SystemExit, match="evaluate.py"):
        record(tmp_path)


@pytest.mark.parametrize("path", sorted(VARIANTS.glob("*.json")), ids=lambda p: p.stem)
def test_committed_records_are_complete(path):
    rec = json.loads(path.read_text())
    assert rec["name"] == path.stem
    assert rec["dev"] and set(rec["dev"]) <= set(INPUT_MODES)
    for scores in rec["dev"].values():
        assert SCORE_KEYS <= set(scores)
        assert all(0 < scores[k] <= 100 for k in SCORE_KEYS)
