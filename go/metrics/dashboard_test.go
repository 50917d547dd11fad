package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// The Grafana dashboard shipped in deploy/grafana must only query families
// this package exports, and show every one of them: a renamed or added family
// fails here until the dashboard follows. Whether the PromQL itself is valid
// is checked against a real Prometheus in go/app (TestRealPrometheusScrapesTheRouter).

// dashboardPath is deploy/grafana's dashboard, from this package's folder.
const dashboardPath = "../../deploy/grafana/sglang-router.json"

// dashboard is the part of Grafana's JSON model the tests look at.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []templateVar `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int      `json:"id"`
	Type       string   `json:"type"`
	Title      string   `json:"title"`
	Datasource *dsRef   `json:"datasource"`
	GridPos    gridPos  `json:"gridPos"`
	Targets    []target `json:"targets"`
	Panels     []panel  `json:"panels"` // the panels of a collapsed row
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type gridPos struct{ X, Y, W, H int }

type target struct {
	RefID      string `json:"refId"`
	Expr       string `json:"expr"`
	Datasource *dsRef `json:"datasource"`
}

type templateVar struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("%s is not valid JSON", dashboardPath)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	return d
}

// allPanels flattens rows: top-level panels and those inside collapsed rows.
func (d dashboard) allPanels() []panel {
	var out []panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

// queries returns every PromQL text of the dashboard, panel targets and
// template variable definitions alike, keyed by where it comes from.
func (d dashboard) queries() map[string]string {
	out := map[string]string{}
	for _, p := range d.allPanels() {
		for _, tg := range p.Targets {
			out[p.Title+"/"+tg.RefID] = tg.Expr
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			out["variable "+v.Name] = v.Definition
		}
	}
	return out
}

var metricName = regexp.MustCompile(`\bsgl_router_[a-zA-Z0-9_:]*`)

// metricNames returns the sgl_router_* names an expression mentions, as written.
func metricNames(expr string) []string {
	names := metricName.FindAllString(expr, -1)
	slices.Sort(names)
	return slices.Compact(names)
}

// family maps a queried name to the exported family it belongs to: the name
// itself, or a histogram's name for its _bucket, _sum and _count series.
func family(name string, exported map[string]*dto.MetricFamily) (string, bool) {
	if _, ok := exported[name]; ok {
		return name, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, cut := strings.CutSuffix(name, suffix)
		if mf, ok := exported[base]; cut && ok && mf.GetType() == dto.MetricType_HISTOGRAM {
			return base, true
		}
	}
	return "", false
}

// exportedFamilies gathers every sgl_router_* family, with one of everything
// recorded so labelled families appear.
func exportedFamilies(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	m := New(true)
	callEvery(m)
	return gather(t, m)
}

func TestMetricNamesAndFamilies(t *testing.T) {
	exported := exportedFamilies(t)
	cases := []struct {
		name, expr string
		want       []string // families; "" marks a name that is not exported
	}{
		{"counter in rate", `sum by (route) (rate(sgl_router_requests_total{route="/generate"}[5m]))`, []string{"sgl_router_requests_total"}},
		{"histogram bucket", `histogram_quantile(0.9, sum by (le) (rate(sgl_router_request_duration_seconds_bucket[1m])))`, []string{"sgl_router_request_duration_seconds"}},
		{"histogram count and sum", `sgl_router_time_to_first_token_seconds_sum / sgl_router_time_to_first_token_seconds_count`, []string{"sgl_router_time_to_first_token_seconds", "sgl_router_time_to_first_token_seconds"}},
		{"gauge and ratio", `sgl_router_cache_hits_total / (sgl_router_cache_hits_total + sgl_router_cache_misses_total) + sgl_router_max_load`, []string{"sgl_router_cache_hits_total", "sgl_router_cache_misses_total", "sgl_router_max_load"}},
		{"suffix on a counter is not a family", `sgl_router_retries_total_count`, []string{""}},
		{"unknown name", `sgl_router_made_up`, []string{""}},
		{"other prefixes ignored", `go_goroutines + process_cpu_seconds_total`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, n := range metricNames(tc.expr) {
				f, _ := family(n, exported)
				got = append(got, f)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("families of %q = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}

func TestDashboardQueriesOnlyExportedFamilies(t *testing.T) {
	exported := exportedFamilies(t)
	for where, expr := range loadDashboard(t).queries() {
		for _, n := range metricNames(expr) {
			if _, ok := family(n, exported); !ok {
				t.Errorf("%s queries %s, which the router does not export", where, n)
			}
		}
	}
}

func TestDashboardShowsEveryFamily(t *testing.T) {
	exported := exportedFamilies(t)
	shown := map[string]bool{}
	for _, expr := range loadDashboard(t).queries() {
		for _, n := range metricNames(expr) {
			if f, ok := family(n, exported); ok {
				shown[f] = true
			}
		}
	}
	var missing []string
	for name := range exported {
		if !shown[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no dashboard panel shows %q; add one to %s", missing, dashboardPath)
	}
}

func TestDashboardIsWellFormed(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("dashboard uid %q, title %q: both are needed for a stable import", d.UID, d.Title)
	}
	dsVars := datasourceVariables(d)
	if len(dsVars) == 0 {
		t.Fatal("no datasource template variable: the dashboard would be bound to one Prometheus")
	}
	ids := map[int]string{}
	var placed []panel
	for _, p := range d.allPanels() {
		if other, dup := ids[p.ID]; dup || p.ID <= 0 {
			t.Errorf("panel %q has id %d, already used by %q (or not positive)", p.Title, p.ID, other)
		}
		ids[p.ID] = p.Title
		checkGrid(t, p, placed)
		placed = append(placed, p)
		if p.Type != "row" {
			checkQueries(t, p, dsVars)
		}
	}
}

// datasourceVariables returns the ways a panel may name the datasource
// variable: "$name" and "${name}".
func datasourceVariables(d dashboard) map[string]bool {
	out := map[string]bool{}
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && string(v.Query) == `"prometheus"` {
			out["$"+v.Name], out["${"+v.Name+"}"] = true, true
		}
	}
	return out
}

// checkQueries: a panel queries the Prometheus datasource variable, with at
// least one target, each with an expression and a refId unique in the panel.
func checkQueries(t *testing.T, p panel, dsVars map[string]bool) {
	t.Helper()
	if p.Datasource == nil || p.Datasource.Type != "prometheus" || !dsVars[p.Datasource.UID] {
		t.Errorf("panel %q: datasource %+v, want the prometheus datasource variable", p.Title, p.Datasource)
	}
	if len(p.Targets) == 0 {
		t.Errorf("panel %q has no target", p.Title)
	}
	refs := map[string]bool{}
	for _, tg := range p.Targets {
		if tg.Expr == "" || tg.RefID == "" || refs[tg.RefID] {
			t.Errorf("panel %q: target %q has an empty expr, no refId or a duplicate refId", p.Title, tg.RefID)
		}
		refs[tg.RefID] = true
		if tg.Datasource != nil && *tg.Datasource != *p.Datasource {
			t.Errorf("panel %q: target %s uses datasource %+v, the panel %+v", p.Title, tg.RefID, tg.Datasource, p.Datasource)
		}
	}
}

// checkGrid: p lies within Grafana's 24 columns and overlaps no earlier panel.
func checkGrid(t *testing.T, p panel, earlier []panel) {
	t.Helper()
	g := p.GridPos
	if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
		t.Errorf("panel %q: gridPos %+v is outside the 24-column grid", p.Title, g)
	}
	for _, q := range earlier {
		o := q.GridPos
		if g.X < o.X+o.W && o.X < g.X+g.W && g.Y < o.Y+o.H && o.Y < g.Y+g.H {
			t.Errorf("panels %q %+v and %q %+v overlap", p.Title, g, q.Title, o)
		}
	}
}
