"""Damaged index files: every file, every kind of damage, is detected on load with a one-line error naming
`peelqa index --repair`, reported by `peelqa check`, and repaired by a plain `peelqa index`."""

import dataclasses
import hashlib
import json
import os
import shutil

import numpy as np
import pytest

import indexer.store as store
from chat.cli import main
from chat.search import Searcher
from indexer.build import build_index
from indexer.errors import IndexCorruptError
from indexer.store import MANIFEST, read_index, verify_index, write_manifest
from tests.conftest import SEED, FakeEmbedder

TEXT = f"texts/{hashlib.sha256(SEED.read_bytes()).hexdigest()[:16]}.txt"  # the seed's text as indexed
RECORDS = ["passages.jsonl", "passages.offsets.npy", "passages.crc.npy"]
EMBEDDINGS = ["vectors.npy", "sentences.npy", "sentence_rows.npy"]
FILES = [TEXT, *RECORDS, *EMBEDDINGS, "words.json", "words.npy", "grades.jsonl", "heads.jsonl",
         *[f"bm25/{n}" for n in ("vocab.json", "term_ptr.npy", "term_rows.npy", "term_tf.npy", "doc_len.npy",
                                 "weight.npy")],
         "columns/tables.json", *[f"columns/{n}.npy" for n in ("document", "title", "force", "pillar", "kind",
                                                               "section", "first_year", "last_year", "grade",
                                                               "improve")]]


def empty(path):
    path.write_bytes(b"")


def truncate(path):
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 2)])


def garble(path):
    """64 random bytes over the middle: same size, so only checksums (or vector norms) can tell."""
    data = bytearray(path.read_bytes())
    at = max(0, len(data) // 2 - 32)
    data[at:at + 64] = os.urandom(min(64, len(data)))
    path.write_bytes(bytes(data[: len(path.read_bytes())]))


def delete(path):
    path.unlink()


PASSAGES = 55  # the seed, split to the fake model's 40-token window

DAMAGE = {"empty": empty, "truncated": truncate, "garbled": garble, "deleted": delete}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pristine")
    (folder / "seeds").mkdir()
    shutil.copy(SEED, folder / "seeds" / SEED.name)
    build_index(folder / "seeds", folder / "index", embedder=FakeEmbedder())
    return folder


@pytest.fixture
def copy(pristine, tmp_path):
    shutil.copytree(pristine / "seeds", tmp_path / "seeds")
    shutil.copytree(pristine / "index", tmp_path / "index")
    return tmp_path


def answers(index_dir, embedder):
    searcher = Searcher.open(index_dir, embedder=embedder)
    return [[(h.passage.id, round(h.score, 5)) for h in searcher.search(q, 5)]
            for q in ("missing children", "investigating crime", "domestic abuse victims")]


def test_manifest_lists_every_file_with_size_and_checksum(pristine):
    manifest = json.loads((pristine / "index" / MANIFEST).read_text())
    assert sorted(manifest["files"]) == sorted(FILES)
    for name, record in manifest["files"].items():
        assert record["bytes"] == (pristine / "index" / name).stat().st_size and len(record["sha256"]) == 64


@pytest.mark.parametrize("kind", DAMAGE)
@pytest.mark.parametrize("name", FILES)
def test_damage_is_detected_reported_and_repaired(copy, name, kind, capsys):
    embedder = FakeEmbedder()
    before = answers(copy / "index", embedder)
    DAMAGE[kind](copy / "index" / name)
    with pytest.raises(IndexCorruptError, match=name.replace(".", r"\.")) as caught:
        read_index(copy / "index")
    assert caught.value.fix == "peelqa index --repair" and "\n" not in str(caught.value)
    report = verify_index(copy / "index")
    assert not report["ok"] and any(name in p for p in report["problems"])
    assert main(["check", "--index-dir", str(copy / "index")]) == 1
    err = capsys.readouterr().err
    assert f"damaged: {name}" in err and "peelqa index --repair" in err and "Traceback" not in err
    summary = build_index(copy / "seeds", copy / "index", embedder=embedder)
    assert name in summary.repaired
    # Only what the damaged file held is recomputed: embeddings only when an embedding file was hit.
    hit = name in RECORDS + EMBEDDINGS
    assert summary.embedded == (summary.passages if hit else 0) and summary.passages == PASSAGES
    assert verify_index(copy / "index")["ok"]
    assert answers(copy / "index", embedder) == before


def test_garbled_vectors_in_a_large_index_are_caught_without_checksums(copy, monkeypatch):
    """Past the full-check size only sizes, headers, counts and norms are checked on load: still caught."""
    monkeypatch.setattr(store, "LIMITS", dataclasses.replace(store.LIMITS, full_check_bytes=0))
    for name in ("vectors.npy", "sentences.npy", "words.npy"):
        shutil.rmtree(copy / "index")
        build_index(copy / "seeds", copy / "index", embedder=FakeEmbedder())
        path = copy / "index" / name
        data = bytearray(path.read_bytes())
        data[-64:] = np.full(16, 7.0, np.float32).tobytes()  # same size, plausible floats, wrong vectors
        path.write_bytes(bytes(data))
        with pytest.raises(IndexCorruptError, match="not unit length"):
            read_index(copy / "index")
        assert not verify_index(copy / "index")["ok"]


def test_lost_manifest_is_rebuilt_by_the_command_the_error_names(copy, capsys):
    (copy / "index" / MANIFEST).unlink()
    assert main(["ask", "missing children", "--index-dir", str(copy / "index")]) == 1
    err = capsys.readouterr().err
    assert "has no manifest.json" in err and "fix: peelqa index --repair" in err
    summary = build_index(copy / "seeds", copy / "index", embedder=FakeEmbedder())
    assert summary.passages == PASSAGES and MANIFEST in summary.repaired
    assert verify_index(copy / "index")["ok"]


def test_old_format_index_is_named_and_rebuilt(copy):
    path = copy / "index" / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["format_version"] = 1
    write_manifest(path.parent, manifest)
    with pytest.raises(IndexCorruptError, match="format version 1, this peelqa reads 4"):
        read_index(copy / "index")
    assert build_index(copy / "seeds", copy / "index", embedder=FakeEmbedder()).passages == PASSAGES


def test_every_build_removes_what_killed_builds_left(copy):
    for name in (".index.tmp-abc123", ".index.old-def456"):
        (copy / name).mkdir()
        (copy / name / "passages.jsonl").write_text("stale")
    build_index(copy / "seeds", copy / "index", embedder=FakeEmbedder())
    assert sorted(p.name for p in copy.iterdir() if p.name.startswith(".index")) == [".index.lock"]


def test_a_swap_cut_between_its_renames_is_put_back(copy):
    os.rename(copy / "index", copy / ".index.old-cut")
    assert len(read_index(copy / "index").passages) == PASSAGES  # readers find it meanwhile
    build_index(copy / "seeds", copy / "index", embedder=FakeEmbedder())
    assert (copy / "index").is_dir() and not (copy / ".index.old-cut").exists()
    assert verify_index(copy / "index")["ok"]


def test_serve_checks_a_large_index_in_the_background(copy, monkeypatch):
    """Loading a large index checks sizes and norms only; serve then checksums every file off the hot path."""
    from chat.qa import QA
    from chat.service import ChatService

    monkeypatch.setattr(store, "LIMITS", dataclasses.replace(store.LIMITS, full_check_bytes=0))
    import chat.service as service_module

    monkeypatch.setattr(service_module, "LIMITS", store.LIMITS)
    embedder = FakeEmbedder()
    service = ChatService(copy / "index", copy / "seeds", qa=QA(Searcher.open(copy / "index", embedder=embedder)))
    path = copy / "index" / "words.json"
    path.write_text(path.read_text().replace('"', "'", 2))  # same size, different bytes
    service.verify_in_background().join(timeout=60)
    assert service.integrity_problem.startswith(f"index at {copy / 'index'} is damaged (words.json: its SHA-256")
    assert service.integrity_problem.endswith("(fix: peelqa index --repair)")


@pytest.mark.parametrize("edit", [
    lambda m: m.update(model="x"), lambda m: m["files"].update({"words.npy": None}),
    lambda m: m["model"].update(dimension="abc"), lambda m: m.update(documents=[{}]), lambda m: m.update(files="x"),
    lambda m: m["files"]["words.npy"].update(bytes="x"), lambda m: m.update(passages="55"),
])
def test_manifest_with_wrong_field_types_is_damaged_and_repaired(copy, edit, capsys):
    path = copy / "index" / MANIFEST
    manifest = json.loads(path.read_text())
    edit(manifest)
    write_manifest(path.parent, manifest)
    with pytest.raises(IndexCorruptError, match="manifest.json is damaged") as caught:
        read_index(copy / "index")
    assert caught.value.fix == "peelqa index --repair"
    assert main(["check", "--index-dir", str(copy / "index")]) == 1 and "Traceback" not in capsys.readouterr().err
    assert build_index(copy / "seeds", copy / "index", embedder=FakeEmbedder()).passages == PASSAGES
    assert verify_index(copy / "index")["ok"]


def test_a_large_index_never_quotes_changed_text(copy, monkeypatch):
    """Past the full-check size, records are checked as they are read (a CRC each) and a document's text when
    it is shown (its checksum): a changed byte is never quoted, and the rest of the index still answers."""
    monkeypatch.setattr(store, "LIMITS", dataclasses.replace(store.LIMITS, full_check_bytes=0))
    path = copy / "index" / "passages.jsonl"
    path.write_text(path.read_text().replace("is good at investigating crime", "is poor at investigating crime"))
    data = read_index(copy / "index")
    raw, offsets = path.read_bytes(), data.passages.offsets
    changed = next(i for i in range(len(data.passages)) if b"poor at investigating" in raw[offsets[i]:offsets[i + 1]])
    with pytest.raises(IndexCorruptError, match=f"passages.jsonl: the record at row {changed} was changed.*--repair"):
        Searcher(data, FakeEmbedder()).search("Cleveland Police is good at investigating crime", 55)
    assert data.passages[changed - 1].text and data.passages[changed + 1].text
    text = copy / "index" / TEXT
    text.write_text(text.read_text().replace("investigating crime", "investigating crimes", 1)[:-1])
    with pytest.raises(IndexCorruptError, match=f"{TEXT}: its SHA-256 differs.*--repair"):
        data.text_of(data.manifest["documents"][0])


def test_serve_stops_answering_when_the_background_check_finds_damage(copy, monkeypatch):
    from chat.qa import QA
    from chat.service import ChatService

    monkeypatch.setattr(store, "LIMITS", dataclasses.replace(store.LIMITS, full_check_bytes=0))
    import chat.service as service_module

    monkeypatch.setattr(service_module, "LIMITS", store.LIMITS)
    embedder = FakeEmbedder()
    service = ChatService(copy / "index", copy / "seeds", qa=QA(Searcher.open(copy / "index", embedder=embedder)))
    path = copy / "index" / "sentences.npy"
    data = bytearray(path.read_bytes())
    data[-8:] = np.full(2, 3.0, np.float32).tobytes()
    path.write_bytes(bytes(data))
    service.verify_in_background().join(timeout=60)
    with pytest.raises(IndexCorruptError, match="sentences.npy: its SHA-256 differs.*peelqa index --repair"):
        service.ask("missing children")


def test_an_index_folder_that_is_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "afile").write_text("hi")
    assert main(["ask", "crime", "--index-dir", str(tmp_path / "afile")]) == 1
    assert main(["check", "--index-dir", str(tmp_path / "afile")]) == 1
    err = capsys.readouterr().err
    assert err.count("is a file, not an index folder") == 2 and "Traceback" not in err


def test_a_reader_racing_a_rebuild_gets_one_index_or_the_other(copy, monkeypatch):
    """A rebuild swapping the index in between reading its manifest and its files is noticed and read again."""
    real = store.load_parts
    calls = []

    def swapped_mid_read(folder, manifest, skip=frozenset()):
        if not calls:
            calls.append(1)
            (copy / "seeds" / "extra.txt").write_text("Extra report\n\nA paragraph long enough to be a passage of its "
                                                       "own about the marine unit.\n")
            build_index(copy / "seeds", copy / "index", embedder=FakeEmbedder())
        return real(folder, manifest, skip)

    monkeypatch.setattr(store, "load_parts", swapped_mid_read)
    data = read_index(copy / "index")
    assert len(data.passages) == PASSAGES + 1 and calls == [1]


@pytest.mark.parametrize("edit", [
    lambda m: m["retrieval"].update(threshold=0.01), lambda m: m["retrieval"]["scoring"].update(mode="dense"),
    lambda m: m["retrieval"]["scoring"].update(lexical_weight=9.0), lambda m: m.pop("manifest_sha256"),
])
def test_an_edited_manifest_is_seen_by_load_and_check_and_rebuilt(copy, edit, capsys):
    """A hand edit (a lower threshold, another mode) would change every answer while every file's checksum still
    matched: the manifest's own checksum catches it."""
    path = copy / "index" / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["retrieval"] = manifest.get("retrieval") or {"threshold": 0.3, "scoring": {"mode": "hybrid",
                                                                                         "lexical_weight": 1.0}}
    write_manifest(path.parent, manifest)
    assert read_index(copy / "index").manifest["retrieval"] == manifest["retrieval"]  # signed edits load
    edit(manifest)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    with pytest.raises(IndexCorruptError, match="it was changed after it was written") as caught:
        read_index(copy / "index")
    assert caught.value.fix == "peelqa index --repair"
    assert main(["check", "--index-dir", str(copy / "index")]) == 1
    assert "it was changed after it was written" in capsys.readouterr().err
    assert build_index(copy / "seeds", copy / "index", embedder=FakeEmbedder()).passages == PASSAGES
    assert verify_index(copy / "index")["ok"]
