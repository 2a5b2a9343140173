"""The chat server under load and abuse: 50 concurrent clients get exactly the serial answers with zero
errors; concurrent rebuilds are refused, not queued; uploads are bounded and leave nothing behind; report
and question text with script in it never runs in Chromium."""

import json
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from indexer.errors import BadInputError
from indexer.limits import LIMITS

pytestmark = pytest.mark.model

QUESTIONS = [
    ("Is Cleveland good at investigating crime?", ""), ("Is there a children's hub?", ""),
    ("How does the force respond to missing children?", ""), ("Is the force prepared for an armed attack?", ""),
    ("What should the force improve about domestic abuse?", ""), ("investigatons of burglary", ""),
    ("kids hub", ""), ("Who won the football match on Saturday?", ""), ("serious and organised crime", ""),
    ("registered sex offenders", ""), ("and what about children?", "How does the force respond to missing people?"),
    ("why?", "Which outcome category is the force an outlier for?"), ("neighbourhood policing", ""),
    ("How many crimes were recorded?", ""), ("digital evidence retrieval", ""), ("anti-social behaviour", ""),
    ("integrated offender management", ""), ("firearms capability", ""), ("What's the budget?", ""),
    ("vulnerable victims", ""),
]


def ask(client: httpx.Client, url: str, question: str, previous: str, top_k: int = 5) -> dict:
    r = client.post(url + "gradio_api/call/ask", json={"data": [question, top_k, previous]})
    r.raise_for_status()
    stream = client.get(url + f"gradio_api/call/ask/{r.json()['event_id']}", timeout=120).text
    events = [line for line in stream.splitlines() if line.startswith(("event:", "data:"))]
    if events[0] != "event: complete":
        raise AssertionError(f"{question!r}: {stream[:300]}")
    return json.loads(events[1].split(": ", 1)[1])[0]


def test_fifty_concurrent_clients_get_the_serial_answers(live_app):
    _, url = live_app
    with httpx.Client(timeout=60) as client:
        serial = {q: ask(client, url, q, prev) for q, prev in QUESTIONS}
    errors, mismatches = [], []

    def client_run(seed: int) -> None:
        order = QUESTIONS[:]
        random.Random(seed).shuffle(order)
        with httpx.Client(timeout=120) as client:
            for q, prev in order:
                try:
                    if ask(client, url, q, prev) != serial[q]:
                        mismatches.append(q)
                except Exception as exc:  # noqa: BLE001 - every failure counts
                    errors.append(repr(exc)[:300])

    began = time.perf_counter()
    with ThreadPoolExecutor(50) as pool:
        list(pool.map(client_run, range(50)))
    seconds = time.perf_counter() - began
    print(f"1,000 concurrent questions in {seconds:.1f} s ({1000 / seconds:.1f}/s)")
    assert errors == [] and mismatches == []


def test_uploads_are_bounded_and_leave_no_temp_files(live_app, tmp_path):
    service, url = live_app
    limit = LIMITS.upload_bytes[".txt"]
    over = tmp_path / "over.txt"
    over.write_bytes(b"x" * (limit + 1))
    with pytest.raises(BadInputError, match=r"is 2 MiB \(2,097,153 bytes\); the limit is 2 MiB \(2,097,152 bytes\)"):
        service.save_upload(over, "over.txt")
    assert not over.exists()  # refused uploads are deleted too
    for name, data, message in (("nul.txt", b"\x00\x01", "NUL bytes"), ("bad.md", b"\xff", "not UTF-8"),
                                ("evil.sh", b"echo", "is not a .txt or .md or .pdf")):
        upload = tmp_path / name
        upload.write_bytes(data)
        with pytest.raises(BadInputError, match=message):
            service.save_upload(upload, name)
        assert not upload.exists()
    # Gradio itself refuses, before storing it, a file far over the largest limit; one a little over a limit
    # reaches peelqa, which says by how much (above).
    config = httpx.get(url + "config", timeout=30).json()
    assert config["max_file_size"] == 2 * max(LIMITS.upload_bytes.values())


PROBES = ["<img src=x onerror=alert(1)>", "<svg onload=alert(2)>", "<script>alert(3)</script>",
          "[click me](javascript:alert(4))", '<a href="javascript:alert(5)">link five</a>',
          '"><img src=y onerror=alert(6)>', '<iframe src="javascript:alert(7)"></iframe>',
          '![pic](x" onerror="alert(8))', "<details open ontoggle=alert(9)>", "{{7*7}} ${alert(10)}"]


@pytest.mark.browser
def test_script_in_reports_and_questions_never_runs(live_app, browser, tmp_path):
    service, url = live_app
    report = tmp_path / "probe.md"
    lines = [f"Lighthouse probe {i} reads: {p} and the keepers log it." for i, p in enumerate(PROBES)]
    report.write_text("# Lighthouse " + PROBES[0] + "\n\n## Keepers " + PROBES[1] + "\n\n" + "\n\n".join(lines) + "\n")
    service.save_upload(report, "probe.md")
    service.rebuild()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    box = page.locator("#peelqa-question textarea")
    box.wait_for(timeout=30_000)
    for i, probe in enumerate(PROBES):
        before = page.get_by_test_id("bot").count()
        box.fill(f"what does lighthouse probe {i} read? {probe}")
        box.press("Enter")
        page.wait_for_function(f"document.querySelectorAll('[data-testid=bot]').length > {before}", timeout=30_000)
        bot = page.get_by_test_id("bot").last
        assert probe.split(">")[0].split("(")[0] in bot.inner_text() or i in (3, 7)  # markdown shown literally
        bot.get_by_role("link", name=re.compile(r"Lighthouse")).first.click()
        page.locator("#peelqa-hit").wait_for(timeout=15_000)
    panel = page.locator("#peelqa-panel").inner_text()
    assert all(p in panel for p in PROBES)  # the report is shown as text, every probe literally
    page.wait_for_timeout(500)
    injected = page.evaluate("""() => document.querySelectorAll(
        '#peelqa-chat img[src=x], #peelqa-chat img[src=y], #peelqa-chat svg[onload], #peelqa-chat iframe,'
        + '#peelqa-chat details[ontoggle], #peelqa-panel img, #peelqa-panel svg, #peelqa-panel iframe,'
        + '#peelqa-panel script, a[href^="javascript:"]').length""")
    context.close()
    assert dialogs == [] and injected == 0
    (service.seeds_dir / "probe.md").unlink()
    service.rebuild()


def test_concurrent_rebuilds_one_runs_the_others_are_refused(live_app):
    service, url = live_app
    extra = service.seeds_dir / "extra-report.md"
    extra.write_text("# Extra report\n\n" + "\n\n".join(
        f"Paragraph {i} says the marine unit patrols section {i} of the estuary at night." for i in range(120)))
    results = []

    def rebuild():
        r = httpx.post(url + "gradio_api/call/rebuild", json={"data": []}, timeout=30)
        stream = httpx.get(url + f"gradio_api/call/rebuild/{r.json()['event_id']}", timeout=300).text
        results.append(stream)

    threads = [threading.Thread(target=rebuild) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = [r for r in results if r.startswith("event: complete")]
    refused = [r for r in results if "a rebuild is already running" in r]
    assert len(done) == 1 and len(refused) == 2, results
    assert json.loads(done[0].split("data: ", 1)[1])[0]["documents"] == 2
    extra.unlink()
    service.rebuild()


def test_upload_next_to_a_link_keeps_its_name_and_never_writes_through(live_app, tmp_path):
    service, _ = live_app
    link = service.seeds_dir / "passwd.txt"
    link.symlink_to("/etc/passwd")
    try:
        upload = tmp_path / "passwd.txt"
        upload.write_text("An uploaded report that shares its name with a link in the seeds folder.\n")
        assert service.save_upload(upload, "passwd.txt") == "passwd-2.txt"
        assert (service.seeds_dir / "passwd-2.txt").read_text().startswith("An uploaded report")
    finally:
        link.unlink()
        (service.seeds_dir / "passwd-2.txt").unlink(missing_ok=True)


def test_upload_debris_is_swept(tmp_path, monkeypatch):
    import os as os_module
    import time as time_module

    from chat.app import sweep_upload_debris

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    (tmp_path / "tmpabc").write_bytes(b"")
    (tmp_path / "0123abcd").mkdir()
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "report.pdf").write_bytes(b"%PDF-")
    old = time_module.time() - 3600
    for path in (tmp_path / "tmpabc", tmp_path / "0123abcd", tmp_path / "kept"):
        os_module.utime(path, (old, old))
    assert sweep_upload_debris() == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]


def test_a_client_skipping_the_file_picker_gets_the_message_and_leaves_no_file(live_app, capfd):
    """A script (not the page) may send any file to the upload box: it is refused in one line, with the
    same message as the page shows, no traceback, and the refused file is deleted."""
    service, url = live_app
    with httpx.Client(timeout=60) as client:
        stored = client.post(url + "gradio_api/upload", files={"files": ("evil.exe", b"MZ\x90\x00")}).json()[0]
        config = client.get(url + "config").json()
        box = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "peelqa-upload")
        fn = next(d["id"] for d in config["dependencies"] if [box, "upload"] in d["targets"])
        client.post(url + "gradio_api/queue/join", json={
            "data": [[{"path": stored, "orig_name": "evil.exe", "meta": {"_type": "gradio.FileData"}}]],
            "fn_index": fn, "trigger_id": box, "session_hash": "script"}).raise_for_status()
        done = None
        with client.stream("GET", url + "gradio_api/queue/data", params={"session_hash": "script"}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:") and '"process_completed"' in line:
                    done = json.loads(line[5:])
                    break
    assert done["success"], done
    assert done["output"]["data"][0].startswith(r"**Not saved:** 'evil\.exe' is not a \.txt or \.md")
    assert not Path(stored).exists()
    assert "Traceback" not in capfd.readouterr().err
    assert not any(p.name == "evil.exe" for p in service.seeds_dir.iterdir())


def queue_call(url: str, fn_index: int, data: list) -> dict:
    """What the page's own events get: join Gradio's queue by index, read the event stream to the end."""
    session = f"probe{random.randrange(10**9)}"
    r = httpx.post(url + "gradio_api/queue/join", json={"fn_index": fn_index, "data": data, "session_hash": session,
                                                        "event_data": None, "trigger_id": None}, timeout=30)
    r.raise_for_status()
    with httpx.stream("GET", url + f"gradio_api/queue/data?session_hash={session}", timeout=60) as stream:
        for line in stream.iter_lines():
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                return message
    raise AssertionError("no result")


def test_junk_sent_to_the_pages_own_events_gets_one_line_not_a_traceback(live_app, capfd, caplog):
    """A script can call the page's private events by index; junk in them once gave `{"error": null}` and a
    traceback per request in the log."""
    from chat.guard import MALFORMED

    _, url = live_app
    events = {d["api_name"]: (i, len(d["inputs"])) for i, d in enumerate(httpx.get(url + "config").json()[
        "dependencies"])}
    capfd.readouterr()
    history = [{"role": role, "content": [{"type": "text", "text": text}]}
               for role, text in (("user", "q"), ("assistant", "a"))] * 1000
    cases = [("on_ask", {1: [{"role": "evil", "content": 5}]}, MALFORMED),
             ("on_ask", {0: "Is there a children's hub?", 1: history, 2: 3}, None),  # long: its oldest left out
             ("on_example", {0: 12345}, MALFORMED), ("on_load", {1: {"a": 1}}, MALFORMED),
             ("on_upload", {0: [{"path": "/etc/passwd"}]}, MALFORMED), ("on_upload", {0: "x" * 5000}, MALFORMED),
             ("on_source", {0: 12345}, "Value: 12345 (type: <class 'int'>) is not in the list of choices: []")]
    for name, values, message in cases:
        index, n = events[name]
        data = [values.get(i) for i in range(n)]
        result = queue_call(url, index, data)
        if message is None:
            assert result["success"], (name, result)
            assert len(result["output"]["data"][1]) <= LIMITS.chat_messages + 2
        else:
            assert not result["success"] and result["output"]["error"] == message, (name, result)
    logged = capfd.readouterr()
    assert "Traceback" not in logged.out + logged.err
    assert all("\n" not in r.getMessage() for r in caplog.records)
