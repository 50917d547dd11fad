"""Every SGLang route through the router, and one router for several
models: the official openai and anthropic clients against the router in
front of simulated SGLang servers."""

import anthropic
import openai
import pytest
import requests

from helpers import wait_until
from sglang_router import Router
from sglang_router.simulate import Simulator

pytestmark = pytest.mark.native


@pytest.fixture
def two_models(free_port):
    """A router over four simulated servers, two of model alpha and two of
    beta (server i serves models[i % 2]); yields (base_url, simulator)."""
    sim = Simulator(time_scale=0, workers=4, models=["alpha", "beta"]).serve_in_background()
    router = Router(worker_urls=sim.urls, port=free_port(), prometheus_port=free_port(),
                    worker_startup_check_interval=1, policy="cache_aware")
    with router.serve_in_background() as r:
        def learned():
            ids = [m["id"] for m in requests.get(r.url + "/v1/models", timeout=2).json().get("data", [])]
            return ids == ["alpha", "beta"]
        assert wait_until(learned, timeout=15), "the router never learned both models"
        yield r.url, sim
    sim.stop()


def _served(sim):
    """Requests handled per model."""
    by_model = {"alpha": 0, "beta": 0}
    for i, s in enumerate(sim.stats()):
        by_model[["alpha", "beta"][i % 2]] += s["requests"]
    return by_model


def test_openai_chat_and_responses_go_to_their_model(two_models):
    base, sim = two_models
    client = openai.OpenAI(base_url=base + "/v1", api_key="unused")
    chat = client.chat.completions.create(model="alpha", max_tokens=3,
                                          messages=[{"role": "user", "content": "hello"}])
    assert chat.choices[0].message.content
    resp = client.responses.create(model="beta", input="tell me", max_output_tokens=3)
    assert resp.id.startswith("resp_") and resp.output_text
    assert _served(sim) == {"alpha": 1, "beta": 1}

    events = list(client.responses.create(model="beta", input="stream it", max_output_tokens=3, stream=True))
    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == events[-1].response.output_text
    assert _served(sim) == {"alpha": 1, "beta": 2}

    # The stored response is fetched from the server that made it.
    assert client.responses.retrieve(resp.id).id == resp.id


def test_openai_embeddings(two_models):
    base, _ = two_models
    client = openai.OpenAI(base_url=base + "/v1", api_key="unused")
    out = client.embeddings.create(model="alpha", input=["one", "two"])
    assert [d.index for d in out.data] == [0, 1]
    assert all(len(d.embedding) == 8 for d in out.data)


def test_anthropic_messages_plain_and_streamed(two_models):
    base, sim = two_models
    client = anthropic.Anthropic(base_url=base, api_key="unused")
    msg = client.messages.create(model="alpha", max_tokens=3, system="be brief",
                                 messages=[{"role": "user", "content": "hi"}])
    assert msg.type == "message" and msg.content[0].text
    with client.messages.stream(model="beta", max_tokens=3,
                                messages=[{"role": "user", "content": "stream"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.content[0].text == text
    assert _served(sim) == {"alpha": 1, "beta": 1}


def test_unknown_model_is_openai_404(two_models):
    base, _ = two_models
    client = openai.OpenAI(base_url=base + "/v1", api_key="unused")
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gamma", messages=[{"role": "user", "content": "x"}])
    assert err.value.body["code"] == "model_not_found"


def test_models_list_names_each_model_with_its_workers(two_models):
    base, sim = two_models
    models = requests.get(base + "/v1/models").json()["data"]
    assert [m["id"] for m in models] == ["alpha", "beta"]
    assert sorted(w["url"] for w in models[0]["workers"]) == sorted(sim.urls[0::2])
    assert all(w["healthy"] for m in models for w in m["workers"])


def test_native_routes_are_forwarded(two_models):
    base, _ = two_models
    tok = requests.post(base + "/tokenize", json={"model": "alpha", "prompt": "a b c"})
    assert tok.status_code == 200 and tok.json()["count"] == 3
    detok = requests.post(base + "/detokenize", json={"model": "alpha", "tokens": [1, 2]})
    assert detok.json() == {"text": "t1 t2"}
    rerank = requests.post(base + "/v1/rerank", json={"model": "beta", "query": "q", "documents": ["a", "b"]})
    assert rerank.status_code == 200 and len(rerank.json()) == 2
    assert requests.post(base + "/abort_request", json={"rid": "nothing-running"}).status_code == 200
    assert requests.post(base + "/no_such_route", json={}).status_code == 404
