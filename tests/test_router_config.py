"""The Router class without the library: signature, defaults, the JSON sent to Go."""

import inspect
import json
import os
import re

import pytest

import sglang_router
from sglang_router import PolicyType, Router
from sglang_router.router import build_config

# SPEC section 1: the class defaults (they differ from the CLI's).
SPEC_DEFAULTS = {
    "policy": PolicyType.RoundRobin,
    "host": "127.0.0.1",
    "port": 3001,
    "worker_startup_timeout_secs": 300,
    "worker_startup_check_interval": 10,
    "cache_threshold": 0.50,
    "balance_abs_threshold": 32,
    "balance_rel_threshold": 1.0001,
    "eviction_interval_secs": 60,
    "max_tree_size": 2**24,
    "max_payload_size": 256 * 1024 * 1024,
    "log_dir": None,
    "log_level": None,
    "service_discovery": False,
    "selector": None,
    "service_discovery_port": 80,
    "service_discovery_namespace": None,
    "prefill_selector": None,
    "decode_selector": None,
    "prometheus_port": None,
    "prometheus_host": None,
    "pd_disaggregation": False,
    "prefill_urls": None,
    "decode_urls": None,
    "request_timeout_secs": 600,
    "bootstrap_port_annotation": "sglang.ai/bootstrap-port",
}

# Keywords beyond the original (SPEC section 2 "new flags", PD policies, json_log).
NEW_KEYWORDS = {
    "prefill_policy", "decode_policy", "api_key", "request_id_headers", "cors_allowed_origins",
    "max_concurrent_requests", "queue_size", "queue_timeout_secs", "retry_max_retries",
    "retry_initial_backoff_ms", "retry_max_backoff_ms", "disable_retries", "cb_failure_threshold",
    "cb_success_threshold", "cb_timeout_duration_secs", "disable_circuit_breaker",
    "health_failure_threshold", "health_success_threshold", "health_check_timeout_secs",
    "json_log", "shutdown_grace_period_secs", "admin_api_key", "client_api_keys", "max_tree_memory_mb",
}

PARAMS = inspect.signature(Router.__init__).parameters


@pytest.mark.parametrize("name,default", sorted(SPEC_DEFAULTS.items(), key=lambda kv: kv[0]))
def test_spec_default(name, default):
    assert PARAMS[name].default == default


def test_keywords_are_spec_plus_new_ones():
    assert set(PARAMS) - {"self"} == {"worker_urls"} | set(SPEC_DEFAULTS) | NEW_KEYWORDS


def test_spec_keywords_keep_positional_order():
    names = list(PARAMS)[1:]
    assert names[:4] == ["worker_urls", "policy", "host", "port"]
    for name in NEW_KEYWORDS:
        assert PARAMS[name].kind is inspect.Parameter.KEYWORD_ONLY


def test_worker_urls_is_required():
    with pytest.raises(TypeError):
        Router()


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="no_such_option"):
        Router(worker_urls=[], no_such_option=1)


def test_worker_urls_as_a_string_is_a_type_error():
    with pytest.raises(TypeError, match="worker_urls"):
        Router(worker_urls="http://a:1")


def test_config_has_one_key_per_keyword_and_is_json():
    config = Router(worker_urls=["http://a:1"]).config
    assert set(config) == set(PARAMS) - {"self"}
    assert json.loads(json.dumps(config)) == config


def test_config_maps_types_for_go():
    config = Router(
        worker_urls=("http://a:1", "http://b:2"),
        policy=PolicyType.CacheAware,
        prefill_policy="random",
        decode_policy=PolicyType.PowerOfTwo,
        pd_disaggregation=True,
        prefill_urls=[("http://p:1", 8001), ("http://p:2", None), "http://p:3"],
        decode_urls=["http://d:1"],
        selector={"app": "sglang"},
        request_id_headers=("x-rid",),
    ).config
    assert config["worker_urls"] == ["http://a:1", "http://b:2"]
    assert config["policy"] == "cache_aware"
    assert config["prefill_policy"] == "random"
    assert config["decode_policy"] == "power_of_two"
    assert config["prefill_urls"] == [["http://p:1", 8001], ["http://p:2", None], ["http://p:3", None]]
    assert config["decode_urls"] == ["http://d:1"]
    assert config["selector"] == {"app": "sglang"}
    assert config["request_id_headers"] == ["x-rid"]
    # None crosses as null: Go keeps its default.
    assert config["log_level"] is None and config["prometheus_port"] is None


def test_build_config_passes_other_values_through():
    assert build_config({"port": 1, "policy": None, "api_key": "k"}) == {
        "port": 1, "policy": None, "api_key": "k"}


def test_policy_of_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="policy"):
        Router(worker_urls=[], policy=3)


def test_policy_type_members():
    assert {m.name: m.value for m in PolicyType} == {
        "Random": "random", "RoundRobin": "round_robin",
        "CacheAware": "cache_aware", "PowerOfTwo": "power_of_two"}


def test_not_running_router():
    r = Router(worker_urls=[])
    assert (r.running, r.address, r.url, r.metrics_address) == (False, None, None, None)
    r.stop()  # no-op
    assert r.wait(0.01) is True
    with pytest.raises(RuntimeError, match="not running"):
        r.list_workers()


def test_package_exports_and_alias_module():
    import sglang_router_rs

    assert sglang_router.__version__ == "0.2.0"
    assert sglang_router_rs.Router is Router
    assert sglang_router_rs.PolicyType is PolicyType
    assert set(sglang_router.__all__) == {"Router", "PolicyType", "__version__"}


# ----- drift guard: the Python defaults against go/config/config.go -----

GO_CONFIG = os.path.join(os.path.dirname(__file__), "..", "go", "config", "config.go")


def _go_config():
    """(json tag -> Go type, json tag -> default) read from config.go's source."""
    src = open(GO_CONFIG).read()
    consts = dict(re.findall(r'^\s*(\w+)\s*=\s*"([^"]*)"', src, re.MULTILINE))
    fields = re.findall(r'^\s*(\w+)\s+(\S+)\s+`json:"(\w+)"`', src, re.MULTILINE)
    types = {tag: typ for _, typ, tag in fields}
    tag_of = {name: tag for name, _, tag in fields}
    body = src[src.index("func Defaults() Config"):]
    body = body[: body.index("\n}\n")]
    defaults = {}
    for name, expr in re.findall(r"^\s*(\w+):\s+(.+),$", body, re.MULTILINE):
        defaults[tag_of[name]] = _go_value(expr.strip(), consts)
    return types, defaults


def _go_value(expr, consts):
    if expr in consts:
        return consts[expr]
    if expr.startswith("[]string{"):
        return re.findall(r'"([^"]*)"', expr)
    return eval(expr.replace("true", "True").replace("false", "False"), {})  # literals only


ZERO = {"int": 0, "int64": 0, "float64": 0.0, "bool": False, "string": ""}


@pytest.mark.skipif(not os.path.exists(GO_CONFIG), reason="Go sources not present")
def test_every_keyword_is_a_go_config_key():
    types, _ = _go_config()
    internal = {"disable_metrics"}  # Go-only knob for the benchmark
    assert set(PARAMS) - {"self"} == set(types) - internal


@pytest.mark.skipif(not os.path.exists(GO_CONFIG), reason="Go sources not present")
@pytest.mark.parametrize("name", sorted(set(PARAMS) - {"self", "worker_urls"}))
def test_python_default_matches_go_default(name):
    """None means "Go's default"; any other Python default must equal Go's."""
    types, defaults = _go_config()
    py = PARAMS[name].default
    if isinstance(py, PolicyType):
        py = py.value
    if py is None:
        return
    go = defaults.get(name, ZERO.get(types[name]))
    assert py == go, f"{name}: Python default {py!r} != Go default {go!r}"
