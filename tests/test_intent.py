from chat.intent import (
    asks_for_grade,
    asks_for_improvement,
    asks_for_quantity,
    correct_spelling,
    has_quantity,
)
from indexer.columns import is_grade_passage, is_improvement_passage
from indexer.passage import Passage


def p(text, section=("Q?",), sentences=None):
    return Passage(id="x", document="x", title="T", section=section, paragraph=1, start=0, end=len(text), text=text,
                   sentences=sentences or ((0, len(text)),))


def test_grade_and_improvement_passages():
    assert is_grade_passage(p("Cleveland Police is good at investigating crime."))
    assert is_grade_passage(p("Cleveland Police requires improvement in the way it responds."))
    assert not is_grade_passage(p("The force has made considerable improvements."))
    assert is_improvement_passage(p("The force should act.", section=("Q?", "Areas for improvement")))
    assert not is_improvement_passage(p("The force should act."))


def test_question_intents():
    assert asks_for_grade("what grade did they get for vulnerability")
    assert asks_for_grade("are the cops any good") and asks_for_grade("is the force good")
    assert not asks_for_grade("How well does the force reduce re-offending?")
    assert asks_for_improvement("what needs to improve")
    assert not asks_for_improvement("kids hub")
    assert asks_for_quantity("how many officers are there") and asks_for_quantity("annual budget")
    assert not asks_for_quantity("how much progress has the force made")


def test_has_quantity_ignores_years_and_dates():
    assert not has_quantity("by 1 May 2017 the force should produce a plan, as in 2016")
    assert has_quantity("12% of crimes") and has_quantity("£3 million") and has_quantity("1,200 officers")


def test_correct_spelling_only_fixes_unknown_words():
    vocab = ["investigations", "improvement", "whether", "children"]
    misspelt = {"investigatons", "improvment"}.__contains__
    assert correct_spelling("how good r they at investigatons", vocab, misspelt) == "how good r they at investigations"
    assert correct_spelling("areas for improvment", vocab, misspelt) == "areas for improvement"
    assert correct_spelling("what is the weather", vocab, misspelt) == "what is the weather"
    assert correct_spelling("", vocab, misspelt) == ""


def test_national_questions_are_told_from_one_force_questions():
    from chat.intent import asks_nationally

    for q in ("How many forces were judged inadequate in 2016?", "How often were cells used nationally?",
              "What do most forces do about stalking?", "crime across England and Wales", "the national picture"):
        assert asks_nationally(q), q
    for q in ("Is Kent Police good at investigating crime?", "How many officers does the force have?",
              "Does the force work with other agencies?", "Does Kent use the National Referral Mechanism?",
              "work with the National Crime Agency", "national crime recording standards"):
        assert not asks_nationally(q), q


def test_a_number_or_a_person_is_expected_with_what_it_is_about():
    from chat.intent import expected_answer

    assert expected_answer("How many firearms officers does the force have?") == ("quantity",
                                                                                   frozenset({"firearm", "officer"}))
    assert expected_answer("What is the average response time to emergency calls?") == (
        "quantity", frozenset({"response", "time"}))
    # Measures are not what is counted: "how many times" is answered by "on 63 occasions".
    assert expected_answer("How many times were cells used?") == ("quantity", frozenset())
    assert expected_answer("Who is the chief constable of Kent Police?") == ("person",
                                                                            frozenset({"chief", "constable"}))
    # A frequency: what happens is the rest of the question.
    assert expected_answer("Taser use by officers - how often?") == ("quantity", frozenset({"taser", "use", "officer"}))
    assert expected_answer("who do they share armed units with") is None
    assert expected_answer("How well does the force reduce re-offending?") is None


def test_a_quote_states_the_number_or_person_asked_for():
    from chat.intent import states_answer

    firearms = frozenset({"firearm", "officer"})
    counted = "Neighbourhood teams have 128 officers. The force has few firearms officers."
    assert not states_answer("quantity", firearms, counted, ((0, 38), (39, len(counted))))
    assert states_answer("quantity", firearms, "It has 40 firearms officers on duty.")
    # The sentence before gives the count its subject.
    slavery = frozenset({"modern", "slavery", "victim"})
    text = "Its work on modern slavery has grown. It found 37 victims."
    assert states_answer("quantity", slavery, text, ((0, 37), (38, len(text))))
    assert states_answer("quantity", frozenset(), "Six forces were judged inadequate.")
    role = frozenset({"chief", "constable"})
    assert states_answer("person", role, "The force is led by Chief Constable Jane Hale.")
    assert not states_answer("person", role, "The chief constable of Kent Police spoke to us.")


def test_only_a_question_for_an_office_holder_expects_a_name():
    from chat.intent import expected_answer

    # Answered by a team, a group or a kind of person, never a name: no person is expected.
    for q in ("Who is responsible for investigating child abuse?", "Who is at risk of exploitation?",
              "Who are the victims of child sexual exploitation?", "Who is involved in the children's hub?",
              "Who is in charge?", "who is", "Who are the force's partners?"):
        assert expected_answer(q) is None, q
    assert expected_answer("Who’s the chief constable?") == ("person", frozenset({"chief", "constable"}))
    assert expected_answer("Who is the police and crime commissioner for Cleveland?")[0] == "person"
    assert expected_answer("Who was the PCC?") == ("person", frozenset({"pcc"}))


def test_expected_answer_is_quick_on_the_longest_question():
    import time

    from chat.intent import expected_answer

    # A phrase that never ends ("!" is no end): the role pattern once tried every split of the word.
    for q in ("who is " + "a" * 250 + "!", "who is the " + "a" * 1_990 + "!", "who is " + "ab-" * 660 + "!",
              "how many " + "a " * 995 + "!", "how often " + "a'" * 995 + "!"):
        began = time.perf_counter()
        expected_answer(q)
        assert time.perf_counter() - began < 1.0, q[:20]


def test_average_asks_for_a_number_only_when_it_names_what_is_averaged():
    from chat.intent import expected_answer

    assert expected_answer("What is the average response time?") == ("quantity", frozenset({"response", "time"}))
    assert expected_answer("Is the force above the national average?") is None
    assert expected_answer("What proportion of crimes are solved?")[0] == "quantity"
