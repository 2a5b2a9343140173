"""The large indexes of benchmarks/scale.py (100,000 and 1,000,000 passages): the real build (reading,
splitting, BM25, columns, graph, writing) run on copies of the corpus that was embedded for real (10,000
passages), each copy with its own place names, and each text's vector taken from the real model's vector of
copy 0's text plus small random changes (σ 0.01 a dimension, then normalised: cosine ~0.98 with the
original), so search sees distinct, realistic vectors. No 2-core machine embeds a million passages in a
working day: the build time reported is the measured build without embedding plus the real build's embedding
time scaled by passages, and is labelled extrapolated.

Needs the real index built first (`index-<real>-this`): its vectors, and its ONNX query model, which is copied
into the large index so `peelqa ask` and `serve` run on it unchanged.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import synthetic  # noqa: E402

NOISE = 0.01


class ReplayEmbedder:
    """Vectors of copy 0's texts, looked up by text with every copy's place names mapped back to copy 0's."""

    def __init__(self, reference: Path):
        from indexer.model import resolve_model
        from indexer.onnx_model import TokenCounter
        from indexer.store import read_index

        data = read_index(reference, full_check=False)
        model = data.manifest["model"]
        self.name, self.sha256, self.dimension = model["name"], model["sha256"], model["dimension"]
        self.max_tokens = model["max_tokens"]
        spec = resolve_model(self.name)
        self.count_tokens = TokenCounter(spec.path / "tokenizer.json", self.max_tokens)
        self.vectors, self.sentence_vectors = data.vectors.vectors, data.sentence_vectors
        self.rows: dict[str, tuple[int, int]] = {}
        for row, p in enumerate(data.passages):
            self.rows[p.embed_text] = (0, row)
            for k, text in enumerate(p.sentence_texts()):
                self.rows.setdefault(text, (1, int(data.sentence_rows[row]) + k))
        self._canonical = synthetic.canonical_all()
        self.rng = np.random.default_rng(0)
        self.missing = 0
        self.seconds = 0.0

    def encode(self, texts: list[str]) -> np.ndarray:
        began = time.perf_counter()
        out = np.zeros((len(texts), self.dimension), np.float32)
        for i, text in enumerate(texts):
            where = self.rows.get(self._canonical(text))
            if where is None:
                self.missing += 1
                v = self.rng.normal(size=self.dimension).astype(np.float32)
            else:
                v = (self.vectors if where[0] == 0 else self.sentence_vectors)[where[1]]
                v = v + self.rng.normal(0, NOISE, self.dimension).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        self.seconds += time.perf_counter() - began
        return out


def child(seeds: Path, index: Path, reference: Path) -> None:
    import resource

    from indexer.build import build_index

    embedder = ReplayEmbedder(reference)
    began = time.perf_counter()
    summary = build_index(seeds, index, embedder=embedder)
    seconds = time.perf_counter() - began
    print(json.dumps({"build_measured_s": round(seconds, 1), "replay_s": round(embedder.seconds, 1),
                      "timings": summary.timings, "passages": summary.passages, "missing_vectors": embedder.missing,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))


def adopt_query_model(index: Path, reference: Path) -> None:
    """Copy the reference index's ONNX query model in, recorded in the manifest as if exported here."""
    from indexer.store import MANIFEST, file_records, write_manifest

    ref = json.loads((reference / MANIFEST).read_text())
    manifest = json.loads((index / MANIFEST).read_text())
    record = ref["query_model"]
    for name in (record["file"], record["tokenizer"]):
        shutil.copyfile(reference / name, index / name)
    files = file_records(index)
    manifest["query_model"] = record
    manifest["files"] = {**manifest["files"], **{n: files[n] for n in (record["file"], record["tokenizer"])}}
    write_manifest(index, manifest)  # signed again: the manifest carries its own checksum


def build_replayed(work: Path, seeds: Path, index: Path, real: int) -> dict:
    reference = work / f"index-{real}-this"
    ref_build = json.loads((work / f"build-{real}.json").read_text())
    shutil.rmtree(index, ignore_errors=True)
    proc = subprocess.run([sys.executable, __file__, str(seeds), str(index), str(reference)], capture_output=True,
                          text=True, cwd=ROOT)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    adopt_query_model(index, reference)
    embed = ref_build["embed_s"] * got["passages"] / ref_build["passages"]
    without = got["build_measured_s"] - got["replay_s"]
    disk = sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) / 2**20
    return {"passages": got["passages"], "build_s": round(without + embed, 1), "build_extrapolated": True,
            "build_without_embedding_s": round(without, 1), "embed_s": round(embed, 1),
            "passages_per_s": round(got["passages"] / (without + embed), 1), "build_peak_rss_mb": got["peak_rss_mb"],
            "disk_mb": round(disk, 1), "timings": got["timings"], "missing_vectors": got["missing_vectors"]}


if __name__ == "__main__":
    child(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
