"""The JSON API (/api/*) on the launched app, over plain HTTP: the CLI's JSON, a status for each failure, token
auth, the rate limit, the OpenAPI page, and concurrent questions (also during a rebuild) answered exactly."""

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading

import httpx
import pytest

from chat.api import ApiConfig, RateLimiter
from chat.cli import main as cli
from indexer.errors import BadInputError
from tests.conftest import DEV_QUESTIONS, ROOT, SEED

pytestmark = pytest.mark.model

QUESTION = "Is Cleveland good at investigating crime?"


def launch(folder, seed_index, real_embedder, config):
    """The app over its own copy of the seeds and index (rebuilds change them), as the tests of the chat do."""
    from chat.app import start
    from chat.qa import QA
    from chat.search import Searcher
    from chat.service import ChatService

    (folder / "seeds").mkdir()
    shutil.copy(SEED, folder / "seeds" / SEED.name)
    shutil.copytree(seed_index, folder / "index")
    service = ChatService(folder / "index", folder / "seeds",
                          qa=QA(Searcher.open(folder / "index", embedder=real_embedder)))
    demo, url = start(service, api=config)
    return service, demo, url


@pytest.fixture(scope="module")
def api(tmp_path_factory, seed_index, real_embedder):
    """(service, HTTP client at the app's root, index folder); no rate limit: these tests send many requests."""
    folder = tmp_path_factory.mktemp("api")
    service, demo, url = launch(folder, seed_index, real_embedder, ApiConfig(rate=0))
    with httpx.Client(base_url=url, timeout=120) as client:
        yield service, client, folder / "index"
    demo.close()


def is_error(response, status: int, words: str) -> None:
    """The error shape: exactly `error` (one line, naming `words`) and `fix`, with the expected status."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "fix"} and words in body["error"] and "\n" not in body["error"]


def cli_json(capsys, *args) -> list:
    capsys.readouterr()
    assert cli(list(args)) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_ask_answers_with_exactly_the_cli_json(api, capsys):
    service, client, index = api
    got = client.post("/api/ask", json={"question": QUESTION, "top_k": 3})
    assert got.status_code == 200 and got.headers["content-type"] == "application/json"
    (expected,) = cli_json(capsys, "ask", QUESTION, "--json", "--top-k", "3", "--index-dir", str(index))
    assert got.json() == expected and expected["results"][0]["citation"].endswith("re-offending? › para 3")
    table = client.post("/api/ask", json={"question": "How is Cleveland doing at investigating crime?", "top_k": 1,
                                          "by_report": True}).json()
    (expected,) = cli_json(capsys, "ask", "How is Cleveland doing at investigating crime?", "--json", "--top-k",
                           "1", "--by-report", "--index-dir", str(index))
    assert table == expected and table["by_report"][0]["grade"] == "good"


def test_follow_ups_and_filters_are_the_services(api):
    service, client, _ = api
    body = {"question": "and what about children?", "top_k": 3, "previous": "How does the force respond to "
            "missing people?"}
    got = client.post("/api/ask", json=body).json()
    assert got == service.ask(body["question"], 3, None, body["previous"]).to_dict()
    assert "children" in got["results"][0]["text"]
    none = client.post("/api/ask", json={"question": "harbour patrols", "filters": {"year": [1999]}}).json()
    assert none["results"] == []
    only = client.post("/api/ask", json={"question": "missing children", "filters": {"force": ["Cleveland Police"],
                                                                                     "year": [2016]}}).json()
    assert only["results"] and {r["force"] for r in only["results"]} == {"Cleveland Police"}


def test_reports_is_exactly_the_cli_json(api, capsys):
    _, client, index = api
    got = client.get("/api/reports")
    assert got.status_code == 200
    assert got.json() == cli_json(capsys, "reports", "--json", "--index-dir", str(index))
    assert got.json()[0]["file"] == SEED.name and got.json()[0]["force"] == "Cleveland Police"


@pytest.mark.parametrize(("body", "words"), [
    (b'{"question": "Is the force', "not valid JSON"),
    (b"", "request body"),
    (b"[1, 2]", "request body"),
    (b'{"question": 5}', "question: Input should be a valid string"),
    (b'{"question": "hub", "top_k": "5"}', "top_k"),
    (b'{"question": "hub", "top_k": 51}', "top_k"),
    (b'{"question": "hub", "top_k": 2.5}', "top_k"),
    (b'{"question": "hub", "by_report": "yes"}', "by_report"),
    (b'{"question": "hub", "previous": ["a"]}', "previous"),
    (b'{"question": "hub", "filters": {"colour": ["red"]}}', "filters.colour"),
    (b'{"question": "hub", "filters": {"year": ["2016"]}}', "filters.year"),
    (b'{"question": "hub", "filters": {"year": [-5]}}', "filters.year.0"),  # not dropped: that filtered nothing
    (b'{"question": "hub", "colour": 1}', "colour"),
    (b'{"question": "   "}', "the question is empty"),
    (json.dumps({"question": "x" * 2_001}).encode(), "2,001 characters long; the limit is 2,000"),
    (json.dumps({"question": "hub", "previous": "y" * 2_001}).encode(), "previous question is 2,001"),
    (b'{"question": "\\ud800 lone surrogate"}', "not valid UTF-8"),
])
def test_bad_input_is_400_in_one_line(api, body, words):
    _, client, _ = api
    is_error(client.post("/api/ask", content=body, headers={"content-type": "application/json"}), 400, words)


def test_a_body_over_the_limit_is_413_unread(api):
    _, client, _ = api
    is_error(client.post("/api/ask", json={"question": "x" * 300_000}), 413, "the limit is 256 KiB")
    chunks = (b"x" * 10_000 for _ in range(40))  # no Content-Length: refused once it passes the limit
    is_error(client.post("/api/ask", content=chunks, headers={"content-type": "application/json"}), 413, "limit")


def test_rebuild_gives_the_summary_and_409_while_one_runs(api):
    service, client, _ = api
    with service._exclusive():  # what a running rebuild holds
        is_error(client.post("/api/rebuild"), 409, "already running")
        assert client.post("/api/ask", json={"question": QUESTION}).status_code == 200  # asks go on
    summary = client.post("/api/rebuild").json()
    assert summary["documents"] == 1 and summary["embedded"] == 0 and summary["notes"] == ["the index is up to date"]


def test_a_damaged_index_is_503_with_its_fix(api):
    from indexer.errors import REPAIR, IndexCorruptError

    service, client, _ = api
    service.damage = IndexCorruptError("index at x is damaged (words.json: its SHA-256 differs)", fix=REPAIR)
    try:
        got = client.post("/api/ask", json={"question": QUESTION})
    finally:
        service.damage = None
    is_error(got, 503, "words.json")
    assert got.json()["fix"] == REPAIR and "(fix:" not in got.json()["error"]


def test_openapi_lists_the_routes_and_gradio_keeps_its_own(api):
    _, client, _ = api
    schema = client.get("/api/openapi.json").json()
    assert {path: set(ops) for path, ops in schema["paths"].items()} == {
        "/ask": {"post"}, "/reports": {"get"}, "/rebuild": {"post"}}
    assert schema["servers"] == [{"url": "/api"}]
    assert set(schema["paths"]["/ask"]["post"]["responses"]) >= {"200", "400", "503"}
    assert "409" in schema["paths"]["/rebuild"]["post"]["responses"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text
    wrong = client.get("/api/ask")
    is_error(wrong, 405, "Method Not Allowed")
    assert wrong.headers["allow"] == "POST"
    is_error(client.get("/api/nothing"), 404, "Not Found")
    assert client.get("/gradio_api/info").status_code == 200 and client.get("/").status_code == 200


def test_gradio_ask_and_api_ask_agree(api):
    from gradio_client import Client

    _, client, _ = api
    gradio = Client(str(client.base_url), verbose=False)
    body = {"question": "why?", "top_k": 2, "previous": "Which outcome category is the force an outlier for?"}
    assert gradio.predict(body["question"], 2, body["previous"], api_name="/ask") == client.post(
        "/api/ask", json=body).json()


def questions(n: int) -> list[str]:
    lines = DEV_QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:n]


def test_concurrent_asks_get_the_serial_answers(api):
    _, client, _ = api
    asked = questions(12)
    serial = {q: client.post("/api/ask", json={"question": q}).json() for q in asked}
    failures, seen = [], []

    def user(seed: int) -> None:
        order = random.Random(seed).sample(asked, len(asked))
        with httpx.Client(base_url=client.base_url, timeout=120) as own:
            for q in order:
                got = own.post("/api/ask", json={"question": q})
                seen.append(q)
                if got.status_code != 200 or got.json() != serial[q]:
                    failures.append((q, got.status_code, got.text[:200]))

    threads = [threading.Thread(target=user, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [] and len(seen) == 8 * len(asked)


def test_asks_during_a_rebuild_get_the_old_or_the_new_answer(tmp_path, seed_index, real_embedder):
    service, demo, url = launch(tmp_path, seed_index, real_embedder, ApiConfig(rate=0))
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            before = client.post("/api/ask", json={"question": "lighthouse keepers"}).json()
            (tmp_path / "seeds" / "more.md").write_text("# More\n\nLighthouse keepers report to the force.\n")
            rebuilt, answers, failures = [], [], []

            def rebuild() -> None:
                rebuilt.append(client.post("/api/rebuild"))

            def user() -> None:  # asks all through the rebuild, and a few times after it
                with httpx.Client(base_url=url, timeout=120) as own:
                    after_it = 0
                    while after_it < 3:
                        after_it += bool(rebuilt)
                        got = own.post("/api/ask", json={"question": "lighthouse keepers"})
                        if got.status_code != 200:
                            failures.append(got.text)
                            continue
                        answers.append(got.json())

            threads = [threading.Thread(target=rebuild), *(threading.Thread(target=user) for _ in range(3))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert rebuilt[0].status_code == 200 and rebuilt[0].json()["embedded"] == 1
            after = client.post("/api/ask", json={"question": "lighthouse keepers"}).json()
            assert after["results"][0]["document"] == "more.md" != before["results"][0]["document"]
            assert failures == [] and before in answers and after in answers
            assert all(a in (before, after) for a in answers)
    finally:
        demo.close()


def test_token_and_rate_limit(tmp_path, seed_index, real_embedder):
    # Three requests at once, then one every 10 s: the fourth within the test is refused.
    service, demo, url = launch(tmp_path, seed_index, real_embedder, ApiConfig("s3cret-token", rate=0.1, burst=3))
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            missing = client.get("/api/reports")
            is_error(missing, 401, "needs its token")
            assert missing.headers["www-authenticate"] == "Bearer"
            is_error(client.get("/api/reports", headers={"Authorization": "Bearer s3cret-tokeN"}), 401, "token")
            right = {"Authorization": "Bearer s3cret-token"}
            assert client.get("/api/reports", headers=right).status_code == 200
            limited = client.get("/api/reports", headers=right)
            is_error(limited, 429, "too many requests from 127.0.0.1")
            assert 1 <= int(limited.headers["retry-after"]) <= 10
            schema = client.get("/api/openapi.json")  # the documentation holds no data: open
            assert schema.status_code == 200 and "HTTPBearer" in schema.json()["components"]["securitySchemes"]
    finally:
        demo.close()


def test_the_rate_limit_and_the_token_come_before_the_body_is_read():
    from fastapi.testclient import TestClient

    from chat.api import Gate, build_api

    class Unreachable:
        def __getattr__(self, name):
            raise AssertionError(f"the service was reached: {name}")

    config = ApiConfig("s3cret-token", rate=0.1, burst=4)
    client = TestClient(Gate(build_api(Unreachable(), config), config, 1_000))
    json_type = {"content-type": "application/json"}
    is_error(client.post("/ask", content=b'{"question": ', headers=json_type), 401, "needs its token")
    is_error(client.post("/ask", content=b"x" * 5_000, headers=json_type), 401, "needs its token")
    right = {**json_type, "Authorization": "Bearer s3cret-token"}
    is_error(client.post("/ask", content=b'{"question": ', headers=right), 400, "not valid JSON")
    is_error(client.post("/ask", content=b"x" * 5_000, headers=right), 413, "limit")
    is_error(client.post("/ask", content=b'{"question": ', headers=right), 429, "too many requests")
    assert client.get("/openapi.json").status_code == 200 and client.get("/docs").status_code == 200


def test_no_index_is_503_until_one_appears(tmp_path, seed_index):
    from chat.app import start
    from chat.service import ChatService

    (tmp_path / "index").mkdir()
    (tmp_path / "seeds").mkdir()
    service = ChatService(tmp_path / "index", tmp_path / "seeds", build_if_missing=False)
    demo, url = start(service, api=ApiConfig(rate=0))
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            is_error(client.post("/api/ask", json={"question": QUESTION}), 503, f"no index at {tmp_path / 'index'}")
            is_error(client.get("/api/reports"), 503, "no index")
            is_error(client.post("/api/rebuild"), 503, "no reports")
            assert client.get("/").status_code == 200  # the chat opens, saying nothing is indexed
            shutil.copytree(seed_index, tmp_path / "index", dirs_exist_ok=True)  # e.g. `peelqa index` elsewhere
            got = client.post("/api/ask", json={"question": QUESTION})
            assert got.status_code == 200 and got.json()["answered"]
    finally:
        demo.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_with_no_index_and_reads_the_token_from_the_environment(tmp_path):
    port = free_port()
    env = {**os.environ, "PEELQA_SEEDS_DIR": str(tmp_path / "seeds"), "PEELQA_API_TOKEN": "t0ken"}
    proc = subprocess.Popen([sys.executable, "-m", "chat", "serve", "--port", str(port), "--index-dir",
                             str(tmp_path / "index")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, cwd=ROOT)
    deadline = threading.Timer(120, proc.kill)  # a server that never says it is ready fails the test, not hangs it
    deadline.start()
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "chat ready" in line:
                break
        assert any("starting with no index" in line for line in lines), lines
        url = f"http://127.0.0.1:{port}"
        is_error(httpx.get(f"{url}/api/reports"), 401, "token")
        is_error(httpx.get(f"{url}/api/reports", headers={"Authorization": "Bearer t0ken"}), 503, "no index")
    finally:
        deadline.cancel()
        proc.terminate()
        proc.wait(timeout=30)


def test_config_from_the_environment():
    assert ApiConfig.from_env({}) == ApiConfig(None, 20.0, 40.0)
    assert ApiConfig.from_env({"PEELQA_API_TOKEN": " abc ", "PEELQA_API_RATE": "0"}) == ApiConfig("abc", 0.0, 1.0)
    assert ApiConfig.from_env({"PEELQA_API_RATE": "5"}).burst == 10
    for env in ({"PEELQA_API_RATE": "fast"}, {"PEELQA_API_RATE": "-1"}, {"PEELQA_API_RATE": "nan"},
                {"PEELQA_API_TOKEN": "clé"}, {"PEELQA_API_TOKEN": ""}, {"PEELQA_API_TOKEN": "  "}):
        with pytest.raises(BadInputError):
            ApiConfig.from_env(env)


def test_rate_limiter_buckets_refill_per_client_and_idle_ones_are_forgotten(monkeypatch):
    now = [100.0]
    limiter = RateLimiter(rate=2, burst=3, clock=lambda: now[0])
    assert [limiter.wait("a") for _ in range(4)] == [0, 0, 0, 1]
    assert limiter.wait("b") == 0  # another client has its own bucket
    now[0] += 0.5  # one request's worth back
    assert limiter.wait("a") == 0 and limiter.wait("a") == 1
    assert RateLimiter(rate=0.1, burst=1, clock=lambda: now[0]).wait("c") == 0
    monkeypatch.setattr("chat.api.LIMITS", type("L", (), {"api_clients": 1})())
    now[0] += 10  # every bucket full again: forgotten when the table is over its size
    limiter.wait("c")
    assert set(limiter._buckets) == {"c"}
    assert RateLimiter(rate=0, burst=0).wait("a") == 0  # off
