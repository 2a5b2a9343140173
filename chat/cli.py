"""`peelqa`: one console script. Plain text for people, `--json` lines for machines."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from pathlib import Path

from indexer import __version__
from indexer.errors import BadInputError, NotFoundError, PeelqaError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        # One line, not usage plus error.
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 50:
        raise argparse.ArgumentTypeError(f"must be from 1 to 50, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="peelqa", description="Answer questions about police inspection reports with "
                     "verbatim, cited quotes.")
    parser.add_argument("--version", action="version", version=f"peelqa {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("index", help="build or update the index from the seed reports")
    p.add_argument("--seeds", type=Path, help="folder of .txt/.md reports (default: seeds/ or $PEELQA_SEEDS_DIR)")
    p.add_argument("--index-dir", type=Path, help="index folder (default: ./index or $PEELQA_INDEX_DIR)")
    p.add_argument("--model", help="embedding model: a name in models/ or a path (default: all-MiniLM-L6-v2)")
    p.add_argument("--full", action="store_true", help="re-embed every file, changed or not")
    p.add_argument("--repair", action="store_true",
                   help="check every index file against its checksum and rebuild what is damaged (a plain "
                        "index run does this for indexes up to 64 MiB, and checks sizes and quoted text above; "
                        "--repair always checks everything and says what it found)")
    p.add_argument("--backend", choices=("faiss", "milvus"),
                   help="where candidates come from: faiss (files in the index folder, the default) or milvus (a "
                        "Milvus collection: for corpora and traffic past one machine); default: what the index has")
    p.add_argument("--milvus-uri", help="with --backend milvus: a Milvus Lite file (x.db), or a server such as "
                                        "http://127.0.0.1:19530 (default: $PEELQA_MILVUS_URI, else the index's, "
                                        "else INDEX-milvus.db beside the index folder)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    p = sub.add_parser("check", help="verify every index file against the checksums in its manifest")
    p.add_argument("--index-dir", type=Path, help="index folder (default: ./index or $PEELQA_INDEX_DIR)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")

    p = sub.add_parser("ask", help="answer a question with quotes from the reports")
    p.add_argument("question", help='the question, or "-" to read one question per line from stdin')
    p.add_argument("--top-k", type=_positive, default=5, help="number of quotes (1-50, default 5)")
    p.add_argument("--json", action="store_true", help="one JSON object per question per line")
    p.add_argument("--by-report", action="store_true",
                   help="also answer per report (a row per force and year; on by itself for comparisons)")
    p.add_argument("--index-dir", type=Path, help="index folder (default: ./index or $PEELQA_INDEX_DIR)")

    p = sub.add_parser("reports", help="list the indexed reports with their force, year and pillar")
    p.add_argument("--json", action="store_true", help="one JSON object per report per line")
    p.add_argument("--index-dir", type=Path, help="index folder (default: ./index or $PEELQA_INDEX_DIR)")

    p = sub.add_parser("grades", help="the PEEL grades the reports state, each with its sentence")
    p.add_argument("--force", help="only this force (any of its names: GMP, the Met, Durham)")
    p.add_argument("--year", type=int, help="only this PEEL year")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="one JSON object per grade per line")
    form.add_argument("--csv", action="store_true", help="CSV with a header row")
    p.add_argument("--index-dir", type=Path, help="index folder (default: ./index or $PEELQA_INDEX_DIR)")

    p = sub.add_parser("find", help="every passage that mentions a phrase, in every report (exhaustive)")
    p.add_argument("phrase", help="the words to find, in order (case and quote marks do not matter)")
    p.add_argument("--stem", action="store_true", help="match word stems too (inspect = inspected, inspections)")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="one JSON object with counts and every match")
    form.add_argument("--csv", action="store_true", help="CSV: one row per match")
    p.add_argument("--index-dir", type=Path, help="index folder (default: ./index or $PEELQA_INDEX_DIR)")

    p = sub.add_parser("show", help="write the page of a PDF source as a PNG with a quote highlighted")
    p.add_argument("citation", help='a citation as peelqa prints it, a passage id ("report.pdf#p12") or '
                                    '"FILE:START-END" (offsets as in --json)')
    p.add_argument("--png", type=Path, required=True, help="the image file to write")
    p.add_argument("--page", type=int, help="another page of the same PDF (1 = its first), the quote marked if there")
    p.add_argument("--index-dir", type=Path, help="index folder (default: ./index or $PEELQA_INDEX_DIR)")

    p = sub.add_parser("eval", help="measure retrieval on a file of labelled questions")
    p.add_argument("file", type=Path, help="JSON lines: {question, gold: [...], answerable}")
    p.add_argument("--json", action="store_true", help="print metrics as one JSON object")
    p.add_argument("--index-dir", type=Path, help="index folder (default: ./index or $PEELQA_INDEX_DIR)")
    p.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid", help="retrieval to measure")
    p.add_argument("--calibrate", action="store_true",
                   help="also find the refusal threshold that best separates the file's questions")
    p.add_argument("--write", action="store_true",
                   help="with --calibrate: save it, with the settings it is for, in the index's manifest and the "
                        "model registry (yours: $PEELQA_MODELS_DIR or ./models/models.json when peelqa is installed)")
    p.add_argument("--verbose", action="store_true", help="one line per question")

    p = sub.add_parser("serve", help="open the chat in the browser (Gradio)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--index-dir", type=Path, help="index folder (default: ./index or $PEELQA_INDEX_DIR)")
    return parser


class _Ticker:
    """Progress for logs and pipes: a line every `every` seconds, with an estimate of time left. A clock
    thread prints it even while the build is between two reports of progress (a long report being split, a
    batch being embedded on a busy machine once left 46 s without a line)."""

    def __init__(self, every: float = 10.0):
        self.every, self.stage, self.start_done, self.state = every, "", 0, None
        self.began = self.last = time.monotonic()  # quiet for the first `every` seconds: short runs print nothing
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, done: int, total: int, message: str) -> None:
        now = time.monotonic()
        with self._lock:
            if message != self.stage:
                self.stage, self.began, self.start_done = message, now, done
            self.state = (done, total, message)
        self._maybe_print(now)

    def _maybe_print(self, now: float) -> None:
        with self._lock:
            if now - self.last < self.every or self.state is None or not self.state[1]:
                return
            self.last = now
            done, total, message = self.state
            rate = (done - self.start_done) / (now - self.began) if now > self.began else 0
        left = (total - done) / rate if rate > 0 else None
        # A few uneven steps (assembling, writing the index) give no useful estimate.
        eta = f", about {_duration(left)} left" if left is not None and done < total and total >= 20 else ""
        print(f"peelqa: {message} {done}/{total} ({100 * done // total}%){eta}", file=sys.stderr, flush=True)

    def __enter__(self) -> _Ticker:
        def clock() -> None:
            while not self._stop.wait(min(1.0, self.every / 2)):
                self._maybe_print(time.monotonic())

        self._thread = threading.Thread(target=clock, name="peelqa-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)  # no progress line after the build's summary


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _progress_bar():
    """A rich progress bar on a terminal; a line every 10 s otherwise (logs and pipes stay readable)."""
    if not sys.stderr.isatty():
        return None, _Ticker()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   transient=True)
    task = bar.add_task("embedding", total=None)

    def update(done: int, total: int, message: str) -> None:
        bar.update(task, completed=done, total=total, description=message)

    return bar, update


def cmd_index(args) -> int:
    from indexer.build import build_index

    bar, update = _progress_bar()
    verify = True if args.repair else None
    with bar or update:
        summary = build_index(args.seeds, args.index_dir, args.model, args.full, update, verify=verify,
                              backend=args.backend, milvus_uri=args.milvus_uri)
    for file, reason in summary.skipped.items():
        print(f"peelqa: skipped {file}: {reason}", file=sys.stderr)
    for note in summary.notes:
        print(f"peelqa: {note}", file=sys.stderr)
    if args.repair and not summary.repaired:
        print("peelqa: no damaged index files found", file=sys.stderr)
    print(json.dumps(summary.to_dict()) if args.json else summary.line())
    return 0


def cmd_check(args) -> int:
    from indexer.store import verify_index

    report = verify_index(args.index_dir)
    if args.json:
        print(json.dumps(report))
    elif report["ok"]:
        print(f"index at {report['index_dir']} is intact: {report['files']} files, "
              f"{report['bytes'] / 1e6:.1f} MB checked in {report['seconds']:.1f} s")
    else:
        for problem in report["problems"]:
            print(f"peelqa: damaged: {problem}", file=sys.stderr)
        print(f"peelqa: error: index at {report['index_dir']} is damaged (fix: peelqa index --repair)",
              file=sys.stderr)
    return 0 if report["ok"] else 1


def _open_qa(index_dir: Path | None):
    from .qa import QA

    bar, update = _progress_bar()

    def say(message: str) -> None:
        print(f"peelqa: {message}", file=sys.stderr)

    if bar:
        with bar:
            return QA.open(index_dir, build_if_missing=True, on_build=say, progress=update)
    return QA.open(index_dir, build_if_missing=True, on_build=say, progress=update)


def _print_answer(answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        return
    from .answer import NOT_COVERED, render_plain, segments

    if not sys.stdout.isatty():
        # Pipes and files get plain text with the key sentence(s) in **…**, one quote per line.
        print(render_plain(answer) + "\n", flush=True)
        return
    from rich.console import Console
    from rich.text import Text

    # soft_wrap: never insert line breaks into a quote; the terminal wraps long lines itself.
    console = Console(highlight=False, soft_wrap=True)
    if not answer.quotes:
        console.print("No passages match.")
    elif not answer.answered:
        console.print(NOT_COVERED, style="bold")
    for q in answer.quotes:
        console.print()
        console.print(Text(f"[{q.rank}] {q.passage.citation}", style="cyan"),
                      Text(f"(score {q.score:.2f})", style="dim"))
        body = Text("“")
        for piece, hot in segments(q.passage.text, q.highlights):
            body.append(piece, style="bold yellow" if hot else None)
        body.append("”")
        console.print(body)


def cmd_ask(args) -> int:
    from .qa import check_question

    if args.question != "-":
        check_question(args.question)
    qa = _open_qa(args.index_dir)
    if args.question != "-":
        _print_answer(qa.ask(args.question, args.top_k, by_report=args.by_report), args.json)
        return 0
    status = 0
    # Bytes, not text: one line that is not UTF-8 is reported on its own and the batch goes on.
    for number, raw in enumerate(getattr(sys.stdin, "buffer", sys.stdin), start=1):
        line = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw
        if not line.strip():
            continue
        try:
            _print_answer(qa.ask(line, args.top_k, by_report=args.by_report), args.json)
        except PeelqaError as exc:
            print(f"peelqa: error: line {number}: {exc}", file=sys.stderr, flush=True)
            if args.json:
                print(json.dumps({"line": number, "error": str(exc)}), flush=True)
            status = exc.exit_code
    return status


def _index_data(index_dir: Path | None):
    """The index as stored; no model needed (listing reports, grades and mentions embeds nothing)."""
    from indexer.store import default_index_dir, read_index

    return read_index(Path(index_dir) if index_dir else default_index_dir())


def cmd_reports(args) -> int:
    data = _index_data(args.index_dir)
    if args.json:
        from .views import report_records

        for record in report_records(data.manifest):
            print(json.dumps(record, ensure_ascii=False))
        return 0
    for d in data.manifest.get("documents", []):
        year = d.get("period") or d.get("year") or "year?"
        who = d.get("force") or ("national" if d.get("scope") == "national" else "force?")
        flags = f"  [{', '.join(d['flags'])}]" if d.get("flags") else ""
        print(f"{d['file']}: {who} · {year} · {d.get('pillar') or '-'} · {d['passages']} passages{flags}")
    return 0


def cmd_grades(args) -> int:
    import csv

    from indexer.forces import ForceRegistry

    data = _index_data(args.index_dir)
    forces = ForceRegistry.canonical().with_forces(ForceRegistry.from_json(data.manifest.get("forces", [])).forces)
    force = forces.resolve(args.force) if args.force else None
    if args.force and not force:
        raise BadInputError(f"no force called {args.force!r} is known", fix="peelqa reports (lists the forces)")
    from indexer.grades import Grade, grade_table

    grades = [Grade(**g) for g in data.grades]
    rows = [g for g in grade_table(grades) if (not force or g.force == force)
            and (not args.year or g.year == args.year or (g.period and g.year <= args.year <= g.year + 1))]
    keys = ("force", "year", "period", "pillar", "area_label", "grade", "document", "start", "end", "sentence",
            "source")
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(keys)
        writer.writerows([[getattr(g, k) for k in keys] for g in rows])
    elif args.json:
        for g in rows:
            print(json.dumps(g.to_dict(), ensure_ascii=False))
    else:
        for g in rows:
            print(f"{g.force} · PEEL {g.period or g.year} · {g.pillar or '-'} · {g.area_label}: {g.grade}"
                  f"  “{' '.join(g.sentence.split())}” ({g.document} {g.start}-{g.end})")
        if not rows:
            graded = ", ".join(sorted({g.force for g in grades if g.force})) or "none"
            print(f"No grades found. Forces with grades: {graded}.")
    return 0


def cmd_find(args) -> int:
    import csv

    from .find import find_in_index

    if not args.phrase.strip():
        raise BadInputError("the phrase is empty", fix='peelqa find "missing children"')
    found = find_in_index(_index_data(args.index_dir), args.phrase, args.stem)
    if args.json:
        print(json.dumps(found.to_dict(), ensure_ascii=False))
    elif args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["document", "citation", "start", "end", "match", "text"])
        for m in found.mentions:
            d = m.to_dict()
            writer.writerow([d["document"], d["citation"], d["start"], d["end"], d["match"], d["text"]])
    else:
        for m in found.mentions:
            p = m.passage
            print(f"{p.citation} [{p.start + m.start}-{p.start + m.end}]: "
                  f"…{p.text[max(0, m.start - 60):m.start]}**{p.text[m.start:m.end]}**{p.text[m.end:m.end + 60]}…")
        with_any = [(r, c) for _, r, c in found.reports if c]
        print(f"{len(found.mentions)} mention(s) of “{found.phrase}” in {len(with_any)} of {len(found.reports)} "
              "reports" + (":" if with_any else "."))
        for report, count in with_any:
            print(f"  {count:4}  {report}")
    return 0


def find_passage(data, citation: str):
    """The passage a citation names: "FILE:START-END" (the quote's offsets), a passage id, or its citation."""
    citation = " ".join(citation.split())
    if m := re.fullmatch(r"(.+):(\d+)-(\d+)", citation):
        doc, start, end = m.group(1), int(m.group(2)), int(m.group(3))
        found = [p for p in data.passages.rows(data.columns.rows_of(doc)) if p.start <= start < end <= p.end]
    else:
        found = [p for p in data.passages if p.id == citation or p.citation == citation]
    if not found:
        raise NotFoundError(f"no indexed passage matches {citation!r}",
                            fix='copy a citation from "peelqa ask", or use FILE:START-END')
    return found[0], (m and (int(m.group(2)), int(m.group(3))))


def cmd_show(args) -> int:
    from indexer.formats import page_view

    data = _index_data(args.index_dir)
    passage, span = find_passage(data, args.citation)
    start, end = span or (passage.start, passage.end)
    seeds = Path(data.manifest.get("seeds_dir") or "seeds")
    view = page_view(data, seeds, passage.document, start, end, None if args.page is None else args.page - 1)
    if view is None:
        raise BadInputError(f"{passage.document} is not a PDF: page images exist only for PDF reports")
    args.png.write_bytes(view["png"])
    print(f"wrote {args.png}: page {view['label']} ({view['page'] + 1} of {view['pages']}) of {passage.document}, "
          f"{passage.citation}")
    return 0


def cmd_eval(args) -> int:
    import dataclasses

    from .evaluate import best_threshold, evaluate, load_questions, save_threshold
    from .qa import QA

    questions = load_questions(args.file)
    qa = QA.open(args.index_dir)
    scoring = dataclasses.replace(qa.searcher.scoring, mode=args.mode)
    if scoring != qa.searcher.scoring:
        qa = QA(type(qa.searcher)(qa.searcher.data, qa.searcher.embedder, scoring))
    began = time.perf_counter()
    metrics, rows = evaluate(qa, questions)
    seconds = time.perf_counter() - began
    out = {"file": str(args.file), "mode": args.mode, "threshold": qa.threshold, **metrics.to_dict(),
           "seconds": round(seconds, 2)}
    if args.calibrate:
        # Questions a scope check refuses (a force or year not indexed) say nothing about the threshold.
        out["calibrated_threshold"] = best_threshold([(r["evidence"], r["answerable"]) for r in rows
                                                      if not r["reason"]])
        if args.write:
            path = save_threshold(qa.searcher.embedder.name, scoring, out["calibrated_threshold"], args.file.name,
                                  qa.searcher.data.directory)
            out["written_to"] = str(path)
    if args.json:
        print(json.dumps({**out, "questions": rows} if args.verbose else out))
        return 0
    if args.verbose:
        for r in rows:
            print(f"{r['id'] or '':6} rank={r['rank'] or '-':<2} evidence={r['evidence']:.3f} "
                  f"{'refused ' if r['refused'] else 'answered'} {'' if r['answerable'] else '(unanswerable)'} "
                  f"{r['question']}")
    print(f"{args.file} · mode {args.mode} · threshold {qa.threshold}")
    print(metrics.text())
    if args.calibrate:
        print(f"calibrated threshold   {out['calibrated_threshold']}" +
              (f" (written to {out['written_to']})" if args.write else " (not saved; add --write)"))
    return 0


def cmd_serve(args) -> int:
    from .app import serve

    if not 1 <= args.port <= 65535:
        raise BadInputError(f"port must be from 1 to 65535, not {args.port}")
    try:
        serve(args.index_dir, args.host, args.port, progress=_Ticker())
    except OSError as exc:
        raise PeelqaError(f"cannot listen on {args.host}:{args.port}: {exc}", fix="pass --port N") from exc
    return 0


COMMANDS = {"index": cmd_index, "ask": cmd_ask, "eval": cmd_eval, "serve": cmd_serve, "check": cmd_check,
            "reports": cmd_reports, "grades": cmd_grades, "find": cmd_find, "show": cmd_show}


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # A terminal or pipe that cannot show "›" or "’" gets an escape, not a crash.
        encoding = (getattr(stream, "encoding", "") or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except PeelqaError as exc:
        print(f"peelqa: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("peelqa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`peelqa grades | head`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
