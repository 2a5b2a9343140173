"""Replicas: two chat services, and two `peelqa serve` processes, sharing one index folder. A rebuild through one
is answered by the other afterwards, with no error in between; a rebuild is refused by every replica while
another process builds."""

import dataclasses
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

import chat.service
from chat.qa import QA
from chat.search import Searcher
from chat.service import ChatService
from indexer.build import build_index
from indexer.errors import BusyError, IndexCorruptError
from indexer.store import MANIFEST, build_lock
from tests.conftest import ROOT, SEED
from tests.test_index import FOUR

# A report only the new index has, with a fact no other report states.
HARBOUR_2021 = ("Harbour PEEL 2021\nEfficiency\nHow efficient is the force?\n"
                "The force keeps eleven tandem bicycles for seafront patrols during the summer months.\n")
TANDEM = "How many tandem bicycles does the force keep for seafront patrols?"
# The same, as a report of a named force, for the `peelqa serve` tests (here and in test_milvus.py).
DURHAM_FILE = "durham-peel-2017-efficiency.txt"
DURHAM_2017 = ("Durham PEEL 2017\nEfficiency\nHow efficient is the force?\nDurham Constabulary keeps eleven tandem "
               "bicycles for seafront patrols in Seaham during the summer months.\n")
DURHAM_QUESTION = "How many tandem bicycles does Durham Constabulary keep for seafront patrols?"


def service(index, seeds, embedder) -> ChatService:
    return ChatService(index, seeds, qa=QA(Searcher.open(index, embedder=embedder)))


def two_services(folder, embedder) -> tuple[ChatService, ChatService]:
    """Two services (as two replicas would hold) on one index folder, each with its own loaded index."""
    seeds = folder / "seeds"
    seeds.mkdir()
    (seeds / "tiny.txt").write_text(FOUR, encoding="utf-8")
    build_index(seeds, folder / "index", embedder=embedder)
    return service(folder / "index", seeds, embedder), service(folder / "index", seeds, embedder)


@pytest.fixture
def pair(tmp_path, fake_embedder):
    return two_services(tmp_path, fake_embedder)


@pytest.fixture
def still_pair(tmp_path, fake_embedder, monkeypatch):
    """As `pair`, without watcher threads: a test says when a replica looks at the folder (`_follow`)."""
    monkeypatch.setattr(chat.service, "_watch", lambda service: None)
    return two_services(tmp_path, fake_embedder)


def quotes(answer) -> set[str]:
    return {q.passage.document for q in answer.quotes}


def wait_for(condition, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_rebuild_through_one_is_answered_by_the_other_with_no_error_in_between(pair):
    a, b = pair
    assert "harbour-2021.txt" not in quotes(b.ask(TANDEM))
    errors, asked, stop = [], [0], threading.Event()

    def ask_b():
        while not stop.is_set():
            try:
                b.ask(TANDEM)
                b.ask("Who patrols the harbour at night?")
                asked[0] += 2
            except Exception as exc:  # noqa: BLE001 - any error is the failure this test looks for
                errors.append(repr(exc))

    asker = threading.Thread(target=ask_b)
    asker.start()
    try:
        (a.seeds_dir / "harbour-2021.txt").write_text(HARBOUR_2021, encoding="utf-8")
        assert a.rebuild().documents == 2
        assert wait_for(lambda: "harbour-2021.txt" in quotes(b.ask(TANDEM)))  # within a check or so
    finally:
        stop.set()
        asker.join()
    assert errors == [] and asked[0] > 0
    assert "harbour-2021.txt" in {row[4] for row in b.documents()} and b.index_version() == a.index_version()
    assert "tandem bicycles" in b.source("harbour-2021.txt")[0]


def test_a_service_does_not_load_its_own_rebuild_twice(still_pair):
    a, _ = still_pair
    (a.seeds_dir / "harbour-2021.txt").write_text(HARBOUR_2021, encoding="utf-8")
    a.rebuild()
    live = a._qa
    a._follow()  # the watcher's check: this manifest is the one loaded
    assert a._qa is live


def test_a_text_read_after_another_process_swapped_comes_from_the_new_index(still_pair):
    a, b = still_pair  # B has not looked yet: the request itself meets the swapped folder
    old = b._qa
    (a.seeds_dir / "tiny.txt").write_text(FOUR.replace("at night", "at dawn"), encoding="utf-8")
    a.rebuild()
    assert b._qa is old
    with pytest.raises(IndexCorruptError):  # what the old index reads by path is now the new index's file
        old.searcher.data.text_of(b.entry("tiny.txt", old))
    text, _ = b.source("tiny.txt")
    assert "harbour at dawn" in text and b._qa is not old  # switched, then read; never the old text
    assert "at dawn" in b.ask("Who patrols the harbour?").quotes[0].passage.text


def test_an_index_that_cannot_be_loaded_leaves_the_live_one_and_is_tried_again_later(still_pair, caplog):
    a, b = still_pair
    live, manifest = b._qa, a.index_dir / MANIFEST
    good = manifest.read_bytes()
    manifest.write_bytes(b"{not json")  # e.g. another process wrote a broken index
    with caplog.at_level(logging.WARNING, logger="peelqa"):
        b._follow()
        b._follow()  # the same broken manifest: not loaded again before its retry time
    assert b._qa is live and len([r for r in caplog.records if "cannot be loaded" in r.message]) == 1
    assert b.ask("Who patrols the harbour at night?").quotes
    a.index_dir.rename(a.index_dir.with_name("moved"))  # as between the two renames of a swap
    b._follow()
    assert b._qa is live and b.ask("Who patrols the harbour at night?").quotes
    a.index_dir.with_name("moved").rename(a.index_dir)
    manifest.write_bytes(good)
    (a.seeds_dir / "harbour-2021.txt").write_text(HARBOUR_2021, encoding="utf-8")
    a.rebuild()  # a new index: loaded at the next check, whatever the retry time of the broken one
    b._follow()
    assert b._qa is not live and "harbour-2021.txt" in quotes(b.ask(TANDEM))


def test_the_background_check_does_not_take_another_process_rebuild_for_damage(still_pair, monkeypatch):
    monkeypatch.setattr(chat.service, "LIMITS", dataclasses.replace(chat.service.LIMITS, full_check_bytes=0))
    a, b = still_pair  # B still holds the old index when its check reads the folder's new files
    (a.seeds_dir / "tiny.txt").write_text(FOUR.replace("at night", "at dawn"), encoding="utf-8")
    a.rebuild()
    b.verify_in_background().join(timeout=60)
    assert b.damage is None and b.ask("Who patrols the harbour at night?").quotes


def test_a_rebuild_is_refused_by_every_replica_while_another_process_builds(still_pair):
    a, b = still_pair
    with build_lock(a.index_dir):  # held as another process's build holds it
        for replica in (a, b):
            with pytest.raises(BusyError, match="another build"):
                replica.rebuild()
    assert a.rebuild().documents == 1


# ---- two `peelqa serve` processes -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(folder, name: str, env: dict) -> tuple[subprocess.Popen, str]:
    """`peelqa serve` on a free port, its output in a file (a pipe nobody reads would fill and stall it)."""
    port = free_port()
    with open(folder / f"{name}.log", "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "chat", "serve", "--port", str(port), "--index-dir",
                                 str(folder / "index")], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(proc: subprocess.Popen, log_path) -> None:
    if not wait_for(lambda: "chat ready" in log_path.read_text() or proc.poll() is not None, 120):
        proc.kill()
    assert proc.poll() is None, log_path.read_text()


@pytest.mark.model
def test_two_serve_processes_on_one_index_folder(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds / SEED.name)
    env = {**os.environ, "PEELQA_SEEDS_DIR": str(seeds), "PEELQA_API_RATE": "0", "HF_HUB_OFFLINE": "1"}
    env.pop("PEELQA_API_TOKEN", None)
    procs, stop = [], threading.Event()
    try:
        for name in ("one", "two"):  # at once, on no index: one builds it, the other loads it once complete
            procs.append(start_serve(tmp_path, name, env))
        for (proc, _), name in zip(procs, ("one", "two"), strict=True):
            wait_ready(proc, tmp_path / f"{name}.log")
        (_, one), (_, two) = procs
        question = {"question": DURHAM_QUESTION}
        statuses, seen = [], threading.Event()

        def ask_two():  # replica two, asked without pause through the rebuild until it quotes the new report
            with httpx.Client(timeout=60) as client:
                while not stop.is_set() and not seen.is_set():
                    got = client.post(f"{two}/api/ask", json=question)
                    statuses.append(got.status_code)
                    if got.status_code == 200 and any(r["document"] == DURHAM_FILE
                                                      for r in got.json()["results"]):
                        seen.set()

        with build_lock(tmp_path / "index"):  # this test process builds: both replicas refuse
            for url in (one, two):
                got = httpx.post(f"{url}/api/rebuild", timeout=60)
                assert got.status_code == 409 and "another build" in got.json()["error"], got.text
        asker = threading.Thread(target=ask_two, daemon=True)
        asker.start()
        (seeds / DURHAM_FILE).write_text(DURHAM_2017, encoding="utf-8")
        rebuilt = httpx.post(f"{one}/api/rebuild", timeout=120)
        assert rebuilt.status_code == 200 and rebuilt.json()["documents"] == 2, rebuilt.text
        assert seen.wait(30), "replica two never quoted the report replica one indexed"
        stop.set()
        asker.join()
        assert statuses and set(statuses) == {200}
        reports = httpx.get(f"{two}/api/reports", timeout=60).json()
        assert DURHAM_FILE in {r["file"] for r in reports}
    finally:
        stop.set()
        for proc, _ in procs:
            proc.terminate()
        for proc, _ in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_a_replica_with_no_index_says_one_is_being_built(tmp_path):
    from indexer.errors import IndexNotFoundError
    from indexer.store import building

    waiting = ChatService(tmp_path / "index", tmp_path / "seeds", build_if_missing=False)
    with pytest.raises(IndexNotFoundError, match="no index at") as err:
        waiting.ask("How does the force support victims?")
    assert "rebuild" in err.value.fix
    assert not building(tmp_path / "index")
    with build_lock(tmp_path / "index"):  # another replica (here: this test) is building the first index
        assert building(tmp_path / "index")
        with pytest.raises(IndexNotFoundError, match="is being built") as err:
            waiting.ask("How does the force support victims?")
        assert err.value.fix == "ask again when the build is complete"
    assert not building(tmp_path / "index")
