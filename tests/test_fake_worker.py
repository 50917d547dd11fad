"""The fake SGLang worker itself, so end-to-end tests can trust it. No library needed."""

import http.client as httpclient
import json
from urllib.parse import urlsplit

import pytest
from helpers import get_json, http, post_json


def sse_events(url: str, path: str, payload: dict):
    """POST and return the SSE `data:` payloads, read event by event."""
    parts = urlsplit(url)
    conn = httpclient.HTTPConnection(parts.hostname, parts.port, timeout=5)
    conn.request("POST", path, json.dumps(payload), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "text/event-stream"
    events = []
    for line in resp:
        line = line.decode().strip()
        if line.startswith("data: "):
            events.append(line[len("data: "):])
    conn.close()
    return events


@pytest.mark.parametrize("path", ["/health", "/health_generate"])
def test_health_follows_knob(fake_worker, path):
    w = fake_worker("w1")
    assert http("GET", w.url + path)[0] == 200
    w.knobs.healthy = False
    assert http("GET", w.url + path)[0] == 503


def test_generate_echoes_request_and_names_worker(fake_worker):
    w = fake_worker("w1")
    status, body = post_json(w.url + "/generate", {"text": "hi", "rid": "r1", "lora_path": "x"})
    assert status == 200
    assert body["worker"] == "w1"
    assert body["request"] == {"text": "hi", "rid": "r1", "lora_path": "x"}
    assert body["meta_info"]["id"] == "r1"
    assert w.count("/generate") == 1 and w.served == 1
    assert w.last("/generate").json["text"] == "hi"


def test_logprobs_are_tagged_with_the_worker(fake_worker):
    w = fake_worker("pre")
    _, body = post_json(w.url + "/generate", {"text": "hi", "return_logprob": True})
    assert [x[2] for x in body["meta_info"]["input_token_logprobs"]] == ["pre", "pre"]


@pytest.mark.parametrize("path,obj", [
    ("/v1/chat/completions", "chat.completion"),
    ("/v1/completions", "text_completion"),
])
def test_openai_routes(fake_worker, path, obj):
    w = fake_worker("w2")
    status, body = post_json(w.url + path, {"model": "m", "messages": [{"role": "user", "content": "x"}]})
    assert status == 200 and body["object"] == obj and body["worker"] == "w2"


@pytest.mark.parametrize("path", ["/generate", "/v1/chat/completions", "/v1/completions"])
def test_streams_end_with_done(fake_worker, path):
    w = fake_worker("s", stream_events=4)
    events = sse_events(w.url, path, {"stream": True, "text": "x", "messages": []})
    assert events[-1] == "[DONE]"
    decoded = [json.loads(e) for e in events[:-1]]
    assert all(e["worker"] == "s" for e in decoded)
    assert len(decoded) >= 4


def test_failures_then_recovery(fake_worker):
    w = fake_worker("f", fail_status=503, fail_times=2)
    codes = [post_json(w.url + "/generate", {"text": "x"})[0] for _ in range(3)]
    assert codes == [503, 503, 200]


@pytest.mark.parametrize("path,key", [
    ("/v1/models", "data"),
    ("/get_model_info", "model_path"),
    ("/get_server_info", "worker"),
    ("/get_load", "load"),
])
def test_info_routes(fake_worker, path, key):
    w = fake_worker("i", load=7)
    status, body = get_json(w.url + path)
    assert status == 200 and key in body
    if path == "/get_load":
        assert body["load"] == 7 and body["num_reqs"] == 7


def test_flush_cache_and_unknown_route(fake_worker):
    w = fake_worker()
    assert http("POST", w.url + "/flush_cache")[0] == 200
    assert http("GET", w.url + "/nope")[0] == 404


def test_openai_client_streams_from_fake_worker(fake_worker):
    openai = pytest.importorskip("openai")
    w = fake_worker("oa", stream_events=3)
    client = openai.OpenAI(base_url=w.url + "/v1", api_key="none")
    chunks = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}],
                                            stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "tok0 tok1 tok2 "
    reply = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert reply.choices[0].message.content == "hello from oa"
