"""Bad report files: each is named with its reason and skipped; nothing else breaks, nothing outside the
seeds folder is read, and no passage (so no quote) is ever longer than the passage limit."""

import os
import shutil

import pytest

from chat.cli import main
from indexer.build import build_index
from indexer.limits import LIMITS
from indexer.sources import discover
from indexer.store import read_index
from tests.conftest import SEED, FakeEmbedder


@pytest.fixture
def seeds(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


def build(seeds, tmp_path):
    return build_index(seeds, tmp_path / "index", embedder=FakeEmbedder())


def indexed_text(tmp_path) -> str:
    return "\n".join(p.text for p in read_index(tmp_path / "index").passages)


def test_symlink_outside_the_seeds_folder_is_not_followed(seeds, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
    (seeds / "passwd.txt").symlink_to("/etc/passwd")
    (seeds / "secret.txt").symlink_to(secret)
    (seeds / "sub").mkdir()
    (seeds / "sub" / "up.md").symlink_to("../../secret.txt")
    summary = build(seeds, tmp_path)
    for name in ("passwd.txt", "secret.txt", "sub/up.md"):
        assert summary.skipped[name] == "a symbolic link to a file outside the seeds folder; not followed"
    assert "nologin" not in indexed_text(tmp_path) and summary.documents == 1


def test_links_inside_the_folder_work_and_broken_ones_are_named(seeds, tmp_path):
    (seeds / "alias.txt").symlink_to(SEED.name)
    (seeds / "dangling.txt").symlink_to("nowhere.txt")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "r.txt").write_text("A report elsewhere.\n")
    (seeds / "linked-folder").symlink_to(outside)
    (seeds / ".store").mkdir()  # hidden, so not a report itself: reached only through its link
    (seeds / ".store" / "kept.txt").write_text("A report kept aside.\n")
    (seeds / "kept.txt").symlink_to(".store/kept.txt")
    found, skipped = discover(seeds)
    assert [f.rel for f in found] == [SEED.name, "kept.txt"]
    assert skipped == {"dangling.txt": "a broken symbolic link", "linked-folder/": "a link to a folder; not followed",
                       "alias.txt": f"a link to {SEED.name}, which is indexed already; not indexed twice"}


def test_pipe_and_other_special_files_are_never_opened(seeds, tmp_path):
    os.mkfifo(seeds / "pipe.txt")  # opening it would block the build forever
    summary = build(seeds, tmp_path)
    assert summary.skipped == {"pipe.txt": "not a regular file"} and summary.documents == 1


def test_binary_and_oversized_files_are_refused_with_reasons(seeds, tmp_path):
    (seeds / "nul.txt").write_bytes(b"\x00" * 4096)
    (seeds / "latin1.md").write_bytes("caf\xe9".encode("latin-1"))
    with open(seeds / "huge.txt", "wb") as f:  # sparse: refused by size before a byte is read
        f.truncate(LIMITS.file_bytes[".txt"] + 1)
    (seeds / "long.txt").write_text("a " * (LIMITS.report_chars // 2 + 1))
    summary = build(seeds, tmp_path)
    assert summary.skipped["nul.txt"] == "not a text file (it contains NUL bytes)"
    assert summary.skipped["latin1.md"] == "not UTF-8 text (byte 0xe9 at offset 3)"
    assert summary.skipped["huge.txt"] == ("the file is 16 MiB (16,777,217 bytes); "
                                           "the limit is 16 MiB (16,777,216 bytes)")
    assert summary.skipped["long.txt"] == "has 4,000,002 characters; the limit is 4,000,000 a report"
    assert summary.documents == 1


def test_text_without_sentence_breaks_never_becomes_one_huge_quote(seeds, tmp_path):
    words = " ".join(f"word{i}" for i in range(170_000))  # about 1 MB, no full stop anywhere
    (seeds / "wall.txt").write_text(f"Wall of text\n\n{words}\n")
    (seeds / "token.txt").write_text("Single token\n\n" + "x" * 5000 + "\n")
    build(seeds, tmp_path)
    data = read_index(tmp_path / "index")
    sources = {name: (seeds / name).read_text() for name in ("wall.txt", "token.txt", SEED.name)}
    assert max(len(p.text) for p in data.passages) <= LIMITS.passage_chars
    for p in data.passages:
        assert sources[p.document][p.start:p.end] == p.text
    wall = [p for p in data.passages if p.document == "wall.txt"]
    assert " ".join(p.text for p in wall) == words  # cut at spaces: every word kept, in order
    assert "".join(p.text for p in data.passages if p.document == "token.txt") == "x" * 5000


def test_cli_names_each_skipped_file_and_still_indexes(seeds, tmp_path, capsys, monkeypatch):
    (seeds / "dangling.txt").symlink_to("nowhere.txt")
    (seeds / "nul.txt").write_bytes(b"\x00\x00")
    import indexer.build as build_module
    from indexer.embedding import ModelHandle

    monkeypatch.setattr(build_module, "ModelHandle", lambda model, embedder: ModelHandle(None, FakeEmbedder()))
    assert main(["index", "--seeds", str(seeds), "--index-dir", str(tmp_path / "index")]) == 0
    captured = capsys.readouterr()
    assert "peelqa: skipped dangling.txt: a broken symbolic link" in captured.err
    assert "peelqa: skipped nul.txt: not a text file (it contains NUL bytes)" in captured.err
    assert captured.out.startswith("indexed 1 document")


def test_index_honours_peelqa_index_dir(seeds, tmp_path, monkeypatch):
    monkeypatch.setenv("PEELQA_INDEX_DIR", str(tmp_path / "from-env"))
    monkeypatch.chdir(tmp_path)
    build_index(seeds, embedder=FakeEmbedder())
    assert (tmp_path / "from-env" / "manifest.json").exists() and not (tmp_path / "index").exists()


def test_progress_off_a_terminal_is_a_line_every_few_seconds(capsys, monkeypatch):
    from chat import cli

    clock = iter([0.0, 1.0, 12.0, 13.0, 30.0])
    monkeypatch.setattr(cli.time, "monotonic", lambda: next(clock))
    tick = cli._Ticker(every=10)
    tick(10, 100, "embedding passages")  # 1 s in: quiet
    tick(40, 100, "embedding passages")  # 12 s in: 30 done in the 11 s since the stage began: ~22 s left
    tick(50, 100, "embedding passages")  # 13 s: quiet again
    tick(100, 100, "embedding passages")  # 30 s: done, no estimate
    assert capsys.readouterr().err.splitlines() == [
        "peelqa: embedding passages 40/100 (40%), about 22 s left",
        "peelqa: embedding passages 100/100 (100%)"]


def test_progress_lines_keep_coming_while_the_build_is_quiet(capsys):
    """One long step (a batch embedded on a busy machine) once left 46 s without a line in a log."""
    import time

    from chat import cli

    with cli._Ticker(every=0.2) as tick:
        tick(5, 100, "embedding passages")  # then nothing for a while
        time.sleep(1.0)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) >= 3 and set(lines) == {"peelqa: embedding passages 5/100 (5%)"}  # no rate yet: no estimate


def test_readme_limits_table_is_the_code_s():
    from indexer.limits import limits_table
    from tests.conftest import ROOT

    assert limits_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_sentences_per_passage_are_bounded(seeds, tmp_path):
    """'Go. Go. Go. ...' once made 60,000 sentence vectors (161 s, 1 GB) from 240 KB."""
    (seeds / "go.txt").write_text("Go\n\n" + "Go. " * 20000 + "\n")
    summary = build(seeds, tmp_path)
    data = read_index(tmp_path / "index")
    go = [p for p in data.passages if p.document == "go.txt"]
    assert summary.documents == 2 and go
    assert max(len(p.sentences) for p in go) <= LIMITS.sentences_per_passage
    assert len(data.sentence_vectors) <= LIMITS.sentences_per_passage * len(data.passages)


def test_a_report_with_no_indexable_words_still_indexes(seeds, tmp_path):
    (seeds / "stop.txt").write_text("The\n\nIt is what it is.\n")
    summary = build(seeds, tmp_path)
    assert summary.documents == 2 and "stop.txt" not in summary.skipped
    only = tmp_path / "only"
    only.mkdir()
    (only / "stop.txt").write_text("The\n\nIt is what it is.\n")
    assert build_index(only, tmp_path / "index2", embedder=FakeEmbedder()).passages == 1


def test_serve_uses_the_seeds_folder_it_is_told(seeds, tmp_path, monkeypatch):
    from chat.qa import QA
    from chat.search import Searcher
    from chat.service import ChatService

    build(seeds, tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("PEELQA_SEEDS_DIR", str(other))
    qa = QA(Searcher.open(tmp_path / "index", embedder=FakeEmbedder()))
    assert ChatService(tmp_path / "index", qa=qa).seeds_dir == other  # not the folder the index recorded
    monkeypatch.delenv("PEELQA_SEEDS_DIR")
    assert ChatService(tmp_path / "index", qa=qa).seeds_dir.resolve() == seeds.resolve()


def test_calibration_never_writes_into_an_installed_package(tmp_path, monkeypatch):
    import indexer.model as model

    installed = tmp_path / "site-packages" / "indexer" / "models.json"
    installed.parent.mkdir(parents=True)
    installed.write_text('{"models": {}}')
    monkeypatch.setattr(model, "PACKAGED_REGISTRY", installed)
    monkeypatch.setenv("PEELQA_MODELS_DIR", str(tmp_path / "mine"))
    assert model.writable_registry_path() == tmp_path / "mine" / "models.json"


def test_metadata_files_follow_the_same_link_rule_and_bad_ones_are_named(seeds, tmp_path):
    """A `.meta.json` or `reports.csv` linked out of the folder was read (its fields then shown in citations)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "m.json").write_text('{"force": "Kent Police", "year": 2019}')
    (outside / "reports.csv").write_text(f"file,force\n{SEED.name},Kent Police\n")
    (seeds / f"{SEED.name}.meta.json").symlink_to(outside / "m.json")
    (seeds / "reports.csv").symlink_to(outside / "reports.csv")
    (seeds / "sub").mkdir()
    (seeds / "sub" / "r.txt").write_text("Durham report\n\nThe force is good at keeping people safe and reducing "
                                         "crime in every neighbourhood.\n")
    (seeds / "sub" / "r.meta.json").write_text("[1, 2]")
    (seeds / "sub" / "reports.csv").write_bytes(b"file,force\nr.txt,\xff\n")
    summary = build(seeds, tmp_path)
    outside_link = "a symbolic link to a file outside the seeds folder; not followed; its metadata not used"
    assert summary.skipped[f"{SEED.name}.meta.json"] == outside_link
    assert summary.skipped["reports.csv"] == outside_link
    assert summary.skipped["sub/r.meta.json"].startswith("cannot be read as a JSON object")
    assert summary.skipped["sub/reports.csv"].startswith("cannot be read as CSV")
    reports = {d["file"]: d for d in read_index(tmp_path / "index").manifest["documents"]}
    assert reports[SEED.name]["force"] == "Cleveland Police" and summary.documents == 2


def test_long_titles_headings_and_fields_are_cut_at_a_word(seeds, tmp_path):
    long = "Word " * 2000
    (seeds / "long.md").write_text(f"---\nurl: https://x.example/{'a' * 5000}\n---\n# {long}\n\n## {long}\n\n"
                                   "The force is good at keeping people safe and reducing crime in every area.\n")
    build(seeds, tmp_path)
    index = read_index(tmp_path / "index")
    doc = next(d for d in index.manifest["documents"] if d["file"] == "long.md")
    passage = next(p for p in index.passages if p.document == "long.md")
    limit = LIMITS.title_chars
    assert len(passage.title) <= limit and passage.title.endswith("Word…")
    assert all(len(s) <= limit for s in passage.section) and passage.section[0].endswith("…")
    assert "url" not in doc or doc["url"] is None  # a URL is never cut into a dead link: too long, left out
    assert all(len(str(v)) <= LIMITS.url_chars for v in doc["front_matter"].values())


def test_front_matter_and_metadata_that_would_exhaust_the_parser_are_read_safely(seeds, tmp_path):
    """Deep nesting ended the build in a RecursionError; a ~700-byte YAML alias bomb grew to 5 GB."""
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in
        zip("abcdefgh", "bcdefghi", strict=True))
    (seeds / "bomb.md").write_text(f"---\n{bomb}title: *i\n---\n# Bomb\n\nThe force is good at keeping "
                                   "people safe and reducing crime in every area.\n")
    (seeds / "deep.md").write_text("---\ntitle: " + "[" * 5000 + "]" * 5000 + "\n---\n# Deep\n\nThe force "
                                   "is good at keeping people safe and reducing crime in every area.\n")
    (seeds / "deep.txt").write_text("Deep text\n\nThe force is good at keeping people safe and reducing crime.\n")
    (seeds / "deep.txt.meta.json").write_text("[" * 100_000 + "]" * 100_000)
    summary = build(seeds, tmp_path)
    assert summary.documents == 4
    assert summary.skipped["deep.txt.meta.json"].startswith("cannot be read as a JSON object")
