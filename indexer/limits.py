"""Every limit peelqa enforces, in one place. Each breach is a clear one-line message, never a crash.

The README's "Limits" table is generated from `LIMITS` (tests check they agree).
"""

from __future__ import annotations

from dataclasses import dataclass, field

KIB = 1024
MIB = 1024 * KIB


def _file_bytes() -> dict[str, int]:
    # A 100-page report is about 0.3 MB of text; 16 MiB of UTF-8 holds the character limit below at up to
    # 4 bytes a character. Published inspection PDFs with charts and photographs run to 5-40 MB; a saved web
    # page with inline images to a few MB; Word files with images to tens of MB.
    return {".txt": 16 * MIB, ".md": 16 * MIB, ".pdf": 128 * MIB, ".html": 32 * MIB, ".htm": 32 * MIB,
            ".docx": 64 * MIB}


def _upload_bytes() -> dict[str, int]:
    # Through the browser: text reports are small; a PDF of a large report with images needs 50 MB or more.
    return {".txt": 2 * MIB, ".md": 2 * MIB, ".pdf": 64 * MIB, ".html": 8 * MIB, ".htm": 8 * MIB,
            ".docx": 32 * MIB}


@dataclass(frozen=True)
class Limits:
    """Measured or reasoned bounds; each field says why it is what it is."""

    # Per report file on disk, by suffix: larger files are named and skipped, unread.
    file_bytes: dict[str, int] = field(default_factory=_file_bytes)
    # Characters of text per report: ~1,300 pages of dense prose. The longest inspectorate publications
    # (national overviews, State of Policing) are ~700,000. A 50 MB text took 245 s just to parse.
    report_chars: int = 4_000_000
    # Characters of one quoted passage. Paragraphs are split at sentences to fit the model's 256-token
    # window (~1,100 characters of report prose); a "sentence" with no break is cut at spaces to this.
    passage_chars: int = 2_000
    # A question, and the earlier question a follow-up is read with. 11.7 KB of follow-up context took
    # 9.8 s to answer (every unknown word spell-checked and embedded); 2,000 characters now take ~0.25 s.
    # Sentences of one passage that are embedded for highlighting (more are joined evenly): a prose passage
    # of 2,000 characters has about 15; "Go. Go. Go. ..." once had 500 and a 240 KB file took 161 s.
    sentences_per_passage: int = 24
    question_chars: int = 2_000
    context_chars: int = 2_000
    # Messages of a chat conversation sent back with a question: a question and its answer are two, the
    # browser keeps the latest 50 questions; a script sending more has the oldest left out (not refused).
    chat_messages: int = 400
    # Quotes per answer.
    top_k: int = 50
    # Words of one question that are spell-repaired or embedded for coverage; the rest count as unknown.
    repaired_words: int = 8
    unknown_words: int = 32
    # A metadata file: `<file>.meta.json` or a folder's `reports.csv` (a row per report: ~200 bytes, so
    # 4 MiB holds ~20,000 reports).
    sidecar_bytes: int = 4 * MIB
    # Characters of a report's title, and of any metadata field shown in a citation: the longest real
    # inspection titles are ~150 characters; longer is cut at a word with "…".
    title_chars: int = 300
    # A report's URL is never cut (it would not work): one longer than this is left out. Real ones are < 200.
    url_chars: int = 2_000
    # Per uploaded file in the chat, by suffix.
    upload_bytes: dict[str, int] = field(default_factory=_upload_bytes)
    # Index files up to this total size are checksummed in full on every load; larger indexes are checked
    # by sizes, headers and counts on load, and in full by `peelqa check` (and in the background by serve).
    # SHA-256 runs at ~0.5-1 GB/s here, so 64 MiB costs under 0.15 s.
    full_check_bytes: int = 64 * MIB
    # The JSON API (/api/*), per client address: a token bucket. On the seed, on 2 cores, POST /api/ask takes
    # 8 ms (p50, one client) and the server answers 110-120 questions a second however many clients ask
    # (benchmarks/api_latency.py); 20 a second lets one client take under a fifth of that, never all of it,
    # while a person (a question every few seconds) never meets the limit. A client may send 2 seconds' worth
    # (40) at once. PEELQA_API_RATE replaces the rate; 0 turns the limit off.
    api_rate: float = 20.0
    api_burst_seconds: float = 2.0
    # Client addresses whose buckets are kept; past this, those full again (idle 2 s or more) are forgotten.
    api_clients: int = 10_000
    # A request body: the largest valid one (a question and a previous question of 2,000 characters, each
    # under 25 KB even written as \u escapes, and filters naming a hundred reports) is under 100 KB.
    api_body_bytes: int = 256 * KIB
    # Chat and gradio_client questions answered at once (Gradio's queue). Answers are CPU-bound (mostly holding
    # the GIL), so more at once adds little throughput, but a slow one (a 2,000-character question takes
    # ~0.25 s) must not hold the others up. Measured with 16 gradio_client clients: 16 at once gave 16.2-16.5
    # questions/s and p95 1.2 s, 4 at once 14.3-15.1 and 1.4-1.5 s (gradio_client's own polling is most of it).
    concurrent_answers: int = 16
    # How often `peelqa serve` looks whether another process (a replica sharing the index folder, `peelqa index`)
    # swapped a new index in: one stat of the manifest (~2 µs here), so a replica switches within about a second
    # of a rebuild (plus the new index's load) at no measurable cost.
    index_check_seconds: float = 1.0
    # After a new index failed to load (damaged, or its model missing), it is tried again this much later, not
    # at every check: a failing load of a large index reads for seconds. A rebuild that repairs it is a new
    # index, tried at the next check.
    index_retry_seconds: float = 30.0
    # A Milvus request (a search, a load, a write): past this an answer fails with one line naming Milvus rather
    # than holding one of the answer slots for good. Milvus Lite's slowest search measured here took 1.8 s (p95
    # at 100,000 passages); a loaded server answers in milliseconds.
    milvus_seconds: float = 30.0


LIMITS = Limits()


def human_bytes(n: int) -> str:
    """1536 -> '1.5 KiB'; exact byte counts are added where a limit is breached by a little."""
    for unit, size in (("GiB", 1 << 30), ("MiB", MIB), ("KiB", KIB)):
        if n >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{n} bytes"


def too_big(what: str, size: int, limit: int) -> str:
    """'X is 2 MiB (2,097,153 bytes); the limit is 2 MiB (2,097,152 bytes)' when rounding would hide it."""
    shown, cap = human_bytes(size), human_bytes(limit)
    if size < limit * 1.01:  # rounded, both would read "2 MiB"
        shown, cap = f"{shown} ({size:,} bytes)", f"{cap} ({limit:,} bytes)"
    return f"{what} is {shown}; the limit is {cap}"


def limits_table(limits: Limits = LIMITS) -> str:
    """The README's table of limits (a test keeps the two the same)."""
    def per_suffix(sizes: dict[str, int]) -> str:
        return ", ".join(f"`{s}` {human_bytes(n)}" for s, n in sizes.items())

    rows = [
        ("report file on disk", per_suffix(limits.file_bytes), "named and skipped, unread"),
        ("text of one report", f"{limits.report_chars:,} characters", "named and skipped"),
        ("one passage (quote)", f"{limits.passage_chars:,} characters",
         "longer paragraphs are split at sentences, then at spaces; never one long quote"),
        ("question", f"{limits.question_chars:,} characters", "refused with the length"),
        ("previous question (follow-up context)", f"{limits.context_chars:,} characters", "refused with the length"),
        ("quotes per answer (`top_k`)", f"1 to {limits.top_k}", "refused"),
        ("uploaded report", per_suffix(limits.upload_bytes), "refused with the exact size"),
        ("metadata file (`.meta.json`, `reports.csv`)", human_bytes(limits.sidecar_bytes), "named and not used"),
        ("report title, metadata field", f"{limits.title_chars:,} characters", "cut at a word, with …"),
        ("index checked in full on every load", human_bytes(limits.full_check_bytes),
         "larger: sizes, headers, counts and norms on load; all checksums by `peelqa check` and, "
         "in the background, by `peelqa serve`"),
        ("JSON API requests per client address", f"{limits.api_rate:g} a second, "
         f"{limits.api_rate * limits.api_burst_seconds:g} at once", "429 with `Retry-After`"),
        ("JSON API request body", human_bytes(limits.api_body_bytes), "413, unread"),
    ]
    lines = ["| what | limit | past it |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)
