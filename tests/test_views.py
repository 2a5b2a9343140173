"""The chat's header line and filter note: pure functions on tiny inputs."""

from chat.views import filters_note, indexed_markdown

ROW = ["cleveland-2016.md", "Cleveland Police", "2016", "Effectiveness"]


def test_no_reports_says_where_to_add_them():
    assert indexed_markdown([]) == "**No reports indexed yet.** Add some in the Index tab."


def test_a_few_reports_are_named_one_by_one():
    rows = [ROW, ["d.md", "Durham Constabulary", "2017", ""]]
    assert indexed_markdown(rows) == ("**2 reports indexed:** Cleveland Police 2016 Effectiveness, "
                                      "Durham Constabulary 2017.")


def test_many_reports_are_summed_up_by_force_with_their_years():
    rows = [[f"{f}-{y}.md", f, str(y), "Legitimacy"] for f in ("Kent Police", "Durham Constabulary")
            for y in (2015, 2016, 2017, 2018)]
    rows.append(["Some notes", "", "", ""])  # a report whose force is unknown is counted under its title
    rows.append(["PEEL 2016: a national overview", "national", "2016", ""])
    assert indexed_markdown(rows, shown=2) == ("**10 reports indexed:** 3 forces — Durham Constabulary 2015–2018, "
                                               "Kent Police 2015–2018 and 1 more; 1 national or multi-force "
                                               "document.")


def test_filters_note_names_every_filter_in_use_and_nothing_when_none():
    labels = {"force": "Force", "year": "Year"}
    assert filters_note({"force": ["Kent Police"], "year": ["2016", "2017"]}, labels) == (
        "_Searched only — Force: Kent Police; Year: 2016, 2017._\n\n")
    assert filters_note({"force": [], "year": []}, labels) == ""
