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


def test_a_rebuild_from_the_chat_keeps_the_query_model(exported, tmp_path):
    """The chat's Rebuild once passed its loaded query model to the build, which then dropped the export:
    every later cold start went back to torch."""
    from chat.qa import QA
    from chat.service import ChatService

    shutil.copytree(exported.parent / "seeds", tmp_path / "seeds")
    shutil.copytree(exported, tmp_path / "index")
    (tmp_path / "seeds" / "extra.md").write_text("# Durham PEEL 2017\n\nDurham Constabulary has a dedicated "
                                                 "team for missing people, praised by inspectors.\n", encoding="utf-8")
    service = ChatService(tmp_path / "index", tmp_path / "seeds", qa=QA.open(tmp_path / "index"))
    assert service.rebuild().embedded > 0
    record = json.loads((tmp_path / "index" / "manifest.json").read_text())["query_model"]
    assert record["exported"] and (tmp_path / "index" / record["file"]).is_file()
    assert type(Searcher.open(tmp_path / "index").embedder).__name__ == "OnnxEmbedder"


def test_damage_its_probe_cannot_see_is_found_on_load_of_a_large_index(exported, tmp_path, monkeypatch):
    """Bytes changed in one token's row of the embedding table change only questions with that token: the
    probe passes, so the model file is hashed on every load, whatever the index's size."""
    import dataclasses

    from indexer import store
    from indexer.errors import IndexCorruptError

    copy = tmp_path / "index"
    shutil.copytree(exported, copy)
    monkeypatch.setattr(store, "LIMITS", dataclasses.replace(store.LIMITS, full_check_bytes=0))  # "large"
    data = bytearray((copy / "model.onnx").read_bytes())
    middle = len(data) // 3
    data[middle:middle + 8] = bytes(8)
    (copy / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="model.onnx: its SHA-256 differs"):
        Searcher.open(copy)
