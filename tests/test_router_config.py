"""The Router class without the library: signature, defaults, the JSON sent to Go."""

import inspect
import json

import pytest

import sglang_router
from sglang_router import PolicyType, Router, _native, _options
from sglang_router.router import build_config
from sglang_router.router_args import RouterArgs

# The original's Router class defaults (they differ from the CLI's).
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
    # v0.1.6 wrote None for "the default" in several places; the signature
    # now shows the default itself (in parentheses in the original's docs).
    "log_dir": None,
    "log_level": "info",
    "service_discovery": False,
    "selector": {},
    "service_discovery_port": 80,
    "service_discovery_namespace": None,
    "prefill_selector": {},
    "decode_selector": {},
    "prometheus_port": 29000,
    "prometheus_host": "127.0.0.1",
    "pd_disaggregation": False,
    "prefill_urls": [],
    "decode_urls": [],
    "request_timeout_secs": 600,
    "bootstrap_port_annotation": "sglang.ai/bootstrap-port",
}

# Keywords beyond the original (new flags, PD policies, json_log).
NEW_KEYWORDS = {
    "prefill_policy", "decode_policy", "api_key", "request_id_headers", "cors_allowed_origins",
    "max_concurrent_requests", "queue_size", "queue_timeout_secs", "retry_max_retries",
    "retry_initial_backoff_ms", "retry_max_backoff_ms", "disable_retries", "cb_failure_threshold",
    "cb_success_threshold", "cb_timeout_duration_secs", "disable_circuit_breaker",
    "health_failure_threshold", "health_success_threshold", "health_check_timeout_secs",
    "json_log", "shutdown_grace_period_secs", "admin_api_key", "client_api_keys", "max_tree_memory_mb",
    "session_header", "decision_headers", "load_poll_interval_ms", "max_answer_insert_bytes",
    "body_read_timeout_secs", "header_read_timeout_secs", "max_buffered_body_bytes", "stall_timeout_secs",
}

# The original 0.2.x line's keywords (its Rust Router's signature) beyond
# v0.1.6's.
KEYWORDS_0_2 = {
    "dp_aware", "api_key", "request_id_headers", "prefill_policy", "decode_policy", "max_concurrent_requests",
    "cors_allowed_origins", "retry_max_retries", "retry_initial_backoff_ms", "retry_max_backoff_ms",
    "retry_backoff_multiplier", "retry_jitter_factor", "disable_retries", "cb_failure_threshold",
    "cb_success_threshold", "cb_timeout_duration_secs", "cb_window_duration_secs",
    "disable_circuit_breaker", "health_failure_threshold", "health_success_threshold",
    "health_check_timeout_secs", "health_check_interval_secs", "health_check_endpoint", "enable_igw",
    "queue_size", "queue_timeout_secs", "rate_limit_tokens_per_second", "model_path", "tokenizer_path",
    "chat_template", "tokenizer_cache_enable_l0", "tokenizer_cache_l0_max_entries",
    "tokenizer_cache_enable_l1", "tokenizer_cache_l1_max_memory", "reasoning_parser",
    "tool_call_parser", "backend", "history_backend", "mcp_config_path", "client_cert_path",
    "client_key_path", "ca_cert_paths", "enable_trace", "otlp_traces_endpoint",
    "bucket_adjust_interval_secs",
}

PARAMS = inspect.signature(Router.__init__).parameters


@pytest.mark.parametrize("name,default", sorted(SPEC_DEFAULTS.items(), key=lambda kv: kv[0]))
def test_spec_default(name, default):
    assert PARAMS[name].default == default


def test_keywords_cover_v016_and_the_02x_line():
    assert {"worker_urls"} | set(SPEC_DEFAULTS) | NEW_KEYWORDS | KEYWORDS_0_2 <= set(PARAMS)


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


def test_config_has_only_what_the_caller_set():
    config = Router(["http://a:1"], PolicyType.Random, port=5, log_dir=None, api_key="k").config
    assert config == {"worker_urls": ["http://a:1"], "policy": "random", "port": 5, "api_key": "k"}
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
    # Unset keywords do not cross at all: Go fills in its defaults.
    assert "log_level" not in config and "prometheus_port" not in config


def test_build_config_leaves_none_out():
    assert build_config({"port": 1, "policy": None, "api_key": "k"}) == {"port": 1, "api_key": "k"}


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
    from sglang_router import sglang_router_rs as nested  # the 0.2.x location

    assert nested.Router is Router and nested.PolicyType is PolicyType


# ----- the defaults come from Go -----


@pytest.mark.native
def test_signature_defaults_are_gos_class_defaults():
    """Every default in Router's signature is Go's config.Defaults(), as Python shows it."""
    spec = _native.spec()["spec"]
    for name, param in PARAMS.items():
        if name in ("self", "worker_urls"):
            continue
        assert param.default == _view(name, spec["defaults"][name]), name


@pytest.mark.native
def test_router_args_defaults_are_gos_cli_defaults():
    spec = _native.spec()["spec"]
    args = RouterArgs()
    for name in spec["cli_defaults"]:
        assert getattr(args, name) == _options.python_value(name, spec["cli_defaults"][name]), name


@pytest.mark.native
def test_installed_spec_file_is_what_the_library_reports():
    """The build wrote _spec.json from the same Go code as the library."""
    assert _options.SPEC == _native.spec()["spec"]


def _view(name, go_value):
    value = _options.python_value(name, go_value)
    return PolicyType(value) if name == "policy" else value
