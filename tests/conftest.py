import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "cleveland-peel-2016-effectiveness.txt"
DEV_QUESTIONS = ROOT / "tests" / "data" / "dev_questions.jsonl"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class FakeEmbedder:
    """Deterministic bag-of-words hashing: similar words → similar vectors, no model needed."""

    def __init__(self, name="fake", dimension=64, max_tokens=40):
        self.name = name
        self.sha256 = hashlib.sha256(name.encode()).hexdigest()
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.calls = 0
        self.texts_seen = 0

    def encode(self, texts):
        self.calls += 1
        self.texts_seen += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def count_tokens(self, text):
        return len(text.split()) + 2


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


@pytest.fixture
def seeds(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


@pytest.fixture(scope="session")
def real_embedder():
    from indexer.model import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, real_embedder):
    """The seed report indexed once with the real model, shared by the session's tests."""
    from indexer.build import build_index

    folder = tmp_path_factory.mktemp("seed-index")
    seeds = folder / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds / SEED.name)
    build_index(seeds, folder / "index", embedder=real_embedder)
    return folder / "index"


@pytest.fixture(scope="session")
def qa(seed_index, real_embedder):
    from chat.qa import QA
    from chat.search import Searcher

    return QA(Searcher.open(seed_index, embedder=real_embedder))


@pytest.fixture(scope="module")
def live_app(tmp_path_factory, seed_index, real_embedder):
    """The chat app on a free local port, over its own copy of the seeds and the index (rebuilds mutate them)."""
    from chat.app import start
    from chat.qa import QA
    from chat.search import Searcher
    from chat.service import ChatService

    folder = tmp_path_factory.mktemp("app")
    seeds = folder / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds / SEED.name)
    shutil.copytree(seed_index, folder / "index")
    service = ChatService(folder / "index", seeds, qa=QA(Searcher.open(folder / "index", embedder=real_embedder)))
    demo, url = start(service)
    yield service, url
    demo.close()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (never `playwright install`)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run `make test`, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
