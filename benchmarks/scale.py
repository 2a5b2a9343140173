"""Scale: build, rebuild, query and serve synthetic corpora of 10,000, 100,000 and 1,000,000 passages.

    python benchmarks/scale.py [--sizes 10000 100000 1000000] [--work /tmp/peelqa-scale] [--questions 200]
                               [--root CHECKOUT] [--recall N] [--variants] [--skip-build] [--skip-serve]

For each size it prints: build time and passages/s (with the embedding's share), peak RSS of the build, disk
size, a rebuild with nothing changed and with one report changed, warm query p50/p95 through `peelqa ask -`
(one process, questions one per line, the question's embedding included), the final top 5 compared with
scoring every passage (candidate recall), and `peelqa serve`'s start-up time and RSS at rest. `--variants`
also compares other candidate stages with scoring every passage (efSearch 256-1,024, exact dense candidates,
1,000 and 2,000 candidates a source, and the passages of the best sentences found by scoring every
sentence), each with its in-process p50.

Corpora come from benchmarks/synthetic.py; questions are sentences held out of the reports. Sizes up to
`--real` (default 10,000) are embedded by the real model. Larger corpora are copies of that one with other
place names, and their vectors are the real model's vectors of the original texts with small random changes
(benchmarks/replay.py: no 2-core machine embeds a million passages in a working day); their build time is the
measured build without embedding plus the real build's embedding time scaled, and is labelled extrapolated.
`--root` runs another checkout's `peelqa` (to measure a version before), for the steps its CLI has.

`--milvus` also measures the Milvus backend on each size: the index copied and written to a Milvus Lite file
(`peelqa index --backend milvus`: every vector reused, so this is the time to write the collection), its warm
query p50/p95, and its answers compared with the embedded backend's (top 5 and refusals, default settings).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import synthetic  # noqa: E402

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "PYTHONUNBUFFERED": "1"}


def peelqa(root: Path) -> list[str]:
    """This interpreter running `root`'s peelqa (run from `root`, its own packages come first)."""
    return [sys.executable, "-m", "chat"]


def timed(cmd: list[str], cwd: Path) -> tuple[float, int, str]:
    """Like `run`, with the child's own peak RSS (measured by the child, via a small wrapper)."""
    wrapper = ("import resource,runpy,sys,time;sys.argv=sys.argv[1:];t=time.perf_counter()\n"
               "try:\n runpy.run_module(sys.argv[0],run_name='__main__')\nexcept SystemExit as e:\n"
               " code=e.code\nelse:\n code=0\n"
               "print('@@',time.perf_counter()-t,resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
               "file=sys.stderr);sys.exit(code)")
    python, module, *rest = cmd[0], cmd[2], *cmd[3:]
    proc = subprocess.run([python, "-c", wrapper, module, *rest], cwd=cwd, env=ENV, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr[-2000:]}")
    line = [x for x in proc.stderr.splitlines() if x.startswith("@@")][-1].split()
    return float(line[1]), int(line[2]) // 1024, proc.stdout


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def corpus(work: Path, size: int, real: int) -> tuple[Path, list[dict]]:
    folder = work / f"corpus-{size}"
    qfile = work / f"questions-{size}.json"
    if not qfile.exists() or not folder.is_dir():  # a corpus deleted to save disk is written again
        shutil.rmtree(folder, ignore_errors=True)
        if size > real:
            questions = synthetic.write_corpus(folder, real)
            for copy in range(1, size // real):
                synthetic.write_corpus(folder, real, copy)
        else:
            questions = synthetic.write_corpus(folder, size)
        qfile.write_text(json.dumps(questions))
    return folder, json.loads(qfile.read_text())


def build(root: Path, seeds: Path, index: Path) -> dict:
    shutil.rmtree(index, ignore_errors=True)
    shutil.rmtree(index.parent / f".{index.name}.cache", ignore_errors=True)
    seconds, rss, stdout = timed([*peelqa(root), "index", "--seeds", str(seeds), "--index-dir", str(index),
                                  "--json"], root)
    passages = json.loads((index / "manifest.json").read_text())["passages"]
    out = {"build_s": round(seconds, 1), "passages": passages, "passages_per_s": round(passages / seconds, 1),
           "build_peak_rss_mb": rss, "disk_mb": round(disk_mb(index), 1)}
    timings = json.loads(stdout).get("timings")  # what the build itself measured (this checkout)
    if timings:
        out["embed_s"] = timings["embed"]
        out["build_over_encode"] = round(seconds / max(timings["embed"], 1e-9), 2)
    again, _, _ = timed([*peelqa(root), "index", "--seeds", str(seeds), "--index-dir", str(index), "--json"], root)
    out["rebuild_unchanged_s"] = round(again, 2)
    report = sorted(seeds.glob("*.txt"))[len(list(seeds.glob("*.txt"))) // 2]
    original = report.read_text(encoding="utf-8")
    report.write_text(original + "The force has opened a new training centre for detectives in Ashton.\n",
                      encoding="utf-8")
    try:
        changed, _, stdout = timed([*peelqa(root), "index", "--seeds", str(seeds), "--index-dir", str(index),
                                    "--json"], root)
        out["rebuild_one_changed_s"] = round(changed, 2)
    finally:
        report.write_text(original, encoding="utf-8")
    timed([*peelqa(root), "index", "--seeds", str(seeds), "--index-dir", str(index), "--json"], root)
    return out


def latency(root: Path, index: Path, questions: list[str]) -> dict:
    """Warm per-question times of `peelqa ask -`: one process, one question a line, the first 5 not counted."""
    cmd = [*peelqa(root), "ask", "-", "--json", "--index-dir", str(index)]
    proc = subprocess.Popen(cmd, cwd=root, env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, bufsize=1)
    times = []
    for q in questions:
        t = time.perf_counter()
        proc.stdin.write(q.replace("\n", " ") + "\n")
        proc.stdin.flush()
        proc.stdout.readline()
        times.append(time.perf_counter() - t)
    proc.stdin.close()
    proc.wait()
    warm = sorted(times[5:])
    return {"first_answer_s": round(times[0], 2), "query_p50_ms": round(statistics.median(warm) * 1000, 1),
            "query_p95_ms": round(warm[int(0.95 * (len(warm) - 1))] * 1000, 1), "questions": len(warm)}


def serve(root: Path, index: Path) -> dict:
    """Seconds until `peelqa serve` answers HTTP, and its RSS at rest then."""
    port = 7990
    began = time.perf_counter()
    proc = subprocess.Popen([*peelqa(root), "serve", "--index-dir", str(index), "--port", str(port)], cwd=root,
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in proc.stdout:
            if "chat ready" in line:
                break
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60).read()
        ready = time.perf_counter() - began
        time.sleep(5)
        rss = int(next(x for x in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                       if x.startswith("VmRSS")).split()[1]) // 1024
        return {"serve_ready_s": round(ready, 1), "serve_rss_mb": rss}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _paragraph(passage_id: str) -> str:
    """A passage id with its copy left out: "r00135-c4.txt#p15" -> "r00135.txt#p15"."""
    return re.sub(r"-c\d+\.txt#", ".txt#", passage_id)


def recall(index: Path, questions: list[str], variants: bool = False) -> dict:
    """Share of questions whose final top 5 equals the top 5 of scoring every passage (this checkout); also
    the top 1, and the top 5 up to copies (the same paragraphs, whichever copies: in a corpus of copies with
    replayed vectors, copies differ by noise alone, and the order among them is a coin toss). With
    `variants`, the same for other candidate stages, each with its in-process p50 a question."""
    import dataclasses

    from chat.qa import QA

    qa = QA.open(index)
    every = dataclasses.replace(qa.searcher.scoring, candidates=0)
    began = time.perf_counter()
    exhaustive = [qa.ask(q, 5, scoring=every) for q in questions]
    seconds = (time.perf_counter() - began) / len(questions)
    full = [[x.passage.id for x in a.quotes] for a in exhaustive]
    answered = [a.answered for a in exhaustive]
    out = {**_agreement(qa, questions, full, answered, None), "recall_questions": len(questions),
           "exhaustive_s_per_question": round(seconds, 2), "vectors": qa.searcher.manifest.get("vectors")}
    if variants:
        out["variants"] = {name: _agreement(qa, questions, full, answered, change)
                           for name, change in _variants(qa).items()}
    return out


def _variants(qa) -> dict:
    """Other candidate stages, each a function that sets it up and returns the scoring to ask with."""
    import dataclasses

    import indexer.vectors as vector_store

    searcher = qa.searcher
    scoring, vectors = searcher.scoring, searcher.data.vectors
    graph, ef = vectors.ann, vector_store.EF_SEARCH

    def with_(candidates=scoring.candidates, ef_search=ef, exact=False, sentences=False):
        def change():
            vector_store.EF_SEARCH = ef_search
            vectors.ann = None if exact else graph
            searcher.__dict__.pop("candidates", None)
            if sentences:
                searcher.candidates = _with_sentence_candidates(searcher)
            return dataclasses.replace(scoring, candidates=candidates)
        return change

    out = {f"efSearch {e}": with_(ef_search=e) for e in (256, 512, 1024)} if graph is not None else {}
    if graph is not None:
        out["exact dense candidates"] = with_(exact=True)
    out.update({f"{n} candidates a source": with_(candidates=n) for n in (1000, 2000)})
    out["the best sentences' passages too (an exact scan)"] = with_(sentences=True)
    out["back to the default"] = with_()
    return out


def _with_sentence_candidates(searcher):
    """The searcher's candidates plus the passages of the sentences nearest the question, found by scoring
    every sentence: sizes what an index of sentence vectors would add (the dense signal is half the best
    sentence's cosine, and the candidate stage sees passage vectors only)."""
    import numpy as np

    default = type(searcher).candidates
    starts = np.asarray(searcher.data.sentence_rows)
    owner = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    sentences = searcher.data.sentence_vectors

    def candidates(s, mask):
        rows = default(searcher, s, mask)
        n = s.scoring.candidates
        if len(rows) == int(mask.sum()):
            return rows
        found, scores = [], []
        for at in range(0, len(owner), 1 << 19):  # in blocks: all sentence vectors are gigabytes at a million
            cos = np.asarray(sentences[at:at + (1 << 19)], dtype=np.float32) @ s.query
            cos[~mask[owner[at:at + len(cos)]]] = -2.0
            top = np.argpartition(-cos, min(4 * n, len(cos) - 1))[:4 * n]
            found.append(owner[at + top])
            scores.append(cos[top])
        order = np.argsort(-np.concatenate(scores), kind="stable")
        return np.union1d(rows, _first_unique(np.concatenate(found)[order], n))

    return candidates


def _first_unique(rows, n: int):
    import numpy as np

    _, first = np.unique(rows, return_index=True)
    return rows[np.sort(first)][:n]


def _agreement(qa, questions: list[str], full: list[list[str]], answered: list[bool], change) -> dict:
    scoring = change() if change else None
    same = first = paragraphs = refusals = 0
    times = []
    for q, b, ok in zip(questions, full, answered, strict=True):
        began = time.perf_counter()
        fast = qa.ask(q, 5, scoring=scoring)
        times.append(time.perf_counter() - began)
        a = [x.passage.id for x in fast.quotes]
        same += a == b
        first += a[:1] == b[:1]
        paragraphs += sorted(map(_paragraph, a)) == sorted(map(_paragraph, b))
        refusals += fast.answered == ok
    n = len(questions)
    return {"top5_equal_exhaustive": round(same / n, 4), "top1_equal_exhaustive": round(first / n, 4),
            "top5_same_paragraphs": round(paragraphs / n, 4), "refusals_equal": round(refusals / n, 4),
            "in_process_p50_ms": round(1000 * statistics.median(times), 1)}


def milvus(root: Path, seeds: Path, index: Path, questions: list[str]) -> dict:
    """The Milvus backend on a copy of `index`: the time to write its collection, query times, and how many
    answers equal the embedded backend's."""
    copy = index.with_name(index.name + "-milvus")
    uri = index.with_name(index.name + "-milvus.db")
    shutil.rmtree(copy, ignore_errors=True)
    uri.unlink(missing_ok=True)
    shutil.copytree(index, copy)
    seconds, rss, _ = timed([*peelqa(root), "index", "--seeds", str(seeds), "--index-dir", str(copy), "--backend",
                             "milvus", "--milvus-uri", str(uri), "--json"], root)
    out = {"milvus_write_s": round(seconds, 1), "milvus_write_peak_rss_mb": rss}
    out.update({f"milvus_{k}": v for k, v in latency(root, copy, questions).items()})
    out.update(agreement(index, copy, questions))
    return out


def agreement(a: Path, b: Path, questions: list[str]) -> dict:
    """Share of questions whose top 5 and refusal are the same from the indexes `a` and `b`."""
    from chat.qa import QA

    qa, qb = QA.open(a), QA.open(b)
    same = refusals = 0
    for q in questions:
        x, y = qa.ask(q, 5), qb.ask(q, 5)
        same += [h.passage.id for h in x.quotes] == [h.passage.id for h in y.quotes]
        refusals += x.answered == y.answered
    return {"backends_top5_equal": round(same / len(questions), 4),
            "backends_refusals_equal": round(refusals / len(questions), 4), "backends_questions": len(questions)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/peelqa-scale"))
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--recall", type=int, default=100,
                        help="questions compared with scoring every passage (0: skip; all sizes up to 200)")
    parser.add_argument("--real", type=int, default=10_000, help="largest corpus embedded by the real model")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose peelqa is measured")
    parser.add_argument("--milvus", action="store_true", help="also measure the Milvus backend (Milvus Lite)")
    parser.add_argument("--skip-serve", action="store_true", help="leave out `peelqa serve`'s figures")
    parser.add_argument("--variants", action="store_true",
                        help="also compare other candidate stages (efSearch, exact dense, more candidates, sentences)")
    parser.add_argument("--skip-build", action="store_true",
                        help="measure the indexes already built (their build figures are read back)")
    args = parser.parse_args()
    root = args.root.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    tag = "this" if root == ROOT else root.name
    for size in args.sizes:
        seeds, held = corpus(args.work, size, args.real)
        questions = [h["question"] for h in held][: args.questions]
        index = args.work / f"index-{size}-{tag}"
        row: dict = {"size": size, "version": tag}
        built = args.work / f"build-{size}.json"
        if args.skip_build and built.exists():
            row.update(json.loads(built.read_text()))  # the figures of the build that made the index
        elif size > args.real:
            from replay import build_replayed

            row.update(build_replayed(args.work, seeds, index, args.real))
            built.write_text(json.dumps(row))
        else:
            row.update(build(root, seeds, index))
            built.write_text(json.dumps(row))
        row.update(latency(root, index, questions))
        if not args.skip_serve:
            row.update(serve(root, index))
        if args.milvus:
            row.update(milvus(root, seeds, index, questions))
        if root == ROOT and args.recall:
            row.update(recall(index, questions[: args.recall if size > 100_000 else max(args.recall, 200)],
                              args.variants))
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
