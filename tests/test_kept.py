"""The conversation the browser keeps and the links to answers: pure functions."""

from urllib.parse import unquote_plus

from chat.kept import MAX_TURNS, add_turn, empty, parse_share, restore, share_link

RESULT = {"rank": 1, "citation": "R › para 2", "document": "r.md", "start": 10, "end": 40, "text": "x",
          "score": 1.2}


def test_links_round_trip_question_version_context_and_filters():
    question = "What about (child) *abuse* & [gangs]? <script>x</script>"
    link = share_link(question, "abc123", "Is the force good?", {"year": ["2016"], "force": ["Kent Police"],
                                                                 "section": []})
    assert link.startswith("?q=") and not set(link) & set("()[]*<> ")  # nothing markdown or HTML would read
    assert parse_share(link[1:]) == {"q": question, "v": "abc123", "p": "Is the force good?",
                                     "filters": {"force": ["Kent Police"], "year": ["2016"]}}
    assert parse_share("q=why%3F") == {"q": "why?", "v": "", "p": "", "filters": {}}
    assert parse_share("") is None and parse_share("q=+&v=1") is None and parse_share("__theme=dark") is None
    assert unquote_plus(share_link("a b", "v")) == "?q=a b&v=v"


def test_add_turn_keeps_spans_not_text_and_restore_drops_what_is_malformed():
    # As the chat hands them back: content as a list of parts.
    history = [{"role": "user", "content": [{"type": "text", "text": "q"}], "metadata": None},
               {"role": "assistant", "content": "a"}]
    kept = add_turn(empty("v1"), "v1", history, "q", [RESULT], "q")
    assert kept == {"v": "v1", "history": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
                    "turns": [{"q": "q", "results": [{"rank": 1, "citation": "R › para 2", "document": "r.md",
                                                      "start": 10, "end": 40}], "answered": True}],
                    "last": "q"}
    assert restore(kept) == kept
    bad = {"v": 3, "history": [{"role": "system", "content": "x"}, {"role": "user", "content": 5}, "x",
                               {"role": "assistant", "content": "ok"}],
           "turns": [{"q": "a", "results": [{"rank": "1"}, {**RESULT, "start": -1}, {**RESULT, "end": True}, 7]},
                     {"q": None}, "t", {"q": "b" * 100_000}],
           "last": ["x"]}
    assert restore(bad) == {"v": "", "history": [{"role": "assistant", "content": "ok"}],
                            "turns": [{"q": "a", "results": [], "answered": True}], "last": ""}
    assert restore(None) == restore("nonsense") == empty("")


def test_only_the_latest_turns_are_kept():
    kept = empty("v")
    for n in range(MAX_TURNS + 5):
        kept = add_turn(kept, "v", [{"role": "user", "content": str(n)}], str(n), [], "")
    assert len(kept["turns"]) == MAX_TURNS and kept["turns"][0]["q"] == "5"


def test_restore_leaves_out_values_of_the_wrong_shape():
    from chat.kept import restore

    for bad in ({"history": 1}, {"turns": 1}, {"turns": [{"q": "x", "results": 5}]}, {"history": "abc"}):
        kept = restore(bad)
        assert kept["history"] == [] and all(t["results"] == [] for t in kept["turns"])
