"""The torch-free query path: the index's ONNX export gives the same vectors as sentence-transformers (within
1e-5), answers the same, and a question is answered without importing torch."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from chat.search import Searcher
from indexer.build import build_index
from indexer.onnx_model import OnnxEmbedder
from tests.conftest import DEV_QUESTIONS, ROOT, SEED

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def exported(tmp_path_factory, real_embedder):
    folder = tmp_path_factory.mktemp("onnx")
    (folder / "seeds").mkdir()
    shutil.copy(SEED, folder / "seeds" / SEED.name)
    build_index(folder / "seeds", folder / "index")  # by model name, as the CLI does: exports the query model
    return folder / "index"


def test_onnx_vectors_equal_sentence_transformers(exported, real_embedder):
    manifest = json.loads((exported / "manifest.json").read_text())
    onnx = OnnxEmbedder(exported, manifest["query_model"], "x", "y")
    questions = [json.loads(x)["question"] for x in DEV_QUESTIONS.read_text().splitlines() if x.strip()]
    texts = questions + ["kids", "a" * 3000, "Équipe “fair” café ✓"]
    assert float(np.abs(onnx.encode(texts) - real_embedder.encode(texts)).max()) < 1e-5
    assert [onnx.count_tokens(t) for t in texts] == [real_embedder.count_tokens(t) for t in texts]


def test_same_answers_through_either_model(exported, real_embedder):
    fast = Searcher.open(exported)
    assert type(fast.embedder).__name__ == "OnnxEmbedder"
    slow = Searcher.open(exported, embedder=real_embedder)
    for line in DEV_QUESTIONS.read_text().splitlines():
        q = json.loads(line)["question"]
        assert [h.passage.id for h in fast.search(q, 5)] == [h.passage.id for h in slow.search(q, 5)]


def test_a_question_is_answered_without_torch(exported):
    code = (f"import sys, json; sys.path.insert(0, {str(ROOT)!r}); from chat.qa import QA; "
            f"qa = QA.open({str(exported)!r}); "
            "a = qa.ask('Is there a children hub?', 1); "
            "print(json.dumps([a.quotes[0].passage.paragraph, 'torch' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout) == [8, False]


def test_a_damaged_query_model_is_caught_by_its_probe(exported, tmp_path):
    from indexer.errors import IndexCorruptError

    copy = tmp_path / "index"
    shutil.copytree(exported, copy)
    record = json.loads((copy / "manifest.json").read_text())["query_model"]
    record["probe"] = [x + 0.01 for x in record["probe"]]
    with pytest.raises(IndexCorruptError, match="query model gives other vectors"):
        OnnxEmbedder(copy, record, "x", "y")
    record["probe"] = [float("nan")] * len(record["probe"])  # NaN compares false with any tolerance
    with pytest.raises(IndexCorruptError, match="query model gives other vectors"):
        OnnxEmbedder(copy, record, "x", "y")
