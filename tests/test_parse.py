from indexer.parse import MIN_PASSAGE_CHARS, is_boilerplate, parse_document
from tests.conftest import SEED


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def spans_exact(source, doc):
    return all(source[p.start:p.end] == p.text for p in doc.passages)


def test_every_seed_passage_is_an_exact_span():
    source = read(SEED)
    doc = parse_document(source, SEED.name)
    assert len(doc.passages) == 22
    assert spans_exact(source, doc)
    assert all(p.text == p.text.strip() and p.text for p in doc.passages)


def test_seed_title_sections_and_head():
    doc = parse_document(read(SEED), SEED.name)
    assert doc.title == "Cleveland PEEL 2016"
    assert doc.head[:2] == ("Cleveland PEEL 2016", "Effectiveness")
    p3 = doc.passages[2]
    assert p3.paragraph == 3 and p3.id == f"{SEED.name}#p3"
    assert p3.text.startswith("Cleveland Police is good at investigating crime")
    # The pillar line is what the report is, not a section of it.
    assert p3.section == ("How effective is the force at investigating crime and reducing re-offending?",)


def test_seed_areas_for_improvement_and_action_plan_group():
    doc = parse_document(read(SEED), SEED.name)
    bullets = [p for p in doc.passages if p.kind == "bullet"]
    assert all(p.section[-1] == "Areas for improvement" for p in bullets)
    plan = next(p for p in doc.passages if "action plan that sets out how it will:" in p.text)
    # The bullet ending in ":" owns its three sub-bullets: one passage, sub-bullets counted as paragraphs.
    assert plan.text.endswith("improve outcomes for victims.")
    assert plan.text.count("\n- ") == 3
    assert plan.paragraph == 15
    after = doc.passages[doc.passages.index(plan) + 1]
    assert after.text.startswith("This action plan and subsequent report")
    assert after.paragraph == 19


LONG = "which is long enough to be quoted on its own as a passage"


def test_line_shape_headings_bullets_lead_ins_and_sub_bullets():
    source = (f"Kent PEEL 2017\nEfficiency\nIs it good?\nIt is good, {LONG}.\nAreas for improvement\n"
              f"- Do a, {LONG}:\n- one\n- two\nAfter that, {LONG}.\nHMIC judged that Kent Police:\n"
              "- is ‘good’ at preventing crime;\n- is ‘inadequate’ at investigating crime.\n")
    doc = parse_document(source, "k.txt")
    got = [(p.paragraph, p.kind, p.section, p.text) for p in doc.passages]
    assert got == [
        (1, "paragraph", ("Is it good?",), f"It is good, {LONG}."),
        (2, "bullet", ("Is it good?", "Areas for improvement"), f"Do a, {LONG}:\n- one\n- two"),
        (5, "paragraph", ("Is it good?", "Areas for improvement"), f"After that, {LONG}."),
        # A lead-in ending in ":" keeps the bullets that carry its grades.
        (6, "list", ("Is it good?", "Areas for improvement"),
         "HMIC judged that Kent Police:\n- is ‘good’ at preventing crime;\n- is ‘inadequate’ at investigating crime."),
    ]
    assert spans_exact(source, doc)


def test_short_fragments_join_a_neighbour_in_their_section():
    source = f"T\n\n## A\n\nShort one.\n\nThe next paragraph, {LONG}.\n\n## B\n\nAlone, {LONG}.\n\nTail.\n"
    doc = parse_document(source, "t.md")
    assert [(p.paragraph, p.section, p.text) for p in doc.passages] == [
        (1, ("A",), f"Short one.\n\nThe next paragraph, {LONG}."),
        (3, ("B",), f"Alone, {LONG}.\n\nTail."),
    ]
    assert all(len(p.text) >= MIN_PASSAGE_CHARS for p in doc.passages) and spans_exact(source, doc)


def test_a_grade_alone_on_its_line_opens_its_paragraph():
    source = "# X PEEL 2016\n\nHow effective is the force at preventing crime?\n\nGood\n\nThe force is good at it.\n"
    (p,) = parse_document(source, "x.md").passages
    assert p.text == "Good\n\nThe force is good at it."
    assert p.section == ("How effective is the force at preventing crime?",)


def test_web_page_boilerplate_is_neither_heading_nor_passage():
    lines = ["Skip to content", "We use cookies on this website. Accept all cookies | Reject cookies",
             "Home > Our work > Police forces > Kent", "Last updated 02/03/2017", "Published on: 2 March 2017",
             "Read more about Kent Police's effectiveness", "Share this page: Facebook | Twitter | Email",
             "Back to top", "© Crown copyright 2017", "Contact | Accessibility | Cookies | Privacy notice",
             "Police forces: Kent, Essex"]
    assert all(is_boilerplate(line) for line in lines)
    assert not any(is_boilerplate(t) for t in ("Kent Police is good at preventing crime.", "Areas for improvement",
                                               "Read the force's plan carefully, it said, before agreeing."))
    source = "\n\n".join([*lines[:3], "# Kent PEEL 2016", *lines[3:6], f"Body text, {LONG}.", *lines[6:]]) + "\n"
    doc = parse_document(source, "k.md")
    assert doc.title == "Kent PEEL 2016" and [p.text for p in doc.passages] == [f"Body text, {LONG}."]
    assert "Published on: 2 March 2017" in doc.head


def test_crlf_offsets_are_exact():
    source = f"Kent PEEL 2017\r\nEfficiency\r\nIs it good?\r\nIt is good, {LONG}.\r\n- A bullet, {LONG}.\r\n"
    doc = parse_document(source, "k.txt")
    assert [p.text for p in doc.passages] == [f"It is good, {LONG}.", f"A bullet, {LONG}."]
    assert spans_exact(source, doc)


def test_empty_and_blank_input():
    assert parse_document("", "e.txt").passages == []
    assert parse_document(" \n\r\n\t\n", "e.txt").passages == []
    assert parse_document("", "e.txt").title == "e"


def test_non_ascii_and_bom():
    source = ("\ufeffDurham PEEL 2018\nLegitimacy\nHow fair is the force’s treatment — of people?\n"
              "Équipe “fair” café: naïve ✓ — a paragraph long enough to stand as a passage.\n")
    doc = parse_document(source, "d.md")
    assert doc.title == "Durham PEEL 2018"
    (p,) = doc.passages
    assert p.text == "Équipe “fair” café: naïve ✓ — a paragraph long enough to stand as a passage."
    assert source[p.start:p.end] == p.text


def test_markdown_headings_and_blank_line_paragraphs():
    source = (
        f"# My report\n\nIntro paragraph\nwrapped over two lines, {LONG}.\n\n## Findings\n\nFirst finding, {LONG}.\n\n"
        f"### Detail\n\n- point one, {LONG}\n  continues here\n- point two, {LONG}\n\n## Other\n\nLast, {LONG}.\n"
    )
    doc = parse_document(source, "r.md")
    assert doc.title == "My report"
    got = [(p.paragraph, p.section, p.text) for p in doc.passages]
    assert got == [
        (1, (), f"Intro paragraph\nwrapped over two lines, {LONG}."),
        (2, ("Findings",), f"First finding, {LONG}."),
        (3, ("Findings", "Detail"), f"point one, {LONG}\n  continues here"),
        (4, ("Findings", "Detail"), f"point two, {LONG}"),
        (5, ("Other",), f"Last, {LONG}."),
    ]
    assert spans_exact(source, doc)


def test_front_matter_is_skipped_but_offsets_index_the_file():
    source = f"---\nforce: Kent Police\nyear: 2016\n---\n# Kent PEEL 2016\n\nBody, {LONG}.\n"
    from indexer.metadata import front_matter

    fields, body = front_matter(source)
    assert fields == {"force": "Kent Police", "year": 2016}
    doc = parse_document(source, "k.md", body)
    assert doc.title == "Kent PEEL 2016" and [p.text for p in doc.passages] == [f"Body, {LONG}."]
    assert spans_exact(source, doc)


def test_plain_text_without_title_uses_file_name():
    doc = parse_document(f"This is a paragraph that starts the file, {LONG}.\n\nAnd another one, {LONG}.\n",
                         "notes/plain.txt")
    assert doc.title == "plain"
    assert [p.text for p in doc.passages] == [f"This is a paragraph that starts the file, {LONG}.",
                                             f"And another one, {LONG}."]
