"""The query path without torch: the embedding model exported once to ONNX and run with ONNX Runtime and the
`tokenizers` library. Importing torch and sentence-transformers was 95% of a cold `peelqa ask` (~5 s); this
loads in ~0.3 s and embeds a question in ~5 ms instead of ~15 ms, with vectors equal to sentence-transformers'
within 1e-5 (checked on every load against a probe sentence recorded at export, and in the tests).

The export lives in the index folder (`model.onnx`, `tokenizer.json`), so an index answers questions on a
machine with no torch and no model folder: replicas only need the index. Building still uses
sentence-transformers (`indexer.model`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import IndexCorruptError, ModelError

ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
PROBE = "Is the force good at investigating crime and protecting vulnerable people?"
PROBE_TOLERANCE = 1e-5


def export(st_embedder, folder: Path) -> dict:
    """Export a loaded SentenceTransformerEmbedder's transformer to `folder`; returns its manifest record.

    Only models made of a transformer, mean pooling and normalisation (all-MiniLM-L6-v2 and its kind) are
    exported; for others the record says so and queries keep using sentence-transformers.
    """
    import torch

    model = st_embedder._model
    names = [type(m).__name__ for m in model]
    pool = model[1] if len(model) > 1 else None
    mode = getattr(pool, "pooling_mode", None)  # sentence-transformers 6; older releases had a flag per mode
    pooling = (mode == "mean" or mode == ["mean"]) or bool(getattr(pool, "pooling_mode_mean_tokens", False))
    if names[:3] != ["Transformer", "Pooling", "Normalize"] or not pooling:
        return {"exported": False, "why": f"modules {names} are not transformer + mean pooling + normalise"}
    tokenizer = model.tokenizer
    encoded = tokenizer(["a", "a longer example text"], padding=True, return_tensors="pt")
    inputs = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in encoded]

    class Wrapped(torch.nn.Module):
        def __init__(self, transformer):
            super().__init__()
            self.transformer = transformer

        def forward(self, *args):
            return self.transformer(**dict(zip(inputs, args, strict=True))).last_hidden_state

    axes = {name: {0: "batch", 1: "tokens"} for name in [*inputs, "hidden"]}
    folder.mkdir(parents=True, exist_ok=True)
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Wrapped(model[0].auto_model).eval(), tuple(encoded[n] for n in inputs),
                          str(folder / ONNX_FILE), input_names=inputs, output_names=["hidden"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)
    tokenizer.backend_tokenizer.save(str(folder / TOKENIZER_FILE))
    probe = st_embedder.encode([PROBE])[0]
    return {"exported": True, "file": ONNX_FILE, "tokenizer": TOKENIZER_FILE, "inputs": inputs,
            "max_tokens": st_embedder.max_tokens, "probe": [round(float(x), 7) for x in probe]}


class OnnxEmbedder:
    """Embeds queries with the exported model. Thread-safe: the tokenizers are configured once and only read."""

    def __init__(self, folder: Path, record: dict, name: str, sha256: str):
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - both are dependencies
            raise ModelError(f"cannot load the query model: {exc}", fix="pip install -e .") from exc
        options = ort.SessionOptions()
        # One thread per question: a busy neighbour made two-thread queries far slower (as with torch).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(folder / record["file"]), options,
                                                 providers=["CPUExecutionProvider"])
            self._tokenizer = Tokenizer.from_file(str(folder / record["tokenizer"]))
            self._counter = Tokenizer.from_file(str(folder / record["tokenizer"]))
        except Exception as exc:  # noqa: BLE001 - a damaged or missing export is one clear line
            raise IndexCorruptError(f"the index's query model cannot be loaded ({exc})",
                                    fix="peelqa index --repair") from exc
        self.max_tokens = int(record["max_tokens"])
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.enable_padding()
        self._counter.no_padding()
        self._counter.no_truncation()
        self._inputs = list(record["inputs"])
        self.name, self.sha256 = name, sha256
        self.dimension = len(record["probe"])
        self.path = folder
        vector = self.encode([PROBE])[0]
        # NaN compares false with everything: a damaged model giving NaN must fail the probe, not pass it.
        gap = np.abs(vector - np.asarray(record["probe"], np.float32))
        if not np.isfinite(gap).all() or float(gap.max()) > PROBE_TOLERANCE:
            raise IndexCorruptError("the index's query model gives other vectors than the model it was exported "
                                    "from", fix="peelqa index --repair")

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        feed = {}
        for name, attr in (("input_ids", "ids"), ("attention_mask", "attention_mask"), ("token_type_ids", "type_ids")):
            if name in self._inputs:
                feed[name] = np.array([getattr(e, attr) for e in encodings], dtype=np.int64)
        (hidden,) = self._session.run(None, feed)
        mask = feed["attention_mask"][..., None].astype(np.float32)
        vectors = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        vectors /= np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids) + 2


class TokenCounter:
    """Counts a model's tokens from its tokenizer.json alone (no torch): splitting passages needs only this."""

    def __init__(self, tokenizer_json: Path, max_tokens: int):
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(tokenizer_json))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self.max_tokens = max_tokens

    def __call__(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids) + 2
