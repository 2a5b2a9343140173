"""The source panel's report text: headings, lists and paragraph numbers kept, every character escaped."""

import html
import re

from chat.sourceview import Block, source_html, structured_text
from indexer.parse import parse_document

REPORT = ("# Harbour Watch 2024\n\n## Marine patrols\n\nThe marine unit patrols <b>the estuary</b> every night.\n\n"
          "### Areas for improvement\n\nThe force should:\n- train more <script>alert(1)</script> crews;\n"
          "- buy a second boat\n  for the winter.\n\nIs the unit well run?\n\nIt is run well & cheaply.\n")


def blocks_of(source):
    return [Block(p.start, p.end, p.kind, p.paragraph, p.section) for p in parse_document(source, "h.md").passages]


def test_headings_lists_and_numbers_are_kept_and_markup_is_text():
    blocks = blocks_of(REPORT)
    para = next(b for b in blocks if "marine unit" in REPORT[b.start:b.end])
    shown = structured_text(REPORT, blocks, para.start, para.end)
    assert '<h4 class="peelqa-head">## Marine patrols</h4>' in shown
    assert '<h5 class="peelqa-head">### Areas for improvement</h5>' in shown
    assert re.search(r'<h\d class="peelqa-head">Is the unit well run\?</h\d>', shown)  # a report question
    numbers = [int(n) for n in re.findall(r'<span class="peelqa-num" title="paragraph (\d+)">', shown)]
    assert numbers == [b.paragraph for b in blocks]
    assert "<li>- train more &lt;script&gt;alert(1)&lt;/script&gt; crews;</li>" in shown
    assert "<li>- buy a second boat\n  for the winter.</li>" in shown  # a wrapped item stays one item
    assert "<script>" not in shown and "<b>" not in shown and "&amp; cheaply" in shown
    assert shown.count("<mark") == 1
    assert '<mark id="peelqa-hit">The marine unit patrols &lt;b&gt;the estuary&lt;/b&gt; every night.</mark>' in shown


def test_a_span_over_list_items_is_marked_on_each_line_with_one_anchor():
    blocks = blocks_of(REPORT)
    listed = next(b for b in blocks if b.kind == "list")
    shown = structured_text(REPORT, blocks, listed.start, listed.end)
    assert shown.count("<mark") == 4 and shown.count('id="peelqa-hit"') == 1
    marked = re.findall(r"<mark[^>]*>(.*?)</mark>", shown)
    # Every character of the quote is marked, in order; only the line breaks between its lines are not.
    assert html.unescape("".join(marked)) == "".join(REPORT[listed.start:listed.end].splitlines())


def test_every_character_of_the_report_is_shown_once_apart_from_blank_lines_and_markers():
    blocks = blocks_of(REPORT)
    shown = structured_text(REPORT, blocks, 0, 0)
    text = html.unescape(re.sub(r"<[^>]+>", "", re.sub(r'<span class="peelqa-num"[^>]*>\d+</span>', "", shown)))
    assert re.sub(r"\s+", "", text) == re.sub(r"\s+", "", REPORT)


def test_without_blocks_the_text_is_shown_as_it_is():
    panel = source_html("T <i>", "a <b>x</b> c", 2, 10, note="changed <u>")
    assert '<mark id="peelqa-hit">&lt;b&gt;x&lt;/b&gt;</mark>' in panel
    assert "<h3>T &lt;i&gt;</h3>" in panel and "changed &lt;u&gt;" in panel and "<b>" not in panel
