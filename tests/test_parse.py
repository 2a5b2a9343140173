from indexer.parse import parse_document
from tests.conftest import SEED


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def test_every_seed_passage_is_an_exact_span():
    source = read(SEED)
    doc = parse_document(source, SEED.name)
    assert len(doc.passages) == 22
    for p in doc.passages:
        assert source[p.start:p.end] == p.text
        assert p.text == p.text.strip() and p.text


def test_seed_metadata_and_citation():
    doc = parse_document(read(SEED), SEED.name)
    assert (doc.title, doc.force, doc.year, doc.pillar) == ("Cleveland PEEL 2016", "Cleveland", 2016, "Effectiveness")
    p3 = doc.passages[2]
    assert p3.paragraph == 3
    assert p3.text.startswith("Cleveland Police is good at investigating crime")
    assert p3.citation == ("Cleveland PEEL 2016 › Effectiveness › How effective is the force at investigating "
                           "crime and reducing re-offending? › para 3")
    assert p3.id == f"{SEED.name}#p3"


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


def test_line_shape_headings_bullets_and_subbullets():
    source = ("Kent PEEL 2017\nEfficiency\nIs it good?\nIt is good.\nAreas for improvement\n- Do a:\n- one\n- two\n"
              "After.\n- Do b.\n- Do c.\n")
    doc = parse_document(source, "k.txt")
    assert (doc.force, doc.year, doc.pillar) == ("Kent", 2017, "Efficiency")
    texts = [(p.paragraph, p.kind, p.section, p.text) for p in doc.passages]
    assert texts == [
        (1, "paragraph", ("Is it good?",), "It is good."),
        (2, "bullet", ("Is it good?", "Areas for improvement"), "Do a:\n- one\n- two"),
        (5, "paragraph", ("Is it good?", "Areas for improvement"), "After."),
        (6, "bullet", ("Is it good?", "Areas for improvement"), "Do b."),
        (7, "bullet", ("Is it good?", "Areas for improvement"), "Do c."),
    ]


def test_crlf_offsets_are_exact():
    source = "Kent PEEL 2017\r\nEfficiency\r\nIs it good?\r\nIt is good.\r\n- A bullet.\r\n"
    doc = parse_document(source, "k.txt")
    assert [p.text for p in doc.passages] == ["It is good.", "A bullet."]
    for p in doc.passages:
        assert source[p.start:p.end] == p.text


def test_empty_and_blank_input():
    assert parse_document("", "e.txt").passages == []
    assert parse_document(" \n\r\n\t\n", "e.txt").passages == []
    assert parse_document("", "e.txt").title == "e"


def test_non_ascii_and_bom():
    source = ("\ufeffDurham PEEL 2018\nLegitimacy\nHow fair is the force’s treatment — of people?\n"
              "Équipe “fair” café: naïve ✓.\n")
    doc = parse_document(source, "d.md")
    assert doc.title == "Durham PEEL 2018"
    (p,) = doc.passages
    assert p.text == "Équipe “fair” café: naïve ✓."
    assert source[p.start:p.end] == p.text


def test_markdown_headings_and_blank_line_paragraphs():
    source = (
        "# My report\n\nIntro paragraph\nwrapped over two lines.\n\n## Findings\n\nFirst finding.\n\n"
        "### Detail\n\n- point one\n  continues here\n- point two\n\n## Other\n\nLast.\n"
    )
    doc = parse_document(source, "r.md")
    assert doc.title == "My report" and doc.force is None
    got = [(p.paragraph, p.section, p.text) for p in doc.passages]
    assert got == [
        (1, (), "Intro paragraph\nwrapped over two lines."),
        (2, ("Findings",), "First finding."),
        (3, ("Findings", "Detail"), "point one\n  continues here"),
        (4, ("Findings", "Detail"), "point two"),
        (5, ("Other",), "Last."),
    ]
    for p in doc.passages:
        assert source[p.start:p.end] == p.text


def test_plain_text_without_title_uses_file_name():
    doc = parse_document("This is a paragraph that starts the file.\n\nAnd another one.\n", "notes/plain.txt")
    assert doc.title == "plain"
    assert [p.text for p in doc.passages] == ["This is a paragraph that starts the file.", "And another one."]
