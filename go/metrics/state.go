package metrics

// SetActiveWorkers sets the pool size (sgl_router_active_workers).
func (m *Metrics) SetActiveWorkers(n int) {
	if m.off() {
		return
	}
	m.activeWorkers.Set(float64(n))
}

// SetCacheAwareAlone sets whether cache_aware takes this router to be the
// only one in front of its workers (sgl_router_cache_aware_alone).
func (m *Metrics) SetCacheAwareAlone(alone bool) {
	if m.off() {
		return
	}
	v := 0.0
	if alone {
		v = 1
	}
	m.alone.Set(v)
}

// SetLoadRange sets the highest and lowest worker load
// (sgl_router_max_load, sgl_router_min_load).
func (m *Metrics) SetLoadRange(max, min int64) {
	if m.off() {
		return
	}
	m.maxLoad.Set(float64(max))
	m.minLoad.Set(float64(min))
}

// SetRunning sets worker's in-flight request count (sgl_router_running_requests).
func (m *Metrics) SetRunning(worker string, n int64) {
	if m.off() {
		return
	}
	m.running.get(worker).Set(float64(n))
}

// SetWorkerHealth sets sgl_router_worker_health to 1 (healthy) or 0.
func (m *Metrics) SetWorkerHealth(worker string, healthy bool) {
	if m.off() {
		return
	}
	v := 0.0
	if healthy {
		v = 1
	}
	m.health.get(worker).Set(v)
}

// SetWorkerLoad sets worker's load (sgl_router_worker_load).
func (m *Metrics) SetWorkerLoad(worker string, n int64) {
	if m.off() {
		return
	}
	m.load.get(worker).Set(float64(n))
}

// SetTreeSize sets the characters held for worker in the prefix tree
// (sgl_router_tree_size).
func (m *Metrics) SetTreeSize(worker string, n int) {
	if m.off() {
		return
	}
	m.treeSize.get(worker).Set(float64(n))
}

// SetCircuitState sets worker's breaker state (sgl_router_worker_circuit_state):
// CircuitClosed, CircuitOpen, CircuitHalfOpen or CircuitStalled.
func (m *Metrics) SetCircuitState(worker string, state int) {
	if m.off() {
		return
	}
	m.circuit.get(worker).Set(float64(state))
}

// ForgetWorker deletes every series labelled with worker, in every family
// (including policy decisions and the PD families), so a removed worker stops
// being exported. A later call naming the same worker starts its series anew.
func (m *Metrics) ForgetWorker(worker string) {
	if m.off() {
		return
	}
	for _, forget := range m.perWorker {
		forget(worker)
	}
}
