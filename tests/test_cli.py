"""The CLI's contract: JSON shape, exit codes, one-line errors. Uses the real model."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chat.cli import main
from tests.conftest import ROOT, SEED

pytestmark = pytest.mark.model


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_json_contract(capsys, seed_index):
    code, out, err = run(capsys, "ask", "Is Cleveland good at investigating crime?", "--json",
                         "--index-dir", str(seed_index))
    assert code == 0, err
    (line,) = out.splitlines()
    answer = json.loads(line)
    assert set(answer) == {"question", "answered", "results", "scope", "grades"}
    assert answer["question"] == "Is Cleveland good at investigating crime?" and answer["answered"] is True
    assert answer["scope"] == "From Cleveland Police"
    (grade,) = answer["grades"]
    assert (grade["force"], grade["year"], grade["area"], grade["grade"]) == (
        "Cleveland Police", 2016, "investigating-crime", "good")
    assert grade["sentence"] == "Cleveland Police is good at investigating crime."
    assert [r["rank"] for r in answer["results"]] == [1, 2, 3, 4, 5]
    top = answer["results"][0]
    assert top["text"].startswith("Cleveland Police is good at investigating crime")
    assert top["citation"] == ("Cleveland Police · PEEL 2016 · Effectiveness › How effective is the force at "
                               "investigating crime and reducing re-offending? › para 3")
    assert (top["force"], top["year"], top["pillar"]) == ("Cleveland Police", 2016, "Effectiveness")
    assert top["paragraph"] == 3 and top["document"] == SEED.name and top["title"] == "Cleveland PEEL 2016"
    source = SEED.read_text(encoding="utf-8")
    scores = [r["score"] for r in answer["results"]]
    assert scores == sorted(scores, reverse=True)
    for r in answer["results"]:
        assert source[r["start"]:r["end"]] == r["text"]
        assert r["highlights"] and all(0 <= s < e <= len(r["text"]) for s, e in r["highlights"])
    s, e = top["highlights"][0]
    assert top["text"][s:e] == "Cleveland Police is good at investigating crime."


def test_ask_top_k_and_not_covered(capsys, seed_index):
    code, out, _ = run(capsys, "ask", "Who won the football match on Saturday?", "--json", "--top-k", "2",
                       "--index-dir", str(seed_index))
    answer = json.loads(out)
    assert code == 0 and answer["answered"] is False and len(answer["results"]) == 2


def test_ask_plain_text_for_people(capsys, seed_index):
    code, out, _ = run(capsys, "ask", "Is there a children's hub?", "--index-dir", str(seed_index))
    assert code == 0
    assert "[1] Cleveland Police · PEEL 2016 · Effectiveness ›" in out and "para 8" in out
    assert "it has established its first children’s hub" in out


def test_ask_stdin_answers_each_line(capsys, seed_index, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("Is there a children's hub?\n\nWhat is the annual budget?\n"))
    code, out, _ = run(capsys, "ask", "-", "--json", "--top-k", "1", "--index-dir", str(seed_index))
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and [x["question"] for x in lines] == ["Is there a children's hub?", "What is the annual budget?"]
    assert [x["answered"] for x in lines] == [True, False]


def test_bad_input_is_one_line_and_nonzero(capsys):
    # Bad input exits 2 (as argparse does for a bad option); other errors 1.
    for argv, message, status in ((["ask", "   "], "the question is empty", 2),
                                  (["eval", "/nonexistent/questions.jsonl"], "cannot read questions file", 1)):
        code, out, err = run(capsys, *argv)
        assert code == status and out == ""
        assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err


def test_bad_top_k_exits_2_with_one_line(capsys):
    for value, message in (("0", "must be from 1 to 50"), ("many", "expected a whole number")):
        with pytest.raises(SystemExit) as e:
            main(["ask", "x", "--top-k", value])
        err = capsys.readouterr().err
        assert e.value.code == 2 and len(err.strip().splitlines()) == 1 and message in err


def test_index_reports_bad_files_and_empty_folder(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "index", "--seeds", str(tmp_path / "empty"), "--index-dir", str(tmp_path / "i"))
    assert code == 1 and err.strip().startswith("peelqa: error: no reports (.txt, .md, .pdf, .html, .htm, .docx) in")
    assert len(err.strip().splitlines()) == 1
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds / SEED.name)
    (seeds / "bad.txt").write_bytes(b"\xff\xfe broken")
    code, out, err = run(capsys, "index", "--seeds", str(seeds), "--index-dir", str(tmp_path / "i"))
    assert code == 0
    assert "peelqa: skipped bad.txt: not UTF-8 text (byte 0xff at offset 0)" in err
    assert out.startswith("indexed 1 document, 22 passages (22 re-embedded)")


def test_eval_prints_metrics(capsys, seed_index):
    code, out, _ = run(capsys, "eval", str(ROOT / "tests" / "data" / "dev_questions.jsonl"), "--json",
                       "--index-dir", str(seed_index))
    m = json.loads(out)
    assert code == 0
    assert {"hit_at_1", "hit_at_3", "hit_at_5", "mrr_at_5", "unanswerable_refused", "answerable_refused"} <= set(m)
    assert m["answerable"] == 20 and m["unanswerable"] == 4


def test_console_script_builds_index_on_first_question(tmp_path):
    """A new user's first question just works: no index yet, `ask` builds one and says so."""
    env = {**os.environ, "PEELQA_INDEX_DIR": str(tmp_path / "fresh-index"), "PEELQA_SEEDS_DIR": str(ROOT / "seeds")}
    # The venv's bin folder need not be on PATH (make test runs .venv/bin/python -m pytest).
    exe = Path(sys.executable).with_name("peelqa")
    assert exe.exists(), "peelqa console script not installed"
    proc = subprocess.run([exe, "ask", "Is Cleveland good at investigating crime?", "--json"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "no index at" in proc.stderr and "building it" in proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["results"][0]["text"].startswith("Cleveland Police is good at investigating crime")
    assert (tmp_path / "fresh-index" / "manifest.json").exists()


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory):
    """The multi-report corpus indexed with the fake model: listing commands need no real embeddings."""
    from indexer.build import build_index
    from tests.conftest import FakeEmbedder

    folder = tmp_path_factory.mktemp("corpus-cli")
    build_index(ROOT / "tests" / "data" / "corpus", folder / "index", embedder=FakeEmbedder(max_tokens=256))
    return folder / "index"


def test_reports_lists_metadata_and_flags(capsys, corpus_index):
    code, out, _ = run(capsys, "reports", "--index-dir", str(corpus_index))
    assert code == 0 and len(out.splitlines()) == 36
    assert "greyhaven-2016-legitimacy.txt: Greyhaven Police · 2016 · Legitimacy" in out  # from its file name
    assert "marwick-peel-2021-22.md: Marwick Police · 2021/22" in out
    code, out, _ = run(capsys, "reports", "--json", "--index-dir", str(corpus_index))
    rows = [json.loads(line) for line in out.splitlines()]
    lox = next(r for r in rows if r["file"] == "loxley-vale-peel-2015-effectiveness.md")
    assert (lox["force"], lox["year"], lox["published"], lox["sources"]["force"]) == (
        "Loxley Vale Police", 2015, "2016-02-18", "sidecar")
    assert next(r for r in rows if r["file"] == "national-overview-2016-effectiveness.md")["scope"] == "national"


def test_grades_table_for_a_force_as_text_json_and_csv(capsys, corpus_index):
    code, out, _ = run(capsys, "grades", "--force", "SC", "--year", "2016", "--json", "--index-dir", str(corpus_index))
    grades = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and {g["force"] for g in grades} == {"Severnshire Constabulary"}
    prevention = next(g for g in grades if g["area"] == "preventing-crime" and g["pillar"] == "Effectiveness")
    assert prevention["grade"] == "outstanding" and prevention["source"] == "report"
    source = (ROOT / "tests" / "data" / "corpus" / prevention["document"]).read_text(encoding="utf-8")
    assert source[prevention["start"]:prevention["end"]] == prevention["sentence"]  # the exact sentence
    code, out, _ = run(capsys, "grades", "--force", "Loxley", "--csv", "--index-dir", str(corpus_index))
    header, *rows = out.splitlines()
    assert header.startswith("force,year,period,pillar,area_label,grade") and rows
    code, _, err = run(capsys, "grades", "--force", "Nowhere Police", "--index-dir", str(corpus_index))
    assert code == 2 and "no force called 'Nowhere Police'" in err


def test_find_is_exhaustive_with_offsets_and_counts(capsys, corpus_index):
    code, out, _ = run(capsys, "find", "cuckooing", "--json", "--index-dir", str(corpus_index))
    found = json.loads(out)
    assert code == 0 and found["total"] >= 1 and len(found["reports"]) == 36
    for m in found["mentions"]:
        source = (ROOT / "tests" / "data" / "corpus" / m["document"]).read_text(encoding="utf-8")
        assert source[m["start"]:m["end"]].lower() == "cuckooing"
    code, out, _ = run(capsys, "find", "zebra crossing", "--index-dir", str(corpus_index))
    assert out.strip().endswith("0 mention(s) of “zebra crossing” in 0 of 36 reports.")
    code, out, _ = run(capsys, "find", "missing child", "--stem", "--csv", "--index-dir", str(corpus_index))
    assert out.splitlines()[0] == "document,citation,start,end,match,text" and len(out.splitlines()) > 2


def test_ask_by_report_json(capsys, seed_index):
    code, out, _ = run(capsys, "ask", "How has Cleveland changed since 2015?", "--json", "--by-report",
                       "--index-dir", str(seed_index))
    answer = json.loads(out)
    (row,) = answer["by_report"]
    assert code == 0 and row["force"] == "Cleveland Police" and row["year"] == 2016 and row["covered"]
    assert row["result"]["citation"].startswith("Cleveland Police · PEEL 2016 · Effectiveness ›")


def test_ask_json_keeps_top_k_and_marks_weak_quotes(capsys, seed_index):
    # The chat hides weak quotes; the JSON keeps every one, marked, for scripts to decide.
    code, out, _ = run(capsys, "ask", "Is the force prepared for an armed attack?", "--json",
                       "--index-dir", str(seed_index))
    results = json.loads(out)["results"]
    assert code == 0 and len(results) == 5
    assert results[0]["weak"] is False and all(isinstance(r["weak"], bool) for r in results)
    assert any(r["weak"] for r in results[1:])
    _, out, _ = run(capsys, "ask", "Who won the football match on Saturday?", "--json", "--index-dir", str(seed_index))
    assert all(r["weak"] for r in json.loads(out)["results"])  # a refused answer's quotes are all weak
