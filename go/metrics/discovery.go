package metrics

// RecordDiscoveryUpdate counts one pod event handled by service discovery
// (sgl_router_discovery_updates_total).
func (m *Metrics) RecordDiscoveryUpdate() {
	if m.off() {
		return
	}
	m.discoveryUpdates.Inc()
}

// RecordDiscoveryAdded counts a worker added by discovery
// (sgl_router_discovery_workers_added).
func (m *Metrics) RecordDiscoveryAdded() {
	if m.off() {
		return
	}
	m.discoveryAdded.Inc()
}

// RecordDiscoveryRemoved counts a worker removed by discovery
// (sgl_router_discovery_workers_removed).
func (m *Metrics) RecordDiscoveryRemoved() {
	if m.off() {
		return
	}
	m.discoveryRemoved.Inc()
}
