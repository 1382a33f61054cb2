package chart

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	corev1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/test/chart/render"
)

const (
	dashboardFile      = "dashboards/kube-mesos-scheduler.json"
	dashboardKey       = "kube-mesos-scheduler.json"
	dashboardConfigMap = fullname + "-dashboard"
	// metricsDir holds the definitions of every kube_mesos_* metric.
	metricsDir = root + "/pkg/metrics"
)

// schedulerMetrics are the kube-scheduler's metrics the dashboard may use,
// with their labels, as defined in k8s.io/kubernetes v1.37.1
// pkg/scheduler/metrics/metrics.go, func InitMetrics (Subsystem
// SchedulerSubsystem = "scheduler", no Namespace). Checked against the
// module cache ($(go env GOMODCACHE)/k8s.io/kubernetes@v1.37.1); update
// this list, after checking there, when the dashboard needs another.
var schedulerMetrics = map[string]metricDef{
	// scheduleAttempts: CounterVec "schedule_attempts_total", STABLE.
	"scheduler_schedule_attempts_total": {kind: "counter", labels: []string{"result", "profile"}},
	// schedulingLatency: HistogramVec "scheduling_attempt_duration_seconds", STABLE.
	"scheduler_scheduling_attempt_duration_seconds": {kind: "histogram", labels: []string{"result", "profile"}},
	// pendingPods: GaugeVec "pending_pods", STABLE; queue is active,
	// backoff, unschedulable, gated, incomplete or pending.
	"scheduler_pending_pods": {kind: "gauge", labels: []string{"queue"}},
	// unschedulableReasons: GaugeVec "unschedulable_pods", BETA.
	"scheduler_unschedulable_pods": {kind: "gauge", labels: []string{"plugin", "profile"}},
}

// targetLabels are the labels Prometheus adds to every series, which
// selectors may match besides the metric's own.
var targetLabels = []string{"job", "instance"}

// metricDef is one metric: its kind and its labels.
type metricDef struct {
	kind   string // counter, gauge, histogram, summary
	labels []string
}

// dashboardJSON is the part of the dashboard the tests check.
type dashboardJSON struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
			Multi      bool            `json:"multi"`
			IncludeAll bool            `json:"includeAll"`
			Datasource *datasourceRef  `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
	Panels []dashboardPanel `json:"panels"`
}

type dashboardPanel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	Targets    []struct {
		RefID      string         `json:"refId"`
		Expr       string         `json:"expr"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	// Panels are those of a collapsed row.
	Panels []dashboardPanel `json:"panels"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// TestGrafanaDashboardOff: no dashboard ConfigMap by default.
func TestGrafanaDashboardOff(t *testing.T) {
	r := renderChart(t, nil)
	for _, o := range r.objects {
		if o.Kind == "ConfigMap" && (o.Name == dashboardConfigMap || strings.Contains(string(o.raw), "grafana_dashboard")) {
			t.Errorf("a dashboard ConfigMap %s by default", o.Name)
		}
	}
}

// TestGrafanaDashboard: grafana.dashboard.enabled renders the dashboard in
// a ConfigMap the Grafana sidecar picks up (its default label), in the
// release namespace or another, with the file's JSON.
func TestGrafanaDashboard(t *testing.T) {
	file, err := os.ReadFile(filepath.Join(chartDir, dashboardFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name            string
		dashboard       map[string]any
		wantNamespace   string
		wantLabels      map[string]string
		wantAnnotations map[string]string
	}{
		{
			name:          "defaults",
			dashboard:     map[string]any{"enabled": true},
			wantNamespace: namespace,
			wantLabels:    map[string]string{"grafana_dashboard": "1"},
		},
		{
			// Helm merges the values' maps: the default label stays.
			name: "more labels, folder, namespace",
			dashboard: map[string]any{"enabled": true, "namespace": "monitoring",
				"labels":      map[string]any{"dashboards": "scheduling"},
				"annotations": map[string]any{"grafana_folder": "Scheduling"}},
			wantNamespace:   "monitoring",
			wantLabels:      map[string]string{"grafana_dashboard": "1", "dashboards": "scheduling"},
			wantAnnotations: map[string]string{"grafana_folder": "Scheduling"},
		},
		{
			// null removes the default label.
			name:          "own label only",
			dashboard:     map[string]any{"enabled": true, "labels": map[string]any{"grafana_dashboard": nil, "dashboards": "scheduling"}},
			wantNamespace: namespace,
			wantLabels:    map[string]string{"dashboards": "scheduling"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := renderChart(t, map[string]any{"grafana": map[string]any{"dashboard": tc.dashboard}})
			cm := &corev1.ConfigMap{}
			r.get(t, "ConfigMap", dashboardConfigMap, cm)
			if cm.Namespace != tc.wantNamespace {
				t.Errorf("namespace %q, want %q", cm.Namespace, tc.wantNamespace)
			}
			for k, v := range tc.wantLabels {
				if cm.Labels[k] != v {
					t.Errorf("label %s=%q, want %q (labels %v)", k, cm.Labels[k], v, cm.Labels)
				}
			}
			if tc.wantLabels["grafana_dashboard"] == "" {
				if _, ok := cm.Labels["grafana_dashboard"]; ok {
					t.Errorf("the default label stays with own labels: %v", cm.Labels)
				}
			}
			if cm.Labels["app.kubernetes.io/instance"] != release {
				t.Errorf("not labelled as the release's: %v", cm.Labels)
			}
			for k, v := range tc.wantAnnotations {
				if cm.Annotations[k] != v {
					t.Errorf("annotation %s=%q, want %q", k, cm.Annotations[k], v)
				}
			}
			if len(cm.Data) != 1 {
				t.Errorf("data keys %v, want only %s", slices.Sorted(maps.Keys(cm.Data)), dashboardKey)
			}
			data, ok := cm.Data[dashboardKey]
			if !ok {
				t.Fatalf("no %s in the ConfigMap", dashboardKey)
			}
			if strings.TrimSpace(data) != strings.TrimSpace(string(file)) {
				t.Errorf("the ConfigMap's %s is not %s", dashboardKey, dashboardFile)
			}
			var d dashboardJSON
			if err := json.Unmarshal([]byte(data), &d); err != nil {
				t.Fatalf("%s does not parse: %v", dashboardKey, err)
			}
		})
	}
}

// TestGrafanaDashboardLint: the chart lints with the dashboard on, and the
// schema refuses unknown grafana values.
func TestGrafanaDashboardLint(t *testing.T) {
	kv, err := chartutil.ParseKubeVersion(render.KubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{"grafana": map[string]any{"dashboard": map[string]any{"enabled": true,
		"annotations": map[string]any{"grafana_folder": "Scheduling"}}}}
	for _, m := range lint.AllWithKubeVersion(chartDir, values, namespace, kv).Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("lint: %s", m)
		}
	}
	for name, values := range map[string]map[string]any{
		"label":     {"grafana": map[string]any{"dashboard": map[string]any{"enabled": true, "lables": map[string]any{"a": "b"}}}},
		"folder":    {"grafana": map[string]any{"folder": "Scheduling"}},
		"namespace": {"grafana": map[string]any{"dashboard": map[string]any{"namespace": "Monitoring"}}},
	} {
		if _, _, err := render.Render(chartDir, release, namespace, values); err == nil {
			t.Errorf("%s: rendered %v", name, values)
		}
	}
}

// TestGrafanaDashboardMetrics: the dashboard queries a Prometheus data
// source chosen by a variable, filters by role with a multi-value variable,
// and uses only metrics that exist: every kube_mesos_* name in a query is
// defined in pkg/metrics (so renaming a metric there fails here), every
// scheduler_* name is one of schedulerMetrics, histograms appear only as
// _bucket, _sum or _count, and selectors match only the metric's labels.
func TestGrafanaDashboardMetrics(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(chartDir, dashboardFile))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboardJSON
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s does not parse: %v", dashboardFile, err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q", d.UID, d.Title)
	}
	if d.SchemaVersion < 36 || d.SchemaVersion > 41 {
		t.Errorf("schemaVersion %d, want about 39", d.SchemaVersion)
	}

	known := kubeMesosMetrics(t)
	for name, def := range schedulerMetrics {
		known[name] = def
	}

	vars := map[string]int{}
	var exprs []string // "where: expr"
	for i, v := range d.Templating.List {
		vars[v.Name] = i
		if v.Type != "query" {
			continue
		}
		if v.Datasource == nil || v.Datasource.UID != "${datasource}" {
			t.Errorf("variable %s: datasource %+v, want uid ${datasource}", v.Name, v.Datasource)
		}
		exprs = append(exprs, "variable "+v.Name+": "+variableQuery(t, v.Name, v.Query))
		if v.Definition != "" {
			exprs = append(exprs, "variable "+v.Name+" definition: "+v.Definition)
		}
	}
	if i, ok := vars["datasource"]; !ok {
		t.Errorf("no datasource variable")
	} else if v := d.Templating.List[i]; v.Type != "datasource" || string(v.Query) != `"prometheus"` {
		t.Errorf("datasource variable of type %q, query %s; want datasource, prometheus", v.Type, v.Query)
	}
	if i, ok := vars["role"]; !ok {
		t.Errorf("no role variable")
	} else if v := d.Templating.List[i]; !v.Multi || !regexp.MustCompile(`^label_values\(kube_mesos_role_dominant_share(\{[^}]*\})?, *role\)$`).MatchString(variableQuery(t, "role", v.Query)) {
		t.Errorf("role variable multi %v, query %s; want multi, label_values(kube_mesos_role_dominant_share, role)", v.Multi, v.Query)
	}

	ids := map[int]string{}
	var walk func(panels []dashboardPanel)
	walk = func(panels []dashboardPanel) {
		for _, p := range panels {
			if other, ok := ids[p.ID]; ok {
				t.Errorf("panels %q and %q share id %d", p.Title, other, p.ID)
			}
			ids[p.ID] = p.Title
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: datasource %+v, want uid ${datasource}", p.Title, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
					t.Errorf("panel %q query %s: datasource %+v, want uid ${datasource}", p.Title, tg.RefID, tg.Datasource)
				}
				exprs = append(exprs, fmt.Sprintf("panel %q query %s: %s", p.Title, tg.RefID, tg.Expr))
			}
		}
	}
	walk(d.Panels)
	if len(ids) < 10 {
		t.Errorf("%d panels", len(ids))
	}

	used := map[string]bool{}
	for _, e := range exprs {
		where, expr, _ := strings.Cut(e, ": ")
		refs := metricRefs(expr)
		if len(refs) == 0 {
			t.Errorf("%s: no kube_mesos_ or scheduler_ metric in %q", where, expr)
		}
		for _, ref := range refs {
			name, def, err := resolveMetric(known, ref.name)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			used[name] = true
			labels := append(slices.Clone(def.labels), targetLabels...)
			if strings.HasSuffix(ref.name, "_bucket") {
				labels = append(labels, "le")
			}
			for _, l := range ref.labels {
				if !slices.Contains(labels, l) {
					t.Errorf("%s: %s has no label %q (labels %v)", where, ref.name, l, labels)
				}
			}
		}
	}
	// The panels the dashboard is for.
	for _, name := range []string{
		"kube_mesos_role_dominant_share", "kube_mesos_role_weighted_share", "kube_mesos_role_fair_share",
		"kube_mesos_role_weight", "kube_mesos_role_guarantee", "kube_mesos_role_limit",
		"kube_mesos_offers_total", "kube_mesos_offer_book_size",
		"kube_mesos_role_pending_pods", "kube_mesos_drf_gate_rejections_total", "kube_mesos_preemption_evictions_total",
		"kube_mesos_accelerator_capacity", "kube_mesos_accelerator_allocated",
		"kube_mesos_accelerator_fragmented_nodes", "kube_mesos_accelerator_largest_free_block",
		"kube_mesos_mesos_subscriptions_total", "kube_mesos_mesos_heartbeat_timeouts_total", "kube_mesos_mesos_calls_total",
		"kube_mesos_mesos_suppressed_roles", "kube_mesos_mesos_nodes_without_agent", "kube_mesos_mesos_agents_without_node",
		"kube_mesos_allocation_cycle_duration_seconds",
		"scheduler_pending_pods", "scheduler_unschedulable_pods",
		"scheduler_schedule_attempts_total", "scheduler_scheduling_attempt_duration_seconds",
	} {
		if !used[name] {
			t.Errorf("no panel shows %s", name)
		}
	}
}

// variableQuery is a query variable's query: a string, or the Prometheus
// query editor's {"query": ...}.
func variableQuery(t *testing.T, name string, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	var q struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(raw, &q); err != nil || q.Query == "" {
		t.Errorf("variable %s: query %s is neither a string nor {query: ...}", name, raw)
	}
	return q.Query
}

// metricRef is a metric name in a query and the labels its selector matches.
type metricRef struct {
	name   string
	labels []string
}

var (
	metricRE  = regexp.MustCompile(`\b(kube_mesos_|scheduler_)[a-zA-Z0-9_:]*(\{[^}]*\})?`)
	matcherRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)`)
)

// metricRefs lists the kube_mesos_* and scheduler_* metrics of a query.
func metricRefs(expr string) []metricRef {
	var refs []metricRef
	for _, m := range metricRE.FindAllString(expr, -1) {
		name, selector, _ := strings.Cut(m, "{")
		ref := metricRef{name: name}
		for _, l := range matcherRE.FindAllStringSubmatch(selector, -1) {
			ref.labels = append(ref.labels, l[1])
		}
		refs = append(refs, ref)
	}
	return refs
}

// resolveMetric returns the metric a series name is of: the metric itself,
// or the histogram (summary) of a _bucket, _sum or _count series. A
// histogram has no series of its bare name.
func resolveMetric(known map[string]metricDef, series string) (string, metricDef, error) {
	if def, ok := known[series]; ok {
		if def.kind == "histogram" {
			return "", def, fmt.Errorf("%s is a histogram: query %s_bucket, _sum or _count", series, series)
		}
		return series, def, nil
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(series, suffix)
		if !ok {
			continue
		}
		if def, ok := known[base]; ok && (def.kind == "histogram" || def.kind == "summary" && suffix != "_bucket") {
			return base, def, nil
		}
	}
	return "", metricDef{}, fmt.Errorf("unknown metric %s: not defined in pkg/metrics nor listed in schedulerMetrics", series)
}

// kubeMesosMetrics parses pkg/metrics for the metrics it defines: every
// &metrics.XxxOpts{Namespace: ..., Subsystem: ..., Name: ...} literal, named
// as component-base's BuildFQName composes them (the non-empty parts joined
// by "_"), with the labels of the XxxVec it is passed to; only those named
// kube_mesos_*.
func kubeMesosMetrics(t *testing.T) map[string]metricDef {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(metricsDir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", metricsDir, err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	consts := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, file)
		// Package-level string constants, e.g. namespace = "kube_mesos".
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[n.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}
	}
	str := func(e ast.Expr) string {
		switch e := e.(type) {
		case *ast.BasicLit:
			if s, err := strconv.Unquote(e.Value); err == nil {
				return s
			}
		case *ast.Ident:
			if s, ok := consts[e.Name]; ok {
				return s
			}
		}
		t.Fatalf("%s: not a string literal or constant", fset.Position(e.Pos()))
		return ""
	}
	out := map[string]metricDef{}
	for _, file := range parsed {
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			u, ok := call.Args[0].(*ast.UnaryExpr)
			if !ok || u.Op != token.AND {
				return true
			}
			lit, ok := u.X.(*ast.CompositeLit)
			if !ok {
				return true
			}
			sel, ok := lit.Type.(*ast.SelectorExpr)
			if !ok || !strings.HasSuffix(sel.Sel.Name, "Opts") {
				return true
			}
			var parts [3]string // namespace, subsystem, name
			for _, elt := range lit.Elts {
				kv, ok := elt.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				switch kv.Key.(*ast.Ident).Name {
				case "Namespace":
					parts[0] = str(kv.Value)
				case "Subsystem":
					parts[1] = str(kv.Value)
				case "Name":
					parts[2] = str(kv.Value)
				}
			}
			var nonEmpty []string
			for _, p := range parts {
				if p != "" {
					nonEmpty = append(nonEmpty, p)
				}
			}
			name := strings.Join(nonEmpty, "_")
			if parts[2] == "" || !strings.HasPrefix(name, "kube_mesos_") {
				return true
			}
			def := metricDef{kind: strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(sel.Sel.Name, "Timing"), "Opts"))}
			if len(call.Args) > 1 {
				labels, ok := call.Args[1].(*ast.CompositeLit)
				if !ok {
					t.Fatalf("%s: labels of %s are not a []string literal", fset.Position(call.Args[1].Pos()), name)
				}
				for _, l := range labels.Elts {
					def.labels = append(def.labels, str(l))
				}
			}
			if _, dup := out[name]; dup {
				t.Errorf("%s defined twice in %s", name, metricsDir)
			}
			out[name] = def
			return true
		})
	}
	// A parser that finds nothing would let every name fail or, worse,
	// let the test prove nothing: pkg/metrics defines a few dozen.
	if len(out) < 20 || out["kube_mesos_role_dominant_share"].kind != "gauge" ||
		out["kube_mesos_allocation_cycle_duration_seconds"].kind != "histogram" ||
		!slices.Equal(out["kube_mesos_offers_total"].labels, []string{"role", "event"}) {
		t.Fatalf("parsed %d metrics from %s, not the expected ones: %v", len(out), metricsDir, out)
	}
	return out
}
