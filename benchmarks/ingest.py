"""PDF ingest speed and memory: extraction pages/s, end-to-end passages/s, and peak memory against page count.

    python benchmarks/ingest.py [--pages 300] [--no-embed]

Generates report PDFs of 100 and N pages with tests/data/formats/make_fixtures.py (reportlab), then for each
runs, in a fresh process: text extraction alone (peak RSS, pages/s), and, for N pages, a whole `build_index`
with the real model (passages/s). Memory that stays flat as pages grow means pages are not held at once.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EXTRACT = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from indexer.formats.pdf import extract
began = time.perf_counter()
out = extract(sys.argv[1])
seconds = time.perf_counter() - began
print(json.dumps({{"pages": out.pages, "chars": len(out.text), "seconds": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

BUILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from indexer.build import build_index
from indexer.model import load_embedder
embedder = load_embedder()
began = time.perf_counter()
summary = build_index(sys.argv[1], sys.argv[2], embedder=embedder)
print(json.dumps({{"passages": summary.passages, "seconds": time.perf_counter() - began}}))
"""


def run(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code.format(root=str(ROOT)), *args], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--no-embed", action="store_true", help="skip the end-to-end build with the real model")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests" / "data" / "formats"))
    from make_fixtures import long_report

    work = Path(tempfile.mkdtemp(prefix="peelqa-ingest-"))
    for pages in sorted({100, args.pages}):
        pdf = work / f"seeds-{pages}" / f"report-{pages}.pdf"
        pdf.parent.mkdir()
        long_report(pdf, pages=pages)
        r = run(EXTRACT, str(pdf))
        print(f"{pages} pages ({pdf.stat().st_size / 1e6:.1f} MB): extraction {r['seconds']:.2f} s = "
              f"{r['pages'] / r['seconds']:.0f} pages/s, {r['chars']:,} characters, peak RSS {r['peak_mb']:.0f} MB")
        if pages == args.pages and not args.no_embed:
            b = run(BUILD, str(pdf.parent), str(work / f"index-{pages}"))
            print(f"{pages} pages end to end (extract, parse, embed, write): {b['passages']} passages in "
                  f"{b['seconds']:.1f} s = {b['passages'] / b['seconds']:.1f} passages/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
