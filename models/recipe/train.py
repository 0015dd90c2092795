"""Step 2: fine-tune MiniLM-L6 into edgemine's multi-task tagger.

One encoder, heads for entities (UNER PER/ORG/LOC, BIO), UPOS, dependency
arcs (biaffine) and labels (bilinear), and a sentence/phrase embedding kept
close to all-MiniLM-L6-v2 by distillation (teacher: the frozen reference
encoder, on the training sentences and on noun phrases cut from their trees).

    python train.py --out WORK/tagger [--epochs 8] [--no-case] [--wnut] [--seed 13]

Writes OUT/checkpoint.pt (weights + label sets + options) and OUT/train.json
(options, time taken, per-epoch dev scores from the torch model with greedy
decoding; the shipped numbers come from evaluate.py on the ONNX file).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from common import (
    DATA, ENTITY_LABELS, UPOS_LABELS, WORK, Encoded, Sentence, bio_spans,
    encode_words, join_sentences, load_tokenizer, noun_phrases, pack_documents, read_ewt, read_wnut,
    wordpiece_counts,
)
from decode import bio_constraints, bio_viterbi
from encoder import Encoder, EncoderConfig, HeadConfig, Tagger, mean_pool
from export_reference import base_weights

MAX_TRAIN_WORDPIECES = 256


class Example:
    __slots__ = ("enc", "entities", "upos", "heads", "deprels", "n_words", "owner", "teacher")

    def __init__(self, enc: Encoded, s: Sentence, deprel_ids: dict[str, int]):
        self.enc = enc
        self.n_words = len(s.words)
        self.owner = s.extra.get("sentence_of_word") or [0] * len(s.words)
        self.entities = [ENTITY_LABELS.index(t) for t in s.entities] if s.entities else None
        self.upos = [UPOS_LABELS.index(u) for u in s.upos] if s.upos else None
        self.heads = list(s.heads) if s.heads else None
        self.deprels = [deprel_ids.get(d, -100) for d in s.deprels] if s.deprels else None
        self.teacher = None


def pad(rows: list[list[int]], value: int) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def collate(batch: list[Example]) -> dict[str, torch.Tensor]:
    ids = pad([e.enc.input_ids for e in batch], 0)
    out = {
        "input_ids": ids,
        "attention_mask": (pad([[1] * len(e.enc.input_ids) for e in batch], 0)),
        "case_ids": pad([e.enc.case_ids for e in batch], 0),
        "word_index": pad([e.enc.word_index for e in batch], 0),
        "entities": pad([e.entities or [-100] * e.n_words for e in batch], -100),
        "upos": pad([e.upos or [-100] * e.n_words for e in batch], -100),
        "heads": pad([e.heads or [-100] * e.n_words for e in batch], -100),
        "deprels": pad([e.deprels or [-100] * e.n_words for e in batch], -100),
        "head_ok": head_mask(batch),
    }
    if all(e.teacher is not None for e in batch):
        out["teacher"] = torch.stack([e.teacher for e in batch])
    return out


def head_mask(batch: list[Example]) -> torch.Tensor:
    """[b, w, w+1]: ROOT, or a word of the dependent's own sentence."""
    width = max(e.n_words for e in batch)
    ok = torch.zeros(len(batch), width, width + 1, dtype=torch.bool)
    for k, e in enumerate(batch):
        owner = torch.tensor(e.owner)
        ok[k, : e.n_words, 0] = True
        ok[k, : e.n_words, 1 : e.n_words + 1] = owner[:, None] == owner[None, :]
    return ok


def batches(examples: list, size: int, rng: random.Random) -> list[list]:
    """Length-sorted batches in shuffled order: little padding, random order."""
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i].enc.input_ids), rng.random()))
    groups = [[examples[i] for i in order[k : k + size]] for k in range(0, len(order), size)]
    rng.shuffle(groups)
    return groups


@torch.no_grad()
def teacher_embeddings(teacher: Encoder, encs: list[Encoded], size: int = 128) -> list[torch.Tensor]:
    """The reference embedding of each input, on the same wordpieces the student sees."""
    out: list[torch.Tensor | None] = [None] * len(encs)
    order = sorted(range(len(encs)), key=lambda i: len(encs[i].input_ids))
    for k in range(0, len(order), size):
        idx = order[k : k + size]
        ids = pad([encs[i].input_ids for i in idx], 0)
        mask = pad([[1] * len(encs[i].input_ids) for i in idx], 0)
        emb = mean_pool(teacher(ids, mask), mask)
        for j, i in enumerate(idx):
            out[i] = emb[j]
    return out


# IOB2's transition rule as additive scores: 0 where allowed, a large
# negative where not (not -inf, whose gradients are NaN).
_ALLOWED, _START_OK = bio_constraints(ENTITY_LABELS)
BIO_TRANSITIONS = torch.where(torch.from_numpy(_ALLOWED), 0.0, -1e4)
BIO_START = torch.where(torch.from_numpy(_START_OK), 0.0, -1e4)


def constrained_crf_nll(emissions: torch.Tensor, tags: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of the gold tag sequences among the IOB2-valid
    ones, per word: a linear-chain CRF whose transitions are IOB2's fixed
    rule, with no learned parameters.

    It trains the sequence the decoders pick (Viterbi over the same rule), and
    needs nothing new from them: a per-position constant, such as the
    log-softmax the decoders apply, never changes which path is best.
    `emissions` [b, w, k]; `tags` [b, w], -100 past each sentence's end and on
    sentences without entity labels."""
    # Scores of whole paths are sums over up to a chunk's words: bfloat16's
    # 8-bit mantissa (under --bf16 autocast) would drown the gold path's
    # difference from log Z, so the recursion runs in fp32 (or wider).
    emissions = emissions.to(torch.promote_types(emissions.dtype, torch.float32))
    mask = tags >= 0
    rows = mask[:, 0]
    emissions, tags, mask = emissions[rows], tags[rows], mask[rows]
    if emissions.shape[0] == 0:
        return emissions.sum() * 0.0
    gold = tags.clamp(min=0)
    trans = BIO_TRANSITIONS.to(emissions.dtype)
    start = BIO_START.to(emissions.dtype)
    # Forward algorithm over the valid paths, each sentence stopping at its end.
    alpha = emissions[:, 0] + start
    for i in range(1, emissions.shape[1]):
        step = torch.logsumexp(alpha[:, :, None] + trans[None], dim=1) + emissions[:, i]
        alpha = torch.where(mask[:, i, None], step, alpha)
    log_z = torch.logsumexp(alpha, dim=-1)
    at_gold = emissions.gather(-1, gold[..., None]).squeeze(-1)
    gold_score = (at_gold * mask).sum(1) + start[gold[:, 0]]
    gold_score = gold_score + (trans[gold[:, :-1], gold[:, 1:]] * mask[:, 1:]).sum(1)
    return (log_z - gold_score).sum() / mask.sum()


def losses(model: Tagger, b: dict[str, torch.Tensor], entity_loss: str = "token") -> dict[str, torch.Tensor]:
    ent, upos, arcs, deprels, emb = model(b["input_ids"], b["attention_mask"], b["case_ids"], b["word_index"])
    n_w = arcs.shape[1]
    arcs = arcs.masked_fill(~b["head_ok"], -1e4)
    if entity_loss == "crf":
        entities = constrained_crf_nll(ent, b["entities"])
    else:
        entities = F.cross_entropy(ent.reshape(-1, ent.shape[-1]), b["entities"].reshape(-1), ignore_index=-100)
    out = {
        "entities": entities,
        "upos": F.cross_entropy(upos.reshape(-1, upos.shape[-1]), b["upos"].reshape(-1), ignore_index=-100),
        "arcs": F.cross_entropy(arcs.reshape(-1, n_w + 1), b["heads"].reshape(-1), ignore_index=-100),
    }
    gold_heads = b["heads"].clamp(min=0)
    at_gold = torch.gather(deprels, 2, gold_heads[:, :, None, None].expand(-1, -1, 1, deprels.shape[-1])).squeeze(2)
    labels = torch.where(b["heads"] >= 0, b["deprels"], torch.full_like(b["deprels"], -100))
    out["deprels"] = F.cross_entropy(at_gold.reshape(-1, at_gold.shape[-1]), labels.reshape(-1), ignore_index=-100)
    if "teacher" in b:
        out["sentence_distill"] = (1 - (emb * b["teacher"]).sum(-1)).mean()
    return {k: v for k, v in out.items() if torch.isfinite(v)}


def span_counts(gold: set, pred: set) -> np.ndarray:
    """True positives, false positives and false negatives of predicted spans."""
    return np.array([len(gold & pred), len(pred - gold), len(gold - pred)])


@torch.no_grad()
def dev_scores(model: Tagger, dev: list[Example]) -> dict[str, float]:
    """Dev scores from the torch model, to watch training (not shipped
    numbers): entity F1 both greedy (`entity_f1`, as every variant recorded
    it) and IOB2-Viterbi decoded as shipped (`entity_f1_viterbi`); UPOS, UAS
    and LAS greedy."""
    model.eval()
    greedy = np.zeros(3, dtype=np.int64)  # true positives, false positives, false negatives
    viterbi = np.zeros(3, dtype=np.int64)
    upos_ok = uas = las = words = 0
    cos = []
    for k in range(0, len(dev), 64):
        chunk = dev[k : k + 64]
        b = collate(chunk)
        ent, upos, arcs, deprels, emb = model(b["input_ids"], b["attention_mask"], b["case_ids"], b["word_index"])
        arcs = arcs.masked_fill(~b["head_ok"], -1e4)
        for j, e in enumerate(chunk):
            n = e.n_words
            pred_ent = [ENTITY_LABELS[i] for i in ent[j, :n].argmax(-1).tolist()]
            gold = bio_spans([ENTITY_LABELS[i] for i in e.entities])
            greedy += span_counts(gold, bio_spans(pred_ent))
            viterbi += span_counts(gold, bio_spans(bio_viterbi(ent[j, :n].numpy(), ENTITY_LABELS)))
            upos_ok += sum(int(p == g) for p, g in zip(upos[j, :n].argmax(-1).tolist(), e.upos))
            heads = arcs[j, :n, : n + 1].argmax(-1)
            labels = deprels[j, torch.arange(n), heads].argmax(-1).tolist()
            for i, (h, l) in enumerate(zip(heads.tolist(), labels)):
                if h == e.heads[i]:
                    uas += 1
                    las += int(l == e.deprels[i])
            words += n
        if "teacher" in b:
            cos += (emb * b["teacher"]).sum(-1).tolist()
    model.train()
    f1 = lambda tp, fp, fn: 100 * 2 * tp / max(2 * tp + fp + fn, 1)  # noqa: E731
    out = {
        "entity_f1": f1(*greedy), "entity_f1_viterbi": f1(*viterbi),
        "upos": 100 * upos_ok / words, "uas": 100 * uas / words, "las": 100 * las / words,
    }
    if cos:
        out["sentence_cosine"] = float(np.mean(cos))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=WORK / "tagger")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=8e-5, help="encoder learning rate")
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--no-case", action="store_true", help="train without the case embedding")
    ap.add_argument("--wnut", action="store_true", help="add WNUT-17 (mapped to PER/ORG/LOC) to the entity data")
    ap.add_argument("--entity-weight", type=float, default=1.0, help="weight of the entity loss against the others")
    ap.add_argument(
        "--entity-loss", choices=("token", "crf"), default="token",
        help="token: cross-entropy per word; crf: likelihood of the whole gold sequence among the IOB2-valid ones",
    )
    ap.add_argument("--entity-hidden", type=int, default=0, help="width of a GELU layer before the entity classifier (0: none)")
    ap.add_argument(
        "--ema", type=float, default=0.0,
        help="keep an exponential moving average of the weights with this decay per step and ship it (0: off)",
    )
    ap.add_argument("--distill-weight", type=float, default=10.0)
    ap.add_argument("--phrases-per-step", type=int, default=32)
    ap.add_argument(
        "--context", type=int, default=0,
        help="pack consecutive sentences of a document into chunks of up to N wordpieces (random sizes each "
        "epoch), as the engine packs documents; 0 = one sentence per sequence",
    )
    ap.add_argument(
        "--bf16", action="store_true",
        help="run the training steps' matrix products in bfloat16 (torch.autocast; weights, optimizer and "
        "evaluation stay fp32): much faster on CPUs with native bf16 (AVX512-BF16 or AMX), slower elsewhere; "
        "benches/train_step.py times a step both ways",
    )
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training sentences (smoke runs)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    rng = random.Random(args.seed)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()

    tok = load_tokenizer(base_weights() / "tokenizer.json")
    train_s = read_ewt("train")
    dev_s = read_ewt("dev")
    if args.limit:
        train_s = train_s[: args.limit]
        dev_s = dev_s[: max(args.limit // 4, 50)]
    deprel_labels = sorted({d for s in train_s for d in s.deprels})
    deprel_ids = {d: i for i, d in enumerate(deprel_labels)}

    def examples(sentences):
        out = []
        for s in sentences:
            enc = encode_words(tok, s.words, MAX_TRAIN_WORDPIECES)
            if enc is not None:
                out.append(Example(enc, s, deprel_ids))
        return out

    def chunked(sentences, sizes, rng_or_none):
        if not args.context:
            return examples(sentences)
        groups = pack_documents(sentences, sizes, args.context, rng_or_none)
        return examples([join_sentences([sentences[i] for i in g]) for g in groups])

    train_sizes = wordpiece_counts(tok, train_s) if args.context else []
    train = chunked(train_s, train_sizes, rng)
    dev = chunked(dev_s, wordpiece_counts(tok, dev_s) if args.context else [], None)
    extra = examples(read_wnut(DATA / "wnut17" / "wnut17train.conll")) if args.wnut else []
    seen_phrases, phrases = set(), []
    for s in train_s:
        for words in noun_phrases(s):
            key = " ".join(words).lower()
            if key not in seen_phrases:
                seen_phrases.add(key)
                enc = encode_words(tok, words, 64)
                if enc is not None:
                    phrases.append(enc)
    print(f"train {len(train)} (+{len(extra)} WNUT), dev {len(dev)}, phrases {len(phrases)}, deprels {len(deprel_labels)}")

    teacher = Encoder(EncoderConfig(), with_case=False)
    teacher.load_reference(str(base_weights() / "model.safetensors"))
    teacher.eval()
    t0 = time.time()
    for group in (train, dev, extra):
        for e, t in zip(group, teacher_embeddings(teacher, [e.enc for e in group])):
            e.teacher = t
    teacher_cache = {tuple(e.enc.input_ids): e.teacher for e in train}
    phrase_teacher = teacher_embeddings(teacher, phrases)
    print(f"teacher embeddings in {time.time() - t0:.0f}s")

    head_config = HeadConfig(
        n_entities=len(ENTITY_LABELS), n_upos=len(UPOS_LABELS), n_deprels=len(deprel_labels),
        entity_hidden=args.entity_hidden,
    )
    model = Tagger(EncoderConfig(), head_config, with_case=not args.no_case)
    model.encoder.load_state_dict(teacher.state_dict(), strict=False)
    encoder_params = [p for n, p in model.named_parameters() if n.startswith("encoder.") and "case_embeddings" not in n]
    head_params = [p for n, p in model.named_parameters() if not n.startswith("encoder.") or "case_embeddings" in n]
    opt = torch.optim.AdamW(
        [{"params": encoder_params, "lr": args.lr}, {"params": head_params, "lr": args.head_lr}], weight_decay=0.01
    )
    steps_per_epoch = len(batches(train + extra, args.batch, random.Random(0)))
    total = steps_per_epoch * args.epochs
    warmup = max(1, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup)))
    )

    # The averaged weights are what ships when --ema is on; the raw ones are
    # scored beside them each epoch so the record shows what averaging gave.
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(args.ema)) if args.ema else None
    history = []
    step = 0
    model.train()
    for epoch in range(1, args.epochs + 1):
        t_epoch = time.time()
        if args.context and epoch > 1:
            # New random chunk sizes each epoch; teacher vectors for new chunks.
            train = chunked(train_s, train_sizes, rng)
            todo = [e for e in train if tuple(e.enc.input_ids) not in teacher_cache]
            for e, t in zip(todo, teacher_embeddings(teacher, [e.enc for e in todo])):
                teacher_cache[tuple(e.enc.input_ids)] = t
            for e in train:
                e.teacher = teacher_cache[tuple(e.enc.input_ids)]
        sums: dict[str, float] = {}
        since = 0
        for group in batches(train + extra, args.batch, rng):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                parts = losses(model, collate(group), args.entity_loss)
            weights = {"sentence_distill": args.distill_weight, "entities": args.entity_weight}
            loss = sum(parts[k] * weights.get(k, 1.0) for k in parts)
            if args.phrases_per_step:
                pick = rng.sample(range(len(phrases)), args.phrases_per_step)
                ids = pad([phrases[i].input_ids for i in pick], 0)
                mask = pad([[1] * len(phrases[i].input_ids) for i in pick], 0)
                case = pad([phrases[i].case_ids for i in pick], 0)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                    emb = model.embed(ids, mask, case).float()
                parts["phrase_distill"] = (1 - (emb * torch.stack([phrase_teacher[i] for i in pick])).sum(-1)).mean()
                loss = loss + args.distill_weight * parts["phrase_distill"]
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            if ema is not None:
                ema.update_parameters(model)
            step += 1
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            since += 1
            if step % 50 == 0:
                print(f"epoch {epoch} step {step}/{total} " + " ".join(f"{k} {v / since:.3f}" for k, v in sums.items()), flush=True)
                sums, since = {}, 0
        scores = dev_scores(model, dev)
        if ema is not None:
            scores["ema"] = dev_scores(ema.module, dev)
        scores.update(epoch=epoch, minutes=(time.time() - t_epoch) / 60)
        history.append(scores)
        print("dev", json.dumps(scores), flush=True)

    torch.save(
        {
            "state_dict": (ema.module if ema is not None else model).state_dict(),
            "heads": asdict(head_config),
            "with_case": not args.no_case,
            "entity_labels": ENTITY_LABELS,
            "upos_labels": UPOS_LABELS,
            "deprel_labels": deprel_labels,
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        },
        args.out / "checkpoint.pt",
    )
    report = {
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "minutes": (time.time() - t_start) / 60,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "dev_by_epoch": history,
    }
    (args.out / "train.json").write_text(json.dumps(report, indent=2))
    print(f"done in {report['minutes']:.1f} min")


if __name__ == "__main__":
    main()
