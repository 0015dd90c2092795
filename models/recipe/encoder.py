"""MiniLM-L6 (BERT shape) in plain torch, plus the edgemine tagger heads.

Written out by hand rather than taken from `transformers` so that every op
that reaches the ONNX graph is one we chose (tract runs them all), and so
that the case embedding and the word gather sit exactly where the engine
expects them. `export_reference.py` proves this module equals the
reference `transformers.BertModel` computation on the same weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from common import CASE_CLASSES


@dataclass
class EncoderConfig:
    vocab_size: int = 30522
    hidden: int = 384
    layers: int = 6
    heads: int = 12
    intermediate: int = 1536
    max_positions: int = 512
    layer_norm_eps: float = 1e-12
    dropout: float = 0.1


class Embeddings(nn.Module):
    def __init__(self, cfg: EncoderConfig, with_case: bool):
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden)
        self.position_embeddings = nn.Embedding(cfg.max_positions, cfg.hidden)
        # Segment 0 only: edgemine never feeds sentence pairs. The row is kept
        # so the reference weights load unchanged; it is added as a constant.
        self.token_type_embeddings = nn.Embedding(2, cfg.hidden)
        # Capitalization: the vocabulary is lowercased, so the case class of
        # each wordpiece's word is added to its input. Zero-initialized so the
        # fine-tune starts from the exact reference encoder.
        self.case_embeddings = nn.Embedding(len(CASE_CLASSES), cfg.hidden) if with_case else None
        if self.case_embeddings is not None:
            nn.init.zeros_(self.case_embeddings.weight)
        self.LayerNorm = nn.LayerNorm(cfg.hidden, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, input_ids: torch.Tensor, case_ids: torch.Tensor | None) -> torch.Tensor:
        seq = input_ids.shape[1]
        positions = torch.arange(seq, device=input_ids.device).unsqueeze(0)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)
        x = x + self.token_type_embeddings.weight[0]
        if self.case_embeddings is not None and case_ids is not None:
            x = x + self.case_embeddings(case_ids)
        return self.dropout(self.LayerNorm(x))


class SelfAttention(nn.Module):
    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.heads = cfg.heads
        self.head_dim = cfg.hidden // cfg.heads
        self.query = nn.Linear(cfg.hidden, cfg.hidden)
        self.key = nn.Linear(cfg.hidden, cfg.hidden)
        self.value = nn.Linear(cfg.hidden, cfg.hidden)
        self.dropout = nn.Dropout(cfg.dropout)

    def split(self, x: torch.Tensor) -> torch.Tensor:
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + bias
        probs = self.dropout(torch.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).transpose(1, 2)
        return ctx.reshape(x.shape)


class Layer(nn.Module):
    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.attention = SelfAttention(cfg)
        self.attention_output = nn.Linear(cfg.hidden, cfg.hidden)
        self.attention_norm = nn.LayerNorm(cfg.hidden, eps=cfg.layer_norm_eps)
        self.intermediate = nn.Linear(cfg.hidden, cfg.intermediate)
        self.output = nn.Linear(cfg.intermediate, cfg.hidden)
        self.output_norm = nn.LayerNorm(cfg.hidden, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        a = self.dropout(self.attention_output(self.attention(x, bias)))
        x = self.attention_norm(x + a)
        h = self.dropout(self.output(F.gelu(self.intermediate(x))))
        return self.output_norm(x + h)


class Encoder(nn.Module):
    """BERT encoder: wordpiece ids (+ case classes) to contextual vectors."""

    def __init__(self, cfg: EncoderConfig, with_case: bool):
        super().__init__()
        self.cfg = cfg
        self.embeddings = Embeddings(cfg, with_case)
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg.layers))

    def forward(self, input_ids, attention_mask, case_ids=None) -> torch.Tensor:
        # Additive attention bias: 0 where attended, a large negative where padded.
        bias = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -1e4
        x = self.embeddings(input_ids, case_ids)
        for layer in self.layers:
            x = layer(x, bias)
        return x

    def load_reference(self, safetensors_path: str) -> None:
        """Load the sentence-transformers BertModel weights (no `bert.` prefix)."""
        from safetensors.torch import load_file

        src = load_file(safetensors_path)
        dst = {}
        for name in ("word_embeddings", "position_embeddings", "token_type_embeddings"):
            dst[f"embeddings.{name}.weight"] = src[f"embeddings.{name}.weight"]
        dst["embeddings.LayerNorm.weight"] = src["embeddings.LayerNorm.weight"]
        dst["embeddings.LayerNorm.bias"] = src["embeddings.LayerNorm.bias"]
        pairs = {
            "attention.query": "attention.self.query",
            "attention.key": "attention.self.key",
            "attention.value": "attention.self.value",
            "attention_output": "attention.output.dense",
            "attention_norm": "attention.output.LayerNorm",
            "intermediate": "intermediate.dense",
            "output": "output.dense",
            "output_norm": "output.LayerNorm",
        }
        for i in range(self.cfg.layers):
            for ours, theirs in pairs.items():
                for p in ("weight", "bias"):
                    dst[f"layers.{i}.{ours}.{p}"] = src[f"encoder.layer.{i}.{theirs}.{p}"]
        missing, unexpected = self.load_state_dict(dst, strict=False)
        allowed_missing = {"embeddings.case_embeddings.weight"}
        if unexpected or set(missing) - allowed_missing:
            raise RuntimeError(f"weights do not fit: missing {missing}, unexpected {unexpected}")


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """sentence-transformers' pooling: mean over attended wordpieces, then L2 norm."""
    m = attention_mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * m).sum(1)
    counts = m.sum(1).clamp(min=1e-9)
    return F.normalize(summed / counts, p=2, dim=-1)


class ReferenceEmbedder(nn.Module):
    """all-MiniLM-L6-v2 as sentence-transformers runs it: encoder, mean pool, normalize."""

    def __init__(self, encoder: Encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids, attention_mask):
        return mean_pool(self.encoder(input_ids, attention_mask), attention_mask)


class Mlp(nn.Module):
    def __init__(self, n_in: int, n_out: int, dropout: float):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(F.gelu(self.linear(x)))


@dataclass
class HeadConfig:
    n_entities: int
    n_upos: int
    n_deprels: int
    arc_dim: int = 384
    label_dim: int = 128
    dropout: float = 0.2
    # Width of a GELU layer in front of the entity classifier; 0 = the
    # classifier reads the encoder's word vectors directly.
    entity_hidden: int = 0


class Tagger(nn.Module):
    """One forward pass, five outputs.

    Inputs (all int64): `input_ids`, `attention_mask`, `case_ids` [batch, seq];
    `word_index` [batch, words]: the position of each word's first wordpiece
    (pad with 0). Word 0 of the parse is ROOT, read from [CLS].

    Outputs:
      entities  [b, w, n_entities]  BIO logits
      upos      [b, w, n_upos]      logits
      arcs      [b, w, w + 1]       head scores: arcs[b, i, j] scores word j
                                    (0 = ROOT, k = word k) as head of word i+1
      deprels   [b, w, w + 1, n_deprels]  label logits for each (dependent, head)
      embedding [b, 384]            mean-pooled, L2-normalized sentence vector
                                    distilled from all-MiniLM-L6-v2
    """

    def __init__(self, cfg: EncoderConfig, heads: HeadConfig, with_case: bool):
        super().__init__()
        self.encoder = Encoder(cfg, with_case)
        h = cfg.hidden
        self.drop = nn.Dropout(heads.dropout)
        self.entity_mlp = Mlp(h, heads.entity_hidden, heads.dropout) if heads.entity_hidden else None
        self.entities = nn.Linear(heads.entity_hidden or h, heads.n_entities)
        self.upos = nn.Linear(h, heads.n_upos)
        self.arc_dep = Mlp(h, heads.arc_dim, heads.dropout)
        self.arc_head = Mlp(h, heads.arc_dim, heads.dropout)
        self.arc_weight = nn.Parameter(torch.zeros(heads.arc_dim, heads.arc_dim))
        self.arc_head_bias = nn.Linear(heads.arc_dim, 1, bias=False)
        self.label_dep = Mlp(h, heads.label_dim, heads.dropout)
        self.label_head = Mlp(h, heads.label_dim, heads.dropout)
        self.n_deprels = heads.n_deprels
        self.label_dim = heads.label_dim
        # Bilinear label scorer stored as one [d, L*d] matrix so the graph is
        # two MatMuls (no Einsum); plus a linear term on dependent and head.
        self.label_weight = nn.Parameter(torch.zeros(heads.label_dim, heads.n_deprels * heads.label_dim))
        self.label_linear = nn.Linear(2 * heads.label_dim, heads.n_deprels)
        # Projection from the tagger's pooled state back to the teacher's
        # embedding space; identity at start, so it begins at the reference.
        self.embedding_proj = nn.Linear(h, h)
        nn.init.eye_(self.embedding_proj.weight)
        nn.init.zeros_(self.embedding_proj.bias)

    def forward(self, input_ids, attention_mask, case_ids, word_index):
        hidden = self.encoder(input_ids, attention_mask, case_ids)
        b, _, h = hidden.shape
        gather = word_index.unsqueeze(-1).expand(-1, -1, h)
        words = torch.gather(hidden, 1, gather)  # [b, w, h]
        words_d = self.drop(words)
        entities = self.entities(self.entity_mlp(words) if self.entity_mlp is not None else words_d)
        upos = self.upos(words_d)

        with_root = torch.cat([hidden[:, :1, :], words], dim=1)  # [b, w+1, h]
        dep = self.arc_dep(words)
        head = self.arc_head(with_root)
        arcs = torch.matmul(torch.matmul(dep, self.arc_weight), head.transpose(1, 2))
        arcs = arcs + self.arc_head_bias(head).transpose(1, 2)  # [b, w, w+1]

        ldep = self.label_dep(words)  # [b, w, d]
        lhead = self.label_head(with_root)  # [b, w+1, d]
        n_w = ldep.shape[1]
        proj = torch.matmul(ldep, self.label_weight)  # [b, w, L*d]
        proj = proj.reshape(b, n_w, self.n_deprels, self.label_dim)
        bil = torch.matmul(proj, lhead.transpose(1, 2).unsqueeze(1))  # [b, w, L, w+1]
        bil = bil.transpose(2, 3)  # [b, w, w+1, L]
        lin_dep = torch.matmul(ldep, self.label_linear.weight[:, : self.label_dim].t())  # [b, w, L]
        lin_head = torch.matmul(lhead, self.label_linear.weight[:, self.label_dim :].t())  # [b, w+1, L]
        deprels = bil + lin_dep.unsqueeze(2) + lin_head.unsqueeze(1) + self.label_linear.bias

        pooled = self.pooled(hidden, attention_mask)
        embedding = F.normalize(self.embedding_proj(pooled), p=2, dim=-1)
        return entities, upos, arcs, deprels, embedding

    @staticmethod
    def pooled(hidden, attention_mask):
        m = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)

    def embed(self, input_ids, attention_mask, case_ids):
        """The embedding output alone (for distillation batches of phrases)."""
        hidden = self.encoder(input_ids, attention_mask, case_ids)
        return F.normalize(self.embedding_proj(self.pooled(hidden, attention_mask)), p=2, dim=-1)
