"""The chat UI: Gradio Blocks over ChatService. Retrieval lives in chat.qa; this file only wires it up."""

from __future__ import annotations

import contextlib
import html
import inspect
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import logging  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from indexer.errors import BadInputError, BusyError, PeelqaError, SeedsError  # noqa: E402
from indexer.limits import LIMITS  # noqa: E402
from indexer.sources import SUFFIXES  # noqa: E402

from .api import ApiConfig, mount_api  # noqa: E402
from .export import to_csv, to_markdown  # noqa: E402
from .guard import guard  # noqa: E402
from .kept import add_turn, empty, parse_share, restore, share_link  # noqa: E402
from .page import ANSWER_JS, CSS, LOAD_JS, PAGE_JS, SCROLL_JS, download_js  # noqa: E402
from .qa import check_flag  # noqa: E402
from .render import (  # noqa: E402
    answer_markdown,
    escape_md,
    page_html,
    parse_copy_link,
    parse_page_link,
    parse_source_link,
    source_html,
)
from .service import ChatService  # noqa: E402
from .views import filters_note, grades_html, indexed_markdown, mentions_markdown  # noqa: E402


def report_choices(rows: list[list]) -> list[tuple[str, str]]:
    """The Index tab's "remove a report" choices: (label, file) for each indexed report."""
    return [(f"{r[4]} — {r[0]}" if r[0] and r[0] != r[4] else str(r[4]), r[4]) for r in rows]


def example_questions(forces: list[str]) -> list[str]:
    """The empty chat's example questions; the first names an indexed force, so it has an answer."""
    force = forces[0] if forces else "the force"
    return [f"Is {force} good at investigating crime?", "What should the force improve about domestic abuse?",
            "How does the force respond to missing children?", "Is the force prepared for an armed attack?"]


log = logging.getLogger("peelqa")

SOURCES_LABEL = "Sources of the last answer (choose one to read it in context)"
CLOSEST_LABEL = "Closest matches, not an answer: the reports do not appear to cover the last question"
PANEL_EMPTY = "<p>Ask a question; its sources show here.</p>"
PANEL_FILTERED = "<p>The filters changed: ask again to see sources under them.</p>"


def panel_hint(results: list[dict]) -> str:
    """What the source panel says right after an answer, before a source is chosen."""
    if not results:
        return "<p>The last answer has no sources.</p>"
    return f"<p>Choose one of the {len(results)} sources of the last answer to read it in its report.</p>"


TEXT_APIS = {"ask", "rebuild", "copy"}  # API endpoints that take no files


class Blocks(gr.Blocks):
    """gr.Blocks whose API endpoints also take calls that leave out trailing arguments with defaults.

    gradio_client fills in defaults itself, but a raw REST call (`POST /gradio_api/call/ask` with two
    values) was refused with an empty error; here the function's own defaults fill the gap.
    """

    def validate_inputs(self, block_fn, inputs: list) -> None:
        fn = getattr(block_fn, "fn", None)
        if callable(fn) and len(inputs) < len(block_fn.inputs):
            params = list(inspect.signature(fn).parameters.values())[len(inputs):len(block_fn.inputs)]
            if params and all(p.default is not inspect.Parameter.empty for p in params):
                inputs.extend(p.default for p in params)  # in place: Gradio goes on with this list
        if block_fn.api_name in TEXT_APIS:
            # A file object where text belongs would make Gradio try to fetch the file, and fail with an
            # empty error; as a plain value it gets peelqa's "must be text, not dict".
            for k, value in enumerate(inputs):
                if isinstance(value, dict) and ("path" in value or "url" in value or "meta" in value):
                    inputs[k] = {"file": "not accepted here"}
        super().validate_inputs(block_fn, inputs)


def user_error(exc: PeelqaError) -> gr.Error:
    """A user's mistake is one line in the server log and one message to the user; tracebacks are kept for
    real faults (any other exception, which Gradio logs in full)."""
    log.warning("%s: %s", type(exc).__name__, exc)
    return gr.Error(str(exc), print_exception=False)


FILTERS = (("title", "Report"), ("force", "Force"), ("year", "Year"), ("pillar", "Pillar"), ("section", "Section"))


def sweep_upload_debris(age: float = 60.0) -> int:
    """Remove what uploads leave in Gradio's upload folder once handled: empty temporary files and empty
    folders older than `age` seconds (Gradio's own cache sweep only knows the files it tracks)."""
    import time

    from gradio.utils import get_upload_folder

    root, removed, now = Path(get_upload_folder()), 0, time.time()
    if not root.is_dir():
        return 0
    for entry in root.iterdir():
        try:
            if now - entry.stat().st_mtime < age:
                continue
            if entry.is_file() and entry.name.startswith("tmp") and entry.stat().st_size == 0:
                entry.unlink()
                removed += 1
            elif entry.is_dir() and not any(entry.iterdir()):
                entry.rmdir()
                removed += 1
        except OSError:
            continue
    return removed


def report_files(**kwargs) -> gr.File:
    """The upload box. Its type check is peelqa's own (`ChatService.save_upload`, which also deletes the refused
    file): Gradio's would turn a client that skips the page's file picker into a logged traceback and leave the
    refused file in its upload folder, and it makes an empty temporary file for every upload. Replaced on this
    one instance: a subclass of a Gradio component makes Gradio write a .pyi stub beside this module."""
    from gradio.utils import NamedString

    box = gr.File(**kwargs)
    box._process_single_file = lambda f: NamedString(f.path)
    return box


def build_app(service: ChatService) -> gr.Blocks:
    choices = service.filter_choices()

    def answer_turn(message, history, top_k, last_question, filters, kept, note=""):
        """Ask, and add the question and its answer to the chat and to the kept conversation."""
        answer = None
        try:
            answer = service.ask(message, int(top_k), filters, last_question)
            link = share_link(message, service.index_version(), answer.context, filters)
            reply = (note + filters_note(filters, dict(FILTERS)) + answer_markdown(answer)
                     + f"\n\n[Link to this answer]({link})")
            # A refusal's quotes are its closest matches, not its sources: the list says so.
            results = [q.to_dict() | ({} if answer.answered else {"refused": True}) for q in answer.quotes]
        except PeelqaError as exc:
            log.warning("%s: %s", type(exc).__name__, exc)
            reply, results = f"**Cannot answer:** {escape_md(str(exc))}", []
        # Shown as typed, never as HTML: escape_md turns markup into literal text.
        history = [*history, {"role": "user", "content": escape_md(message)}, {"role": "assistant", "content": reply}]
        # A follow-up keeps the question it follows as the context for the next one; so does a failed question.
        new_last = last_question if answer is None or answer.context else message.strip()
        kept = add_turn(restore(kept), service.index_version(), history, message.strip(), results, new_last,
                        answer is not None and answer.answered)
        return history, results, new_last, kept

    def sources_of(results):
        # The panel belongs to this answer now: the previous answer's source is never left on show.
        labels = [f"[{r['rank']}] {r['citation']}" for r in results]
        label = (CLOSEST_LABEL if any(r.get("refused") for r in results) else SOURCES_LABEL)
        return gr.update(choices=labels, value=None, label=label), panel_hint(results)

    def on_ask(message, history, top_k, last_question, kept, *filter_values):
        history = list(history or [])
        if not (message or "").strip():
            return history, "", gr.update(), [], last_question, gr.update(), gr.update()
        filters = {key: value or [] for (key, _), value in zip(FILTERS, filter_values, strict=True)}
        history, results, new_last, kept = answer_turn(message, history, top_k, last_question, filters, kept)
        radio, hint = sources_of(results)
        return history, "", radio, results, new_last, hint, kept

    def on_example(picked: gr.SelectData, history, top_k, last_question, kept, *filter_values):
        return on_ask(picked.value["text"], history, top_k, last_question, kept, *filter_values)

    def on_load(kept, shown, request: gr.Request):
        """A reload brings the kept conversation back; a link (?q=...) asks its question after it."""
        kept = restore(kept)
        link = parse_share(str(getattr(request, "query_params", "") or "")) if request else None
        # What is indexed now: the page was built at start-up, and a rebuild (another tab, the API) may follow.
        known, rows = service.filter_choices(), service.documents()
        now = (indexed_markdown(rows), rows, gr.update(choices=report_choices(rows)),
               grades_html(*service.grades_table()))
        # Nothing to bring back, or a question asked before the page finished loading (its answer is newer than
        # the kept one): the chat is left as it is.
        if shown or not (link or kept["history"] or kept["last"]):
            return (gr.update(),) * 6 + now + tuple(gr.update(choices=known[key]) for key, _ in FILTERS)
        history, last = kept["history"], kept["last"]
        results = kept["turns"][-1]["results"] if kept["turns"] else []
        if kept["turns"] and not kept["turns"][-1]["answered"]:
            results = [r | {"refused": True} for r in results]
        chosen = [gr.update(choices=known[key]) for key, _ in FILTERS]
        if link:
            filters = {key: [v for v in link["filters"].get(key, []) if v in known[key]] for key, _ in FILTERS}
            note = ("_The indexed reports changed since this link was made: the answer below is from the reports "
                    "indexed now._\n\n") if link["v"] and link["v"] != service.index_version() else ""
            history, results, last, kept = answer_turn(link["q"], history, 5, link["p"] or None, filters, kept, note)
            chosen = [gr.update(choices=known[key], value=filters[key]) for key, _ in FILTERS]
        radio, hint = sources_of(results)
        return (history, radio, results, last, hint if history else PANEL_EMPTY, kept, *now, *chosen)

    def render_source(document: str, start: int, end: int, page: int | None = None) -> str:
        """The report with the span highlighted; for a PDF, its page image first (highlighted too)."""
        try:
            text, note = service.source(document)
            passage = service.passage_at(document, start, end)
            view = service.page_image(document, start, end, page)
            blocks = service.layout(document)
        except PeelqaError as exc:
            return f"<p>{html.escape(str(exc))}</p>"
        shown = source_html(passage.citation, text, start, end, note, blocks)
        return (page_html(view, document, start, end) + shown) if view else shown

    def on_source(label, results):
        if not label:
            return gr.update()
        rank = int(label.split("]", 1)[0].lstrip("["))
        r = next((r for r in results if r["rank"] == rank), None)
        return render_source(r["document"], r["start"], r["end"]) if r else gr.update()

    def on_citation_click(ref, results):
        try:
            if (ref or "").startswith("page:"):
                document, page, start, end = parse_page_link(ref[5:])
            else:
                (document, start, end), page = parse_source_link(ref or ""), None
        except ValueError:
            return gr.update(), gr.update(), gr.update()
        shown = render_source(document, start, end, page)
        # The list of sources shows which one is open: the clicked citation's, or none when it is an earlier
        # answer's (the list stays the latest answer's).
        chosen = next((f"[{r['rank']}] {r['citation']}" for r in results or []
                       if (r["document"], r["start"], r["end"]) == (document, start, end)), None)
        return shown, shown, gr.update(value=chosen)  # the chat's panel, the grades view's, the list

    def on_find(phrase, stemmed):
        try:
            return mentions_markdown(service.find(phrase, bool(stemmed)))
        except PeelqaError as exc:
            log.warning("%s: %s", type(exc).__name__, exc)
            return f"**Cannot search:** {escape_md(str(exc))}"

    def rebuilt(build, progress) -> tuple:
        """Run `build` (a rebuild, or a removal and rebuild) and what the Index tab, header and filters show after."""
        try:
            summary = build(lambda done, total, message: progress((done, total), desc=message))
            status = f"**Done:** {escape_md(summary.line())}"  # words, not an emoji: some systems lack the font
            if summary.skipped:
                status += "\n\n" + "\n".join(f"- skipped {escape_md(f)}: {escape_md(r)}"
                                                 for f, r in summary.skipped.items())
        except PeelqaError as exc:
            log.warning("%s: %s", type(exc).__name__, exc)
            status = f"**Not done:** {escape_md(str(exc))}"
        c, rows = service.filter_choices(), service.documents()
        return (status, rows, indexed_markdown(rows), grades_html(*service.grades_table()),
                gr.update(choices=report_choices(rows), value=None), *(gr.update(choices=c[key]) for key, _ in FILTERS))

    def on_rebuild(progress=gr.Progress()):  # noqa: B008 - Gradio injects progress through this default
        return rebuilt(service.rebuild, progress)

    def on_remove_asked(name):
        """Ask first; the name asked about is kept, so Yes removes that one even if the list changes meanwhile."""
        rows = service.documents()
        if not name:
            return gr.update(visible=False), "", "Choose the report to remove first.", None
        if len(rows) == 1:  # refused now, rather than after asking to confirm
            return (gr.update(visible=False), "", f"{escape_md(name)} is the only indexed report: add another first.",
                    None)
        title = next((r[0] for r in rows if r[4] == name), name)
        return (gr.update(visible=True), f"Delete **{escape_md(name)}** ({escape_md(str(title))}) from the seeds "
                f"folder and rebuild the index without it? The file cannot be recovered from peelqa.", "", name)

    def on_remove(name, progress=gr.Progress()):  # noqa: B008
        if not name:
            return (gr.update(visible=False), "Choose the report to remove first.",
                    *(gr.update(),) * (len(FILTERS) + 4))
        return (gr.update(visible=False), *rebuilt(lambda report: service.remove_report(name, report), progress))

    def on_upload(files):
        sweep_upload_debris()
        saved, problems = [], []
        for f in files or []:
            path = Path(getattr(f, "name", f))
            try:
                saved.append(service.save_upload(path, path.name))
            except PeelqaError as exc:
                log.warning("%s: %s", type(exc).__name__, exc)
                problems.append(str(exc))
            with contextlib.suppress(OSError):  # the folder Gradio made for this upload, now empty
                path.parent.rmdir()
        lines = [f"Saved {escape_md(n)} to the seeds folder." for n in saved]
        lines += [f"**Not saved:** {escape_md(p)}" for p in problems]
        if saved:
            lines.append("Click **Rebuild index** to add it to the answers.")
        return "\n\n".join(lines) or "No file received."

    def api_ask(question: str | None = None, top_k: int | None = 5, previous: str | None = None,
                by_report: bool = False) -> dict:
        """Answer a question; `previous` is the earlier question, for follow-ups; `by_report` adds a row per report
        (on by itself for comparisons). Same JSON as `peelqa ask --json`."""
        try:
            flag = check_flag(by_report, "by_report")
            return service.ask(question, 5 if top_k is None else top_k, None, previous, flag).to_dict()
        except PeelqaError as exc:
            raise user_error(exc) from None

    def api_copy(refs: str = "") -> str:
        """The plain text of quotes for the clipboard, from a chat "copy" link's references
        ("<document>/<start>/<end>+..."): each exact quote in quotation marks, its citation on the next line."""
        try:
            if not isinstance(refs, str) or len(refs) > 20_000:  # far more than an answer's links hold
                raise ValueError(refs)
            spans = parse_copy_link(refs)
        except ValueError:
            raise user_error(BadInputError("not a quote reference")) from None
        try:
            return service.copy_text(spans)
        except PeelqaError as exc:
            raise user_error(exc) from None

    def api_rebuild() -> dict:
        """Rebuild the index incrementally from the seeds folder; returns the summary (refused while one runs)."""
        try:
            return service.rebuild().to_dict()
        except PeelqaError as exc:
            raise user_error(exc) from None

    # Uploads live in Gradio's cache until saved or refused (both delete them); this sweeps the rest hourly.
    with Blocks(title="peelqa", delete_cache=(3600, 3600)) as demo:
        # The page's one H1 (the theme adds none).
        gr.Markdown("# peelqa — answers quoted from police inspection reports\n"
                    "Every answer is an exact quote with its citation. Nothing is generated.")
        with gr.Row(elem_id="peelqa-header"):
            indexed = gr.Markdown(indexed_markdown(service.documents()), elem_id="peelqa-indexed")
            to_index = gr.Button("All indexed reports", size="sm", scale=0, min_width=160)
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        # No autoscroll: it showed the end of each answer (its weakest quote); ANSWER_JS shows the
                        # start instead. No share or copy buttons: one was unlabelled, the others copied markdown
                        # source; each answer has its own "Copy quote" and "Copy answer" links instead. The
                        # examples show in the empty chat (the first screen) and ask when clicked.
                        chatbot = gr.Chatbot(label="Answers", height=460, allow_tags=False, sanitize_html=True,
                                             feedback_options=None, elem_id="peelqa-chat", autoscroll=False, buttons=[],
                                             placeholder="**Ask a question about the indexed reports**, or try one:",
                                             examples=[{"text": q} for q in example_questions(choices["force"])])
                        with gr.Row(equal_height=True):
                            question = gr.Textbox(label="Question", placeholder="Ask about the reports…", lines=1,
                                                  elem_id="peelqa-question", scale=5, min_width=240)
                            ask_btn = gr.Button("Ask", variant="primary", elem_id="peelqa-ask", scale=1, min_width=80)
                            clear_btn = gr.Button("Clear", elem_id="peelqa-clear", scale=1, min_width=80)
                        # The common filters in sight (chosen values show as chips); the rest folded.
                        boxes = {}
                        with gr.Row(elem_id="peelqa-filters"):
                            for key, label in FILTERS[1:4]:
                                boxes[key] = gr.Dropdown(choices[key], multiselect=True, label=label, min_width=120,
                                                         elem_classes="peelqa-filter")
                        with gr.Accordion("More filters", open=False):
                            top_k = gr.Slider(1, 10, value=5, step=1, label="Quotes per answer")
                            for key, label in (FILTERS[0], FILTERS[4]):
                                boxes[key] = gr.Dropdown(choices[key], multiselect=True, label=label,
                                                         elem_classes="peelqa-filter")
                        dropdowns = [boxes[key] for key, _ in FILTERS]
                        with gr.Row():  # the conversation as a file, each quote read again from the index
                            export_md = gr.Button("Export as Markdown", size="sm", elem_id="peelqa-export-md")
                            export_csv = gr.Button("Export as CSV", size="sm", elem_id="peelqa-export-csv")
                    with gr.Column(scale=2, elem_id="peelqa-sources-col"):
                        sources = gr.Radio([], label=SOURCES_LABEL, elem_id="peelqa-sources")
                        panel = gr.HTML(PANEL_EMPTY, elem_id="peelqa-panel")
            with gr.Tab("Grades"):
                gr.Markdown("Every grade the indexed reports state, by force and year; choose one to read the "
                            "sentence it comes from.")
                grades_view = gr.HTML(grades_html(*service.grades_table()), elem_id="peelqa-grades")
                grades_panel = gr.HTML("", elem_id="peelqa-grades-panel")
            with gr.Tab("Find"):
                gr.Markdown("Every passage that mentions a phrase, in every report: shows where reports say "
                            "something, and that a report never mentions it.")
                with gr.Row():
                    phrase = gr.Textbox(label="Phrase", placeholder="e.g. missing children", elem_id="peelqa-phrase",
                                        scale=4)
                    stemmed = gr.Checkbox(label="Match word stems (inspect = inspected, inspections)", scale=1)
                find_btn = gr.Button("Find every mention")
                mentions = gr.Markdown(elem_id="peelqa-mentions")
            with gr.Tab("Index", id="index"):
                table = gr.Dataframe(service.documents(), headers=ChatService.DOCUMENT_COLUMNS,
                                     interactive=False, label="Indexed reports")
                files = report_files(file_count="multiple", file_types=list(SUFFIXES),
                                     label="Add reports (" + ", ".join(SUFFIXES) + ")", elem_id="peelqa-upload")
                upload_status = gr.Markdown()
                rebuild_btn = gr.Button("Rebuild index", variant="primary")
                rebuild_status = gr.Markdown(elem_id="peelqa-rebuild-status")
                # Removing deletes a file: it asks first, and runs under the same one-rebuild-at-a-time lock.
                with gr.Row(equal_height=True):
                    to_remove = gr.Dropdown(report_choices(service.documents()), value=None, scale=3,
                                            label="Remove a report (deletes its file from the seeds folder)",
                                            elem_classes="peelqa-filter")
                    remove_btn = gr.Button("Remove…", variant="stop", scale=1, elem_id="peelqa-remove")
                asked = gr.State(None)  # the report the confirmation names
                with gr.Row(visible=False, elem_id="peelqa-remove-confirm") as confirm_row:
                    confirm_text = gr.Markdown()
                    confirm_btn = gr.Button("Yes, delete it and rebuild", variant="stop", elem_id="peelqa-remove-yes")
                    cancel_btn = gr.Button("Cancel", elem_id="peelqa-remove-cancel")

        jump = gr.Textbox(visible="hidden", elem_id="peelqa-jump")
        # The conversation, in this browser only. A fixed secret, so it survives a restart of the server (a random
        # one per start would make it unreadable); it holds only what the page has shown this reader.
        kept = gr.BrowserState(empty(service.index_version()), storage_key="peelqa-conversation",
                               secret="peelqa-conversation-kept-in-this-browser")
        results_state = gr.State([])
        last_question = gr.State("")
        inputs = [question, chatbot, top_k, last_question, kept, *dropdowns]
        outputs = [chatbot, question, sources, results_state, last_question, panel, kept]
        question.submit(on_ask, inputs, outputs, api_visibility="private").then(None, None, None, js=ANSWER_JS)
        ask_btn.click(on_ask, inputs, outputs, api_visibility="private").then(None, None, None, js=ANSWER_JS)
        chatbot.example_select(on_example, inputs[1:], outputs, api_visibility="private").then(
            None, None, None, js=ANSWER_JS)
        to_index.click(lambda: gr.Tabs(selected="index"), None, tabs, api_visibility="private")
        # Clearing (the button or the chat's trash icon) clears everything: messages, sources, the follow-up
        # context and the kept copy.
        def on_clear():
            return [], "", gr.update(choices=[], value=None), [], "", PANEL_EMPTY, empty(service.index_version())

        cleared = [chatbot, question, sources, results_state, last_question, panel, kept]
        clear_btn.click(on_clear, None, cleared, api_visibility="private")
        chatbot.clear(on_clear, None, cleared, api_visibility="private")
        # The file's text goes to a hidden box, and the page saves it from there (nothing is written on the server).
        exported = gr.Textbox(visible="hidden", elem_id="peelqa-exported")
        def exporter(write):
            def run(k):
                try:
                    return write(service.export(restore(k)["turns"]))
                except PeelqaError as exc:  # e.g. the index was found damaged since the answers were given
                    raise user_error(exc) from None
            return run

        export_md.click(exporter(lambda turns: to_markdown(turns, service.index_version())),
                        kept, exported, api_visibility="private").then(
            None, exported, None, js=download_js("peelqa-conversation.md", "text/markdown"))
        export_csv.click(exporter(to_csv), kept, exported, api_visibility="private").then(
            None, exported, None, js=download_js("peelqa-conversation.csv", "text/csv"))
        demo.load(on_load, [kept, chatbot], [chatbot, sources, results_state, last_question, panel, kept, indexed,
                                             table, to_remove, grades_view, *dropdowns], api_visibility="private",
                  show_progress="hidden").then(None, None, None, js=LOAD_JS)
        # `input`, not `change`: only a reader's choice opens a source (a new answer or a citation click sets
        # the list's value itself, and must not render the panel twice).
        sources.input(on_source, [sources, results_state], panel, api_visibility="private").then(
            None, None, None, js=SCROLL_JS)
        jump.change(on_citation_click, [jump, results_state], [panel, grades_panel, sources],
                    api_visibility="private").then(None, None, None, js=SCROLL_JS)
        for dropdown in dropdowns:  # the last answer was not asked under the new filters: its sources go
            dropdown.input(lambda: (gr.update(choices=[], value=None), [], PANEL_FILTERED), None,
                           [sources, results_state, panel], api_visibility="private")
        phrase.submit(on_find, [phrase, stemmed], mentions, api_visibility="private")
        find_btn.click(on_find, [phrase, stemmed], mentions, api_visibility="private")
        files.upload(on_upload, files, upload_status, api_visibility="private")
        # Rebuilds are not queued: a second one runs at once and is refused by the service ("already running").
        after = [rebuild_status, table, indexed, grades_view, to_remove, *dropdowns]
        rebuild_btn.click(on_rebuild, None, after, api_visibility="private", concurrency_limit=None)
        remove_btn.click(on_remove_asked, to_remove, [confirm_row, confirm_text, rebuild_status, asked],
                         api_visibility="private", queue=False)
        to_remove.change(lambda: gr.update(visible=False), None, confirm_row, api_visibility="private", queue=False)
        cancel_btn.click(lambda: gr.update(visible=False), None, confirm_row, api_visibility="private", queue=False)
        confirm_btn.click(on_remove, asked, [confirm_row, *after], api_visibility="private",
                          concurrency_limit=None)
        gr.api(api_ask, api_name="ask")
        gr.api(api_rebuild, api_name="rebuild", concurrency_limit=None)
        # For the page's copy links only (not part of the documented API); quick, so never queued behind questions.
        gr.api(api_copy, api_name="copy", concurrency_limit=None, api_visibility="undocumented")
    return guard(demo)


def start(service: ChatService, host: str = "127.0.0.1", port: int | None = None,
          api: ApiConfig | None = None) -> tuple[gr.Blocks, str]:
    """Build and launch the app without blocking (tests call this too); returns it and its URL.

    The chat and Gradio's API answer `LIMITS.concurrent_answers` questions at once (the searcher and model are
    thread-safe); the JSON API (chat.api, configured by `api`, else from the environment) is mounted at /api.
    No sharing, no monitoring endpoint. Gradio refuses uploads over twice the largest upload limit before
    storing them; one a little over a limit reaches peelqa, whose message gives its exact size.
    """
    api = api or ApiConfig.from_env()  # a bad setting stops the start, before anything listens
    demo = build_app(service)
    demo.queue(default_concurrency_limit=LIMITS.concurrent_answers)
    _, url, _ = demo.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True, share=False,
                            ssr_mode=False, css=CSS, js=PAGE_JS, footer_links=["api"], enable_monitoring=False,
                            max_file_size=2 * max(LIMITS.upload_bytes.values()))
    mount_api(demo, service, api)
    return demo, url or f"http://{host}:{port}/"


def serve(index_dir: Path | None = None, host: str = "127.0.0.1", port: int = 7860, progress=None) -> None:
    """Load the index and model once, launch the app, print one line when ready, and block."""
    from .qa import QA

    logging.basicConfig(format="peelqa: %(levelname)s: %(message)s", level=logging.INFO)
    api = ApiConfig.from_env()
    try:
        qa = QA.open(index_dir, build_if_missing=True, progress=progress,
                     on_build=lambda message: print(f"peelqa: {message}", flush=True))
    except SeedsError as exc:  # no index and nothing to build one from: reports can still be added in the chat
        print(f"peelqa: {exc.message}; starting with no index: add reports in the Index tab and rebuild", flush=True)
        qa = None
    except BusyError as exc:  # a replica started at the same time builds the first index: loaded once complete
        print(f"peelqa: {exc.message}; starting without it: questions are answered once it is complete", flush=True)
        qa = None
    service = ChatService(index_dir, qa=qa, build_if_missing=False)
    demo, url = start(service, host, port, api)
    service.verify_in_background()
    print(f"peelqa: chat ready at {url.rstrip('/') if url else f'http://{host}:{port}'} (Ctrl+C to stop)",
          flush=True)
    demo.block_thread()
