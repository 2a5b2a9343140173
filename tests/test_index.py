import json

import numpy as np
import pytest

from chat.filters import Filter
from chat.search import Searcher
from indexer.build import build_index
from indexer.errors import IndexCorruptError, IndexModelMismatchError, IndexNotFoundError, SeedsError
from indexer.store import HEADS, MANIFEST, read_index, write_manifest
from tests.conftest import FakeEmbedder

FOUR = (
    "Tiny PEEL 2020\nEffectiveness\nIs the force good?\n"
    "The force is good at catching burglars, and most victims are visited within a day.\n"
    "Officers patrol the harbour at night, checking moorings and boatyards for thefts.\n"
    "Areas for improvement\n- The force should answer emergency calls faster, above all at weekends.\n"
    "- Training records must be kept up to date for every officer and member of staff.\n"
)
HARBOUR = "Officers patrol the harbour at night, checking moorings and boatyards for thefts."


@pytest.fixture
def four(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "tiny.txt").write_text(FOUR, encoding="utf-8")
    return seeds


def test_build_and_load_round_trip(four, tmp_path, fake_embedder):
    summary = build_index(four, tmp_path / "index", embedder=fake_embedder)
    assert (summary.documents, summary.passages, summary.embedded) == (1, 4, 4)
    data = read_index(tmp_path / "index")
    assert [p.paragraph for p in data.passages] == [1, 2, 3, 4]
    m = data.manifest
    assert m["format"] == "peelqa-index" and m["passages"] == 4
    assert m["model"] == {"name": "fake", "path": "", "sha256": fake_embedder.sha256, "dimension": 64,
                          "max_tokens": 40}
    (doc,) = m["documents"]
    assert doc["file"] == "tiny.txt" and doc["passages"] == 4 and len(doc["sha256"]) == 64
    assert doc["title"] == "Tiny PEEL 2020" and doc["force"] == "Tiny" and doc["year"] == 2020
    assert {"built_at", "package_version"} <= set(m)
    source = (four / "tiny.txt").read_text(encoding="utf-8")
    assert all(source[p.start:p.end] == p.text for p in data.passages)


def test_vector_search_matches_brute_force_numpy(four, tmp_path, fake_embedder):
    build_index(four, tmp_path / "index", embedder=fake_embedder)
    data = read_index(tmp_path / "index")
    assert data.manifest["vectors"] == {"backend": "exact", "n": 4}
    vectors = fake_embedder.encode([p.embed_text for p in data.passages])
    np.testing.assert_allclose(data.passage_vectors(), vectors, atol=1e-6)
    q = fake_embedder.encode(["harbour night patrol"])[0]
    ids, sims = data.vectors.top(q, 4)
    brute = vectors @ q
    assert list(ids) == list(np.argsort(-brute, kind="stable"))
    np.testing.assert_allclose(sims, np.sort(brute)[::-1], atol=1e-6)


def test_search_ranks_the_matching_passage_first(four, tmp_path, fake_embedder):
    build_index(four, tmp_path / "index", embedder=fake_embedder)
    searcher = Searcher.open(tmp_path / "index", embedder=fake_embedder)
    hits = searcher.search("Who patrols the harbour at night?", top_k=2)
    assert hits[0].passage.text == HARBOUR
    assert hits[0].score >= hits[1].score
    only_bullets = searcher.search("harbour", top_k=5, where=Filter(kinds=("bullet",)))
    assert {h.passage.kind for h in only_bullets} == {"bullet"} and len(only_bullets) == 2


def test_missing_and_corrupt_index_errors(tmp_path, four, fake_embedder):
    with pytest.raises(IndexNotFoundError, match="no index at") as e:
        read_index(tmp_path / "nothing")
    assert e.value.fix == "peelqa index"
    build_index(four, tmp_path / "index", embedder=fake_embedder)
    (tmp_path / "index" / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="cannot read") as e:
        read_index(tmp_path / "index")
    assert e.value.fix == "peelqa index --repair"


def test_manifest_count_mismatch_is_corrupt(tmp_path, four, fake_embedder):
    build_index(four, tmp_path / "index", embedder=fake_embedder)
    path = tmp_path / "index" / MANIFEST
    m = json.loads(path.read_text())
    m["passages"] = 99
    write_manifest(path.parent, m)
    with pytest.raises(IndexCorruptError, match="4 passages but the manifest says 99"):
        read_index(tmp_path / "index")
    m["passages"], m["format_version"] = 4, 999
    write_manifest(path.parent, m)
    with pytest.raises(IndexCorruptError, match="format version 999"):
        read_index(tmp_path / "index")


def test_truncated_vectors_are_detected(tmp_path, four, fake_embedder):
    build_index(four, tmp_path / "index", embedder=fake_embedder)
    (tmp_path / "index" / "vectors.npy").write_bytes(b"garbage")
    with pytest.raises(IndexCorruptError, match="damaged"):
        read_index(tmp_path / "index")


def test_wrong_model_is_refused(tmp_path, four, fake_embedder):
    build_index(four, tmp_path / "index", embedder=fake_embedder)
    other = FakeEmbedder(name="other")
    with pytest.raises(IndexModelMismatchError, match="built with model 'fake', not 'other'") as e:
        Searcher.open(tmp_path / "index", embedder=other)
    assert e.value.fix == "peelqa index --full --model other"


def test_failed_rebuild_leaves_old_index_loadable(tmp_path, four, fake_embedder):
    build_index(four, tmp_path / "index", embedder=fake_embedder)
    before = read_index(tmp_path / "index").manifest["built_at"]
    (four / "new.md").write_text("# New\n\nSomething new to embed.\n", encoding="utf-8")

    class Boom(FakeEmbedder):
        def encode(self, texts):
            if self.calls >= 1:
                raise RuntimeError("power cut mid-build")
            return super().encode(texts)

    with pytest.raises(RuntimeError, match="power cut"):
        build_index(four, tmp_path / "index", embedder=Boom(), full=True)
    data = read_index(tmp_path / "index")
    assert data.manifest["built_at"] == before and len(data.passages) == 4
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".index") and p.is_dir()]
    # Only the build lock file and the vectors already embedded (the next build resumes from them) stay.
    assert leftovers in ([], [".index.cache"])
    # The new report is taken out again: the next build finds the index up to date and clears that cache too.
    (tmp_path / ".index.cache").mkdir(exist_ok=True)  # as a kill after the first chunk leaves it
    (four / "new.md").unlink()
    assert "the index is up to date" in build_index(four, tmp_path / "index", embedder=fake_embedder).notes
    assert not (tmp_path / ".index.cache").exists()


def test_failure_while_writing_leaves_old_index(tmp_path, four, fake_embedder, monkeypatch):
    build_index(four, tmp_path / "index", embedder=fake_embedder)
    (four / "tiny.txt").write_text(FOUR + "One more paragraph, long enough to be a passage of its own.\n",
                                   encoding="utf-8")
    import indexer.store as store

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store.np, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        build_index(four, tmp_path / "index", embedder=fake_embedder)
    monkeypatch.undo()
    assert len(read_index(tmp_path / "index").passages) == 4


def test_incremental_rebuild_reembeds_only_changed_files(tmp_path, four, fake_embedder):
    alpha, beta = "Alpha paragraph about the marine unit and its night patrols.", "Beta paragraph about the " \
        "dog section, its handlers and their training."
    (four / "second.md").write_text(f"# Second\n\n{alpha}\n\n{beta}\n", encoding="utf-8")
    first = build_index(four, tmp_path / "index", embedder=fake_embedder)
    assert first.embedded == 6
    counting = FakeEmbedder()
    again = build_index(four, tmp_path / "index", embedder=counting)
    assert again.embedded == 0 and counting.texts_seen == 0
    (four / "second.md").write_text(f"# Second\n\n{alpha} Changed.\n", encoding="utf-8")
    changed = build_index(four, tmp_path / "index", embedder=counting)
    assert changed.embedded == 1 and changed.passages == 5
    data = read_index(tmp_path / "index")
    fresh = FakeEmbedder().encode([p.embed_text for p in data.passages])
    np.testing.assert_allclose(data.passage_vectors(), fresh, atol=1e-6)
    full = build_index(four, tmp_path / "index", embedder=counting, full=True)
    assert full.embedded == 5


def test_deleted_file_passages_are_dropped(tmp_path, four, fake_embedder):
    (four / "gone.md").write_text("# Gone\n\nThis file will be deleted.\n", encoding="utf-8")
    build_index(four, tmp_path / "index", embedder=fake_embedder)
    (four / "gone.md").unlink()
    summary = build_index(four, tmp_path / "index", embedder=fake_embedder)
    assert summary.removed == ["gone.md"] and summary.embedded == 0
    data = read_index(tmp_path / "index")
    assert {p.document for p in data.passages} == {"tiny.txt"}
    assert [d["file"] for d in data.manifest["documents"]] == ["tiny.txt"]


def test_unreadable_file_is_named_and_others_still_index(tmp_path, four, fake_embedder):
    (four / "latin1.txt").write_bytes("caf\xe9 report".encode("latin-1"))
    (four / "empty.md").write_text("\n\n", encoding="utf-8")
    summary = build_index(four, tmp_path / "index", embedder=fake_embedder)
    assert summary.documents == 1 and summary.passages == 4
    assert summary.skipped == {"empty.md": "no text to index",
                               "latin1.txt": "not UTF-8 text (byte 0xe9 at offset 3)"}


def test_empty_or_missing_seeds_folder(tmp_path, fake_embedder):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SeedsError, match=r"no reports \(.txt, .md, .pdf, .html, .htm, .docx\) in"):
        build_index(tmp_path / "empty", tmp_path / "index", embedder=fake_embedder)
    with pytest.raises(SeedsError, match="does not exist"):
        build_index(tmp_path / "missing", tmp_path / "index", embedder=fake_embedder)
    assert not (tmp_path / "index").exists()


def test_refuses_to_replace_a_folder_that_is_not_an_index(tmp_path, four, fake_embedder):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.docx").write_text("years of work")
    from indexer.errors import PeelqaError

    with pytest.raises(PeelqaError, match="is not a peelqa index"):
        build_index(four, precious, embedder=fake_embedder)
    assert (precious / "thesis.docx").read_text() == "years of work"


def test_long_paragraph_is_split_into_pieces_citing_one_paragraph(tmp_path, fake_embedder):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    long = " ".join(f"Sentence number {i} talks about topic {i}." for i in range(12))
    (seeds / "long.md").write_text(f"# Long\n\n{long}\n", encoding="utf-8")
    build_index(seeds, tmp_path / "index", embedder=fake_embedder)
    data = read_index(tmp_path / "index")
    assert len(data.passages) > 1
    assert {p.paragraph for p in data.passages} == {1}
    assert [p.id for p in data.passages][:2] == ["long.md#p1.1", "long.md#p1.2"]
    source = (seeds / "long.md").read_text(encoding="utf-8")
    assert all(source[p.start:p.end] == p.text for p in data.passages)
    assert all(fake_embedder.count_tokens(p.embed_text) <= 40 for p in data.passages)


def test_rebuild_keeps_the_model_the_index_was_built_with(tmp_path, four, fake_embedder):
    from indexer.build import _model_of

    assert _model_of(tmp_path / "none") is None
    build_index(four, tmp_path / "index", embedder=fake_embedder)
    assert _model_of(tmp_path / "index") is None  # "fake" is neither registered nor a folder: use the default
    path = tmp_path / "index" / MANIFEST
    m = json.loads(path.read_text())
    m["model"]["name"] = "all-MiniLM-L6-v2"
    write_manifest(path.parent, m)
    assert _model_of(tmp_path / "index") == "all-MiniLM-L6-v2"
    m["model"].update(name="gone", path=str(tmp_path))
    write_manifest(path.parent, m)
    assert _model_of(tmp_path / "index") == str(tmp_path)


def test_a_killed_build_resumes_without_embedding_twice(tmp_path, four, fake_embedder):
    for i in range(3):
        (four / f"r{i}.md").write_text(f"# Report {i}\n\nA paragraph about patrol number {i} in the harbour, long "
                                       "enough to be a passage.\n", encoding="utf-8")

    class Dies(FakeEmbedder):
        def encode(self, texts):
            if any("number 1" in t for t in texts):  # killed on reaching r1: r0 was embedded and cached before
                raise RuntimeError("killed")
            return super().encode(texts)

    class Counting(FakeEmbedder):
        seen: list[str] = []

        def encode(self, texts):
            self.seen += list(texts)
            return super().encode(texts)

    import indexer.embedding as embedding

    small = 1  # one document per group, so r0 is cached before the "kill"
    original, embedding.CHUNK = embedding.CHUNK, small
    try:
        with pytest.raises(RuntimeError, match="killed"):
            build_index(four, tmp_path / "index", embedder=Dies())
        counting = Counting()
        summary = build_index(four, tmp_path / "index", embedder=counting)
    finally:
        embedding.CHUNK = original
    assert summary.documents == 4 and summary.embedded < summary.passages
    assert not any("number 0" in t for t in counting.seen)  # r0 came from the cache
    assert any("number 1" in t for t in counting.seen) and any("number 2" in t for t in counting.seen)
    assert not (tmp_path / ".index.cache").exists()  # removed once the index is complete


def test_one_long_report_reports_embedding_progress_as_it_goes(tmp_path):
    from indexer.embedding import CHUNK

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "long.txt").write_text("Long report\n\n" + "\n\n".join(
        f"Paragraph {i} says the force improved its work on case {i}." for i in range(CHUNK)), encoding="utf-8")
    calls = []
    build_index(seeds, tmp_path / "index", embedder=FakeEmbedder(),
                progress=lambda done, total, msg: calls.append((done, total)) if msg == "embedding" else None)
    assert len(calls) >= 2 and calls[-1][0] == calls[-1][1]  # not one line at the very end
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_every_stage_after_embedding_reports_progress(tmp_path, four, fake_embedder):
    # At a million passages assembling and writing take minutes: a log must not sit on "reading 100%".
    calls = []
    build_index(four, tmp_path / "index", embedder=fake_embedder, progress=lambda *call: calls.append(call))
    stages = list(dict.fromkeys(message for _, _, message in calls))
    assert stages[-2:] == ["assembling the index", "writing the index"]
    for stage in stages[-2:]:
        steps = [(done, total) for done, total, message in calls if message == stage]
        assert steps[0][0] == 0 and steps[-1][0] == steps[-1][1] > 0
        assert [d for d, _ in steps] == sorted(d for d, _ in steps)


def test_a_rebuild_copies_reused_vectors_from_views_of_the_old_files(tmp_path, four, fake_embedder, monkeypatch):
    from indexer import build

    (four / "second.md").write_text("# Second\n\nThe marine unit patrols the estuary at night.\n\nThe dog "
                                    "section trains its handlers every month.\n", encoding="utf-8")
    build_index(four, tmp_path / "index", embedder=fake_embedder)
    before = read_index(tmp_path / "index")
    vectors, sentences = before.passage_vectors().copy(), np.asarray(before.sentence_vectors).copy()
    blocks = []
    assemble = build._assemble
    monkeypatch.setattr(build, "_assemble", lambda reads, prev: blocks.append(assemble(reads, prev)) or blocks[-1])
    (four / "tiny.txt").write_text(FOUR + "- One more recommendation about stop and search records.\n")
    build_index(four, tmp_path / "index", embedder=fake_embedder)
    _, vector_blocks, sentence_blocks = blocks[0]
    reused = [b for b in vector_blocks + sentence_blocks if getattr(b, "_mmap", None) is not None]
    assert len(reused) == 2  # second.md's rows, as views; tiny.txt's embedded again
    after = read_index(tmp_path / "index")
    second = [i for i, p in enumerate(after.passages) if p.document == "second.md"]
    old = [i for i, p in enumerate(before.passages) if p.document == "second.md"]
    np.testing.assert_array_equal(after.passage_vectors()[second], vectors[old])
    span = lambda data, rows: np.arange(data.sentence_rows[rows[0]], data.sentence_rows[rows[-1] + 1])  # noqa: E731
    np.testing.assert_array_equal(np.asarray(after.sentence_vectors)[span(after, second)], sentences[span(before, old)])


def heads_file(index) -> dict:
    return {r["file"]: r["head"] for r in map(json.loads, (index / HEADS).read_text().splitlines())}


def test_first_lines_live_beside_the_manifest_and_are_found_again_when_lost(tmp_path, four, fake_embedder):
    # Metadata is detected from a report's first lines on every build; the manifest every start reads
    # leaves them out.
    (four / "kent.md").write_text("---\nurl: https://example.org/kent\n---\n\nPublished on: 2 March 2017\n\n"
                                  "# Kent PEEL 2016\n\nKent Police is good at keeping people safe and reducing "
                                  "crime in its towns.\n", encoding="utf-8")
    index = tmp_path / "index"
    build_index(four, index, embedder=fake_embedder)
    assert all("head" not in d for d in json.loads((index / MANIFEST).read_text())["documents"])
    heads = heads_file(index)
    assert heads["kent.md"] == ["Published on: 2 March 2017", "# Kent PEEL 2016",
                                "Kent Police is good at keeping people safe and reducing crime in its towns."]
    before = read_index(index).manifest["documents"]
    assert [d["published"] for d in before] == ["2017-03-02", None]
    (index / HEADS).write_text("garbled\n", encoding="utf-8")
    counting = FakeEmbedder()
    again = build_index(four, index, embedder=counting)
    assert counting.texts_seen == 0 and "the index is up to date" not in again.notes
    assert read_index(index).manifest["documents"] == before
    assert heads_file(index) == heads
    assert "the index is up to date" in build_index(four, index, embedder=counting).notes


def test_an_index_without_a_heads_file_is_written_again_with_a_note(tmp_path, four, fake_embedder):
    # As an older peelqa left it: the first lines inside the manifest's entries, no heads.jsonl.
    index = tmp_path / "index"
    build_index(four, index, embedder=fake_embedder)
    manifest = json.loads((index / MANIFEST).read_text())
    heads = heads_file(index)
    manifest["documents"] = [{**d, "head": heads[d["file"]]} for d in manifest["documents"]]
    del manifest["files"][HEADS]
    (index / HEADS).unlink()
    write_manifest(index, manifest)
    again = build_index(four, index, embedder=fake_embedder)
    assert any(n.startswith("heads.jsonl missing") for n in again.notes) and again.embedded == 0
    assert heads_file(index) == heads
    assert "the index is up to date" in build_index(four, index, embedder=fake_embedder).notes
