package metrics

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// samples gathers m's sgl_router_* series as "name{k="v",...}" -> value.
// Histograms contribute name_count{...} and name_sum{...}.
func samples(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, mf := range gather(t, m) {
		for _, s := range mf.GetMetric() {
			labels := labelString(s.GetLabel())
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[mf.GetName()+labels] = s.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[mf.GetName()+labels] = s.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[mf.GetName()+"_count"+labels] = float64(s.GetHistogram().GetSampleCount())
				out[mf.GetName()+"_sum"+labels] = s.GetHistogram().GetSampleSum()
			default:
				t.Fatalf("unexpected type %v for %s", mf.GetType(), mf.GetName())
			}
		}
	}
	return out
}

// gather returns m's sgl_router_* families by name.
func gather(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "sgl_router_") {
			out[mf.GetName()] = mf
		}
	}
	return out
}

func labelString(pairs []*dto.LabelPair) string {
	if len(pairs) == 0 {
		return ""
	}
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = fmt.Sprintf("%s=%q", p.GetName(), p.GetValue())
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// diff reports every key whose value differs between got and want.
func diff(t *testing.T, got, want map[string]float64) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			t.Errorf("missing %s (want %v)", k, w)
		case !wok:
			t.Errorf("unexpected %s = %v", k, g)
		case g != w:
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
}

// callEvery calls every Record*/Set* method once with worker "w".
func callEvery(m *Metrics) {
	m.RecordRequest("/generate", time.Second)
	m.RecordModelRequest("m", time.Second)
	m.RecordError("/generate", "upstream")
	m.RecordRetry("/generate")
	m.RecordTTFT("/generate", time.Second)
	m.RecordGenerate(time.Second)
	m.RecordProcessed("w")
	m.RecordPolicyDecision("round_robin", "w")
	m.RecordRoutingDecision("cache_hit")
	m.CacheHit("w")
	m.CacheMiss("w")
	m.LoadImbalanced()
	m.RecordAnswer(true)
	m.SetCacheAwareAlone(true)
	m.SetActiveWorkers(1)
	m.SetLoadRange(3, 1)
	m.SetRunning("w", 1)
	m.SetWorkerHealth("w", true)
	m.SetWorkerLoad("w", 1)
	m.SetTreeSize("w", 1)
	m.SetCircuitState("w", CircuitOpen)
	m.RecordPDRequest("/generate", time.Second)
	m.RecordPDPrefill("w")
	m.RecordPDDecode("w")
	m.RecordPDError("timeout")
	m.RecordPDPrefillError("w")
	m.RecordPDDecodeError("w")
	m.RecordPDStreamError("w")
	m.RecordDiscoveryUpdate()
	m.RecordDiscoveryAdded()
	m.RecordDiscoveryRemoved()
}
