"""SIGKILL at random points of a rebuild (a build process, the CLI, and `peelqa serve` rebuilding) never
leaves a mixed, partial or unloadable index, and loses no passage: after every kill the index is the old one
or the new one, complete and matching its checksums; the next build removes whatever the kill left."""

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from indexer.store import read_index, verify_index
from tests.conftest import ROOT, SEED

DRIVER = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from tests.conftest import FakeEmbedder
from indexer.build import build_index
print("ready", flush=True)
build_index(sys.argv[1], sys.argv[2], embedder=FakeEmbedder(max_tokens=256), full=True)
print("done", flush=True)
"""
RNG = random.Random(20261126)


def corpus(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = SEED.read_text(encoding="utf-8")
    for i in range(n):
        (folder / f"force-{i:02d}.txt").write_text(text.replace("Cleveland", f"Force{i:02d}"), encoding="utf-8")


def leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.parent.iterdir()
                  if p.name.startswith(f".{index_dir.name}.") and p.is_dir())


def assert_whole(index_dir: Path, allowed: set[int]) -> int:
    data = read_index(index_dir, full_check=True)
    assert len(data.passages) in allowed and verify_index(index_dir)["ok"]
    return len(data.passages)


def run_and_kill(argv, delay: float) -> float | None:
    """Start `argv`, wait for it to say "ready" (imports done), kill it `delay` s later; the seconds it took
    after "ready" if it finished first, else None."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout.readline().strip() == "ready"
    began = time.perf_counter()
    try:
        proc.wait(timeout=delay)
        return time.perf_counter() - began
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None


def test_killed_build_processes_leave_old_or_new_index(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    corpus(seeds, 8)
    argv = [sys.executable, "-c", DRIVER, str(seeds), str(index)]
    duration = run_and_kill(argv, 300)
    assert duration is not None
    counts = {len(read_index(index).passages)}
    outcomes = []
    for kill in range(14):
        extra = seeds / "extra.txt"
        if kill % 2:
            extra.unlink(missing_ok=True)
        else:
            extra.write_text(f"Extra {kill}\nEffectiveness\nA paragraph added before kill {kill}.\n")
        new = len(read_index(index).passages) + (1 if not kill % 2 else -1)
        finished = run_and_kill(argv, RNG.uniform(0.0, duration))
        now = assert_whole(index, counts | {new})
        outcomes.append("finished" if finished is not None else "new" if now == new else "old")
        counts = {now}
    assert run_and_kill(argv, 300) is not None and leftovers(index) == []
    print("kill outcomes:", outcomes)


@pytest.mark.model
def test_killed_cli_index_leaves_old_or_new_index(tmp_path):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    shutil.copy(SEED, seeds / SEED.name)
    exe = str(Path(sys.executable).with_name("peelqa"))
    argv = [exe, "index", "--full", "--seeds", str(seeds), "--index-dir", str(index)]
    began = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, timeout=300)
    duration = time.perf_counter() - began
    current = 22
    for kill in range(4):
        (seeds / f"added-{kill}.txt").write_text(f"Added {kill}\nEffectiveness\nNew paragraph number {kill}.\n")
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(RNG.uniform(0.3, duration))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        current = assert_whole(index, {current, 23 + kill})
    subprocess.run(argv, check=True, capture_output=True, timeout=300)
    assert len(read_index(index).passages) == 26 and leftovers(index) == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.model
def test_killed_serve_during_rebuild_and_one_log_line_per_user_error(tmp_path, seed_index):
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    shutil.copy(SEED, seeds / SEED.name)
    shutil.copytree(seed_index, index)
    exe = str(Path(sys.executable).with_name("peelqa"))
    env = {**os.environ, "PEELQA_SEEDS_DIR": str(seeds), "PEELQA_INDEX_DIR": str(index)}
    current = 22
    for kill in range(3):
        port = free_port()
        log = tmp_path / f"serve-{kill}.log"
        with open(log, "w") as err:
            proc = subprocess.Popen([exe, "serve", "--port", str(port)], stdout=subprocess.PIPE, stderr=err,
                                    text=True, env=env, cwd=tmp_path)
        try:
            line = proc.stdout.readline()
            assert "chat ready" in line, line + log.read_text()
            url = f"http://127.0.0.1:{port}/gradio_api/call/"
            if kill == 0:
                bad = httpx.post(url + "ask", json={"data": ["", 2]}).json()["event_id"]
                assert "the question is empty" in httpx.get(url + f"ask/{bad}", timeout=30).text
                assert httpx.get(f"http://127.0.0.1:{port}/monitoring").status_code != 200
            (seeds / f"added-{kill}.txt").write_text(f"Added {kill}\nEffectiveness\nNew paragraph {kill}.\n")
            httpx.post(url + "rebuild", json={"data": []}).raise_for_status()
            time.sleep(RNG.uniform(0.0, 2.5))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        current = assert_whole(index, {current, 23 + kill})
        if kill == 0:
            lines = [ln for ln in log.read_text().splitlines() if "question is empty" in ln or "Traceback" in ln]
            assert lines == ["peelqa: WARNING: BadInputError: the question is empty (fix: ask something, e.g. "
                             'peelqa ask "Is the force good at investigating crime?")']
