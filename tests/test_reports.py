"""Report metadata, forces, question scope, grades and every-mention search: pure functions on inline strings."""

import pytest

from chat.filters import Filter
from chat.find import find_mentions
from chat.plan import Catalogue
from chat.scope import read_scope
from indexer.forces import Force, ForceRegistry, learn_aliases
from indexer.grades import extract_grades, grade_table
from indexer.metadata import detect, explicit_fields, front_matter, read_sidecars
from indexer.parse import parse_document
from indexer.passage import Passage
from indexer.reports import DocumentInfo, label_passages, resolve_reports

REGISTRY = ForceRegistry.canonical().with_forces([Force("West Caldermoor Police", ("WCP",)),
                                                  Force("Loxley Vale Police")])


@pytest.mark.parametrize(("text", "names"), [
    ("How good is Durham at preventing crime?", ["Durham Constabulary"]),
    ("GMP and the Met on knife crime", ["Greater Manchester Police", "Metropolitan Police Service"]),
    ("Avon & Somerset, Devon and Cornwall", ["Avon and Somerset Constabulary", "Devon and Cornwall Police"]),
    ("we met the MPs in the city", []),
    ("is loxley outstanding", ["Loxley Vale Police"]),
    ("WCP 101 calls; wcp lower case is not an alias", ["West Caldermoor Police"]),
    ("Hampshire and Isle of Wight Constabulary", ["Hampshire Constabulary"]),
])
def test_force_names_and_aliases(text, names):
    assert REGISTRY.named_in(text) == names


def test_force_aliases_are_learned_from_reports():
    assert learn_aliases("Northmoor Constabulary", ["Northmoor Constabulary (NMC) is good.", "x"]) == ("NMC",)
    assert learn_aliases("West Caldermoor Police", ["WCP is good.", "WCP has improved."]) == ("WCP",)
    assert learn_aliases("West Caldermoor Police", ["WCP once."]) == ()


def test_metadata_sources_in_order(tmp_path):
    source = ("---\nforce: Kent Police\nyear: 2016\ntitle: PEEL: Police effectiveness 2016 – Kent\n---\n"
              "# Essex PEEL 2018\n")
    fields, body = front_matter(source)
    assert fields["title"] == "PEEL: Police effectiveness 2016 – Kent" and body == source.index("# Essex")
    (tmp_path / "a.txt.meta.json").write_text('{"force": "Durham Constabulary", "year": 2017}')
    (tmp_path / "reports.csv").write_text("file,force,year,pillar,url\nb.txt,Cleveland Police,2015,Legitimacy,"
                                          "https://x.example/b\n")
    sidecars = read_sidecars(tmp_path, ["a.txt", "b.txt", "c.txt"])
    assert sidecars == {"a.txt": {"force": "Durham Constabulary", "year": 2017},
                        "b.txt": {"force": "Cleveland Police", "year": "2015", "pillar": "Legitimacy",
                                  "url": "https://x.example/b"}}
    # Front matter beats a sidecar; explicit fields beat the title; the title beats the file name.
    meta = detect("essex-2019.md", "Essex PEEL 2018", ["Efficiency"],
                  explicit_fields(fields, sidecars["a.txt"]), REGISTRY)
    assert (meta.force, meta.year, meta.pillar) == ("Kent Police", 2016, "Efficiency")
    assert meta.sources == {"force": "front matter", "year": "front matter", "title": "front matter",
                            "pillar": "first lines"}
    titled = detect("x.txt", "Cleveland PEEL 2016", ["Cleveland PEEL 2016", "Effectiveness"], {}, REGISTRY)
    assert (titled.force, titled.year, titled.pillar, titled.label) == (
        "Cleveland Police", 2016, "Effectiveness", "Cleveland Police · PEEL 2016 · Effectiveness")
    named = detect("durham-2016-legitimacy.txt", "Legitimacy", ["Legitimacy"], {}, REGISTRY)
    assert (named.force, named.year, named.pillar, named.sources["force"]) == (
        "Durham Constabulary", 2016, "Legitimacy", "file name")
    period = detect("p.md", "PEEL 2021/22: An inspection of Kent Police", [], {}, REGISTRY)
    assert (period.force, period.year, period.period, period.years, period.label) == (
        "Kent Police", 2021, "2021/22", (2021, 2022), "Kent Police · PEEL 2021/22")
    unknown = detect("notes.txt", "Some notes", ["Some notes"], {}, REGISTRY)
    assert unknown.flags == ("force not found", "year not found")  # indexed and flagged, never dropped
    national = detect("n.md", "PEEL: Police effectiveness 2016 – A national overview", [], {}, REGISTRY)
    assert national.scope == "national" and national.force is None and national.label == national.title


def test_corpus_teaches_full_names_and_national_passages_belong_to_the_force_they_name():
    docs = [DocumentInfo("a.txt", "Ashdown Constabulary PEEL 2015", ("Ashdown Constabulary PEEL 2015",), {}),
            DocumentInfo("b.txt", "Ashdown PEEL 2016", ("Ashdown PEEL 2016",), {}),
            DocumentInfo("p.md", "Press releases: PEEL 2016", ("Police forces: Ashdown, Kent",), {})]
    metas, registry = resolve_reports(docs, {})
    assert metas["b.txt"].force == "Ashdown Constabulary"  # the short name resolved to the full one
    assert metas["p.md"].scope == "national"  # a press release covers several forces
    source = ("Press releases\n\n## Kent Police\n\nHMIC judged that Kent Police:\n\n"
              "- is ‘good’ at investigating crime.\n")
    doc = parse_document(source, "p.md")
    (p,) = label_passages(doc.passages, metas["p.md"], registry)
    assert p.force == "Kent Police" and p.report == "Press releases: PEEL 2016"


def test_question_scope():
    s = read_scope("How good was Durham at preventing crime in 2016?", REGISTRY)
    assert (s.forces, s.years, s.comparative) == (("Durham Constabulary",), (2016,), False)
    question = "How good was Durham at preventing crime in 2016?"
    assert s.without_names(question) == "How good was at preventing crime in ?"
    assert read_scope("How has Cleveland changed since 2015?", REGISTRY).since == 2015
    r = read_scope("from 2015 to 2017, compare Kent and Essex", REGISTRY)
    assert (r.since, r.until, r.comparative, r.forces) == (2015, 2017, True, ("Kent Police", "Essex Police"))
    # A financial or inspection year names both of its calendar years: "2015/16" figures are in 2016 reports.
    assert read_scope("PEEL 2021/22 grades", REGISTRY).years == (2021, 2022)
    assert read_scope("cells used in 2015/16 and 1999/00", REGISTRY).years == (2015, 2016, 1999, 2000)
    assert read_scope("inspected 2016-05-01 and 2019/18", REGISTRY).years == (2016, 2019)
    assert read_scope("Is Rivermead Constabulary any good?", REGISTRY).forces == ("Rivermead Constabulary",)
    assert read_scope("How efficient is Kent?", REGISTRY).pillars == ("Efficiency",)
    assert read_scope("the force has effective arrangements", REGISTRY).pillars == ()
    assert read_scope("Which forces are outstanding?", REGISTRY).comparative
    assert read_scope("What did the press release say about Kent?", REGISTRY).documents == ("press release",)
    assert read_scope("national overview on knife crime", REGISTRY).documents == ("national overview",)


def test_plan_refuses_what_is_not_indexed_and_treats_a_mentioned_year_as_a_topic():
    manifest = {"documents": [
        {"file": "k15.txt", "title": "Kent PEEL 2015", "force": "Kent Police", "year": 2015, "pillar": "Effectiveness",
         "scope": "force"},
        {"file": "k16.txt", "title": "Kent PEEL 2016", "force": "Kent Police", "year": 2016, "pillar": "Effectiveness",
         "scope": "force"}], "forces": [{"name": "Kent Police", "aliases": []}]}
    catalogue = Catalogue(manifest)

    def never(name, flt):
        return False

    plan = catalogue.plan(read_scope("Kent in 2016", REGISTRY), never)
    assert plan.filter == Filter(forces=("Kent Police",), years=(2016,)) and plan.note == "From Kent Police, PEEL 2016"
    assert catalogue.plan(read_scope("Is Durham good?", REGISTRY), never).reason == (
        "No report of Durham Constabulary is indexed. Indexed forces: Kent Police.")
    assert catalogue.plan(read_scope("Kent in 2014", REGISTRY), never).reason == (
        "No PEEL 2014 report of Kent Police is indexed; its reports: PEEL 2015 Effectiveness, PEEL 2016 Effectiveness.")
    assert catalogue.plan(read_scope("How legitimate is Kent?", REGISTRY), never).reason.startswith(
        "No Legitimacy report of Kent Police is indexed")
    topic = catalogue.plan(read_scope("what did Kent fix in 2014", REGISTRY), lambda name, flt: name == "2014")
    assert topic.reason is None and topic.filter == Filter(forces=("Kent Police",))


def passages_of(source: str, force="Kent Police", year=2016, scope="force"):
    from indexer.metadata import ReportMeta

    doc = parse_document(source, "k.txt")
    meta = ReportMeta(title=doc.title, force=force if scope == "force" else None, year=year, pillar="Effectiveness",
                      scope=scope)
    from indexer.sentences import with_sentences

    return [with_sentences(p) for p in label_passages(doc.passages, meta, REGISTRY)]


def test_grades_in_every_shape_with_exact_sentences():
    source = ("Kent PEEL 2016\nEffectiveness\nHow effective is the force at investigating crime?\n"
              "Kent Police is good at investigating crime. It is thorough.\n"
              "How effective is the force at protecting those who are vulnerable from harm?\n"
              "The force requires improvement in the way it protects vulnerable people, but it is improving.\n")
    ps = passages_of(source)
    grades = {g.area: (g.grade, g.sentence) for g in extract_grades(ps, "force", REGISTRY)}
    assert grades == {"investigating-crime": ("good", "Kent Police is good at investigating crime."),
                      "vulnerable-people": ("requires improvement", "The force requires improvement in the way it "
                                            "protects vulnerable people, but it is improving.")}
    for g in extract_grades(ps, "force", REGISTRY):
        assert source[g.start:g.end] == g.sentence
    web = passages_of("# Kent PEEL 2016\n\nHow effective is the force at preventing crime, tackling anti-social "
                      "behaviour and keeping people safe?\n\nOutstanding\n\nThe force prevents crime well. More.\n")
    (g,) = extract_grades(web, "force", REGISTRY)
    assert (g.area, g.grade, g.sentence) == ("preventing-crime", "outstanding", "Outstanding\n\nThe force prevents "
                                             "crime well.")
    press = passages_of("Press\n\nHMIC judged that Kent Police:\n\n- is ‘good’ at preventing crime;\n"
                        "- ‘requires improvement’ in how it protects vulnerable people.\n", scope="national")
    assert {(g.force, g.area, g.grade, g.source) for g in extract_grades(press, "national", REGISTRY)} == {
        ("Kent Police", "preventing-crime", "good", "national"),
        ("Kent Police", "vulnerable-people", "requires improvement", "national")}
    labelled = passages_of("Kent PEEL 2021/22\n\n- Investigating crime: Adequate\n- Preventing crime: Good\n")
    assert {(g.area, g.grade) for g in extract_grades(labelled, "force", REGISTRY)} == {
        ("investigating-crime", "adequate"), ("preventing-crime", "good")}


def test_grade_table_cites_the_force_s_own_report_first():
    own = extract_grades(passages_of("T\n\nKent Police is good at investigating crime, we found.\n"), "force", REGISTRY)
    national = extract_grades(passages_of("T\n\nHMIC judged that Kent Police:\n\n- is ‘good’ at investigating crime.\n",
                                          scope="national"), "national", REGISTRY)
    (row,) = grade_table(national + own)
    assert row.source == "report"


def test_find_every_mention_exact_and_stemmed():
    def p(text, doc="a.txt"):
        return Passage(id=f"{doc}#p1", document=doc, title=doc, section=(), paragraph=1, start=100,
                       end=100 + len(text), text=text, report=doc.upper())

    passages = [p("Missing children are found quickly. MISSING   children again."),
                p("Children who go missing are safe.", "b.txt"), p("Nothing here.", "c.txt")]
    found = find_mentions(passages, "missing children")
    assert [(m.passage.document, m.passage.text[m.start:m.end]) for m in found.mentions] == [
        ("a.txt", "Missing children"), ("a.txt", "MISSING   children")]
    assert found.reports == (("a.txt", "A.TXT", 2), ("b.txt", "B.TXT", 0), ("c.txt", "C.TXT", 0))
    assert found.to_dict()["mentions"][0]["start"] == 100  # offsets in the source file
    stemmed = find_mentions([p("The force inspected the inspections.")], "inspection", stemmed=True)
    assert [m.passage.text[m.start:m.end] for m in stemmed.mentions] == ["inspected", "inspections"]
    assert find_mentions([p("The force inspected the inspections.")], "inspection").mentions == ()
    quotes = find_mentions([p("the children’s hub opened")], "children's hub")
    assert len(quotes.mentions) == 1  # a typed ' finds a typographic ’
