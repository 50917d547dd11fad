package metrics

import "github.com/prometheus/client_golang/prometheus"

// builder creates collectors and registers them on one registry; a duplicate
// name is a programming error and panics at construction.
type builder struct{ reg *prometheus.Registry }

func (b builder) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	b.reg.MustRegister(c)
	return c
}

func (b builder) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	b.reg.MustRegister(g)
	return g
}

func (b builder) histogram(name, help string) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: DurationBuckets()})
	b.reg.MustRegister(h)
	return h
}

func (b builder) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	b.reg.MustRegister(v)
	return v
}

func (b builder) histogramVec(name, help string, label string) *prometheus.HistogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: DurationBuckets()},
		[]string{label})
	b.reg.MustRegister(v)
	return v
}

// counters is a one-label counter family behind a child cache.
func (b builder) counters(name, help, label string) *series[string, prometheus.Counter] {
	v := b.counterVec(name, help, label)
	return newSeries(
		func(l string) prometheus.Counter { return v.WithLabelValues(l) },
		func(l string) { v.DeleteLabelValues(l) })
}

// counterPairs is a two-label counter family behind a child cache.
func (b builder) counterPairs(name, help, label1, label2 string) *series[labelPair, prometheus.Counter] {
	v := b.counterVec(name, help, label1, label2)
	return newSeries(
		func(k labelPair) prometheus.Counter { return v.WithLabelValues(k.a, k.b) },
		func(k labelPair) { v.DeleteLabelValues(k.a, k.b) })
}

// gauges is a one-label gauge family behind a child cache.
func (b builder) gauges(name, help, label string) *series[string, prometheus.Gauge] {
	v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{label})
	b.reg.MustRegister(v)
	return newSeries(
		func(l string) prometheus.Gauge { return v.WithLabelValues(l) },
		func(l string) { v.DeleteLabelValues(l) })
}

// histograms is a one-label histogram family behind a child cache.
func (b builder) histograms(name, help, label string) *series[string, prometheus.Observer] {
	v := b.histogramVec(name, help, label)
	return newSeries(
		func(l string) prometheus.Observer { return v.WithLabelValues(l) },
		func(l string) { v.DeleteLabelValues(l) })
}

// timed is a route-labelled counter and duration histogram sharing one cache.
func (b builder) timed(countName, durName, countHelp, durHelp string) *series[string, timedCounter] {
	return b.timedBy("route", countName, durName, countHelp, durHelp)
}

// timedBy is timed with another label.
func (b builder) timedBy(label, countName, durName, countHelp, durHelp string) *series[string, timedCounter] {
	c := b.counterVec(countName, countHelp, label)
	h := b.histogramVec(durName, durHelp, label)
	return newSeries(
		func(r string) timedCounter {
			return timedCounter{count: c.WithLabelValues(r), duration: h.WithLabelValues(r)}
		},
		func(r string) { c.DeleteLabelValues(r); h.DeleteLabelValues(r) })
}
