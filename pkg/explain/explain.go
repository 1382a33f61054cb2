// Package explain says why a pod waits: which plugin holds it and with what
// reason, its namespace's Mesos role, the role's weight, dominant and
// weighted share, fair target, guarantee and limit, the offers the role was
// made and its place in DRF order. It reads only what the scheduler exposes
// — the pod's PodScheduled condition and events, its namespace, and the
// scheduler's /metrics — so that `kube-mesos-scheduler explain` needs no
// more access than a metrics scraper (docs/user-guide.md, "Troubleshooting:
// my pod is pending").
package explain

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/drf"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/hetero"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/offers"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

// Input is what the report is made of. Metrics may be nil (the scheduler's
// endpoint was not given or not reachable: MetricsErr says why); the report
// then holds what the API server knows.
type Input struct {
	Pod *v1.Pod
	// Namespace is the pod's namespace; nil if it could not be read.
	Namespace *v1.Namespace
	// Events are the events whose involved object is the pod.
	Events []v1.Event
	// Metrics are the scheduler's metric families by name.
	Metrics    map[string]*dto.MetricFamily
	MetricsErr error
	Now        time.Time
}

// Line is one line of the report: a field and its value.
type Line struct{ Field, Value string }

// Report is the explanation, line by line.
type Report struct {
	Lines []Line
	// Plugin is the plugin whose reason holds the pod ("" when none is
	// recognised or the pod does not wait).
	Plugin string
	// Role is the pod's role ("" when its namespace maps to none).
	Role string
}

// reasons maps every fixed reason our plugins give to the plugin giving it.
// The framework puts a plugin's reason into the pod's condition verbatim
// (after "0/N nodes are available: " and a count for node-level reasons).
var reasons = []struct{ reason, plugin string }{
	{offers.ErrReasonNoOfferOnNode, offers.Name},
	{offers.ErrReasonNoOffer, offers.Name},
	{offers.ErrReasonOfferTooSmall, offers.Name},
	{offers.ErrReasonPortsNotOffered, offers.Name},
	{offers.ErrReasonOfferGone, offers.Name},
	{offers.ErrReasonMaintenance, offers.Name},
	{offers.ErrReasonPlannedForOthers, offers.Name},
	{drf.ErrReasonBadRole, drf.Name},
	{drf.ErrReasonLimit, drf.Name},
	{drf.ErrReasonHeadroom, drf.Name},
	{drf.ErrReasonFairShare, drf.Name},
	{drf.ErrReasonNoTarget, drf.Name},
	{drf.ErrReasonPreemptionDeferred, drf.Name},
	{drf.ErrReasonWaitingForVictims, drf.Name},
	{drf.ErrReasonBelowFairShare, drf.Name},
	{hetero.ErrReasonBadAnnotation, hetero.Name},
	{hetero.ErrReasonArchitecture, hetero.Name},
	{hetero.ErrReasonModel, hetero.Name},
	{hetero.ErrReasonMemory, hetero.Name},
	{hetero.ErrReasonAcceleratorNode, hetero.Name},
}

// Plugins returns the plugins whose fixed reasons a scheduling message
// holds, in the order of the reasons table (MesosOffers, DRF, Hetero).
// Nodes a PreFilter left out are counted as "N node(s) didn't satisfy
// plugin(s) [A, B]": those plugins come after.
func Plugins(message string) []string {
	var out []string
	for _, r := range reasons {
		if strings.Contains(message, r.reason) && !slices.Contains(out, r.plugin) {
			out = append(out, r.plugin)
		}
	}
	for _, m := range preFiltered.FindAllStringSubmatch(message, -1) {
		for _, p := range strings.Split(m[1], ", ") {
			if p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// preFiltered matches kube-scheduler's count of the nodes a PreFilter left out.
var preFiltered = regexp.MustCompile(`didn't satisfy plugin\(s\) \[([^\]]*)\]`)

// Gather reads the pod, its namespace and the events about it.
func Gather(ctx context.Context, client kubernetes.Interface, namespace, name string) (Input, error) {
	pod, err := client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return Input{}, fmt.Errorf("pod %s/%s: %w", namespace, name, err)
	}
	in := Input{Pod: pod, Now: time.Now()}
	if ns, err := client.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{}); err == nil {
		in.Namespace = ns
	}
	events, err := client.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.uid", string(pod.UID)).String(),
	})
	if err == nil {
		in.Events = events.Items
	}
	return in, nil
}

// Scrape reads a metrics endpoint's text exposition with client.
func Scrape(ctx context.Context, client *http.Client, url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s (the identity needs get on the non-resource URL /metrics)", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return families, nil
}

// Explain builds the report.
func Explain(in Input) Report {
	var r Report
	add := func(field, format string, args ...any) {
		r.Lines = append(r.Lines, Line{field, fmt.Sprintf(format, args...)})
	}
	pod := in.Pod
	add("Pod", "%s/%s", pod.Namespace, pod.Name)
	add("Scheduler", "%s", pod.Spec.SchedulerName)
	switch {
	case pod.DeletionTimestamp != nil:
		add("Status", "being deleted")
	case pod.Spec.NodeName != "":
		add("Status", "bound to node %s (%s)", pod.Spec.NodeName, pod.Status.Phase)
	default:
		add("Status", "pending for %s", age(in.Now, pod.CreationTimestamp.Time))
		r.waiting(in, add)
	}

	ns, assumed := in.Namespace, ""
	if ns == nil {
		ns, assumed = &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: pod.Namespace}}, " (namespace not read: role assumed from its name)"
	}
	var err error
	if r.Role, err = roles.OfNamespace(ns.Name, ns.Labels, ns.Annotations); err != nil {
		add("Role", "none: %v%s", err, assumed)
		return r
	}
	add("Role", "%s%s", r.Role, assumed)
	if in.Metrics == nil {
		why := "no metrics endpoint given (--metrics-url)"
		if in.MetricsErr != nil {
			why = in.MetricsErr.Error()
		}
		add("Shares", "unknown: the scheduler's metrics were not read: %s", why)
		return r
	}
	r.shares(in.Metrics, add)
	return r
}

// waiting adds why a pending pod waits: its PodScheduled condition and the
// latest scheduling event.
func (r *Report) waiting(in Input, add func(string, string, ...any)) {
	var cond *v1.PodCondition
	for i := range in.Pod.Status.Conditions {
		if c := &in.Pod.Status.Conditions[i]; c.Type == v1.PodScheduled {
			cond = c
		}
	}
	var last *v1.Event
	for i := range in.Events {
		e := &in.Events[i]
		if e.Reason != "FailedScheduling" && e.Type != v1.EventTypeWarning {
			continue
		}
		if last == nil || eventTime(e).After(eventTime(last)) {
			last = e
		}
	}
	message := ""
	switch {
	case cond != nil && cond.Status == v1.ConditionFalse:
		message = cond.Message
		add("Condition", "PodScheduled=False %s, %s ago", cond.Reason, age(in.Now, cond.LastTransitionTime.Time))
	case last != nil:
		message = last.Message
	default:
		add("Waiting", "no scheduling attempt recorded yet: %s holds a new pod until its role has an offer (at most one allocation interval), or the scheduler has not seen it", offers.Name)
		return
	}
	if ps := Plugins(message); len(ps) > 0 {
		r.Plugin = ps[0]
		add("Held by", "%s", strings.Join(ps, ", "))
	} else {
		add("Held by", "a plugin of kube-scheduler's own (the message names no reason of %s, %s or %s)", offers.Name, drf.Name, hetero.Name)
	}
	add("Reason", "%s", message)
	if last != nil {
		count := last.Count
		if last.Series != nil {
			count = last.Series.Count
		}
		add("Last event", "%s %s, %s ago (%d times): %s", last.Type, last.Reason, age(in.Now, eventTime(last)), max(count, 1), last.Message)
	}
}

// shares adds the role's numbers and its place in DRF order.
func (r *Report) shares(m map[string]*dto.MetricFamily, add func(string, string, ...any)) {
	role := r.Role
	weighted := byRole(m["kube_mesos_role_weighted_share"])
	if _, ok := weighted[role]; !ok {
		add("Shares", "the scheduler has not seen role %s yet (no pod of it placed or pending)", role)
		return
	}
	weight := byRole(m["kube_mesos_role_weight"])[role]
	add("Weight", "%s", number(weight))
	add("Shares", "dominant %s, weighted %s (dominant / weight), fair target %s (%s pods)",
		number(byRole(m["kube_mesos_role_dominant_share"])[role]), number(weighted[role]),
		number(byRole(m["kube_mesos_role_fair_share"])[role]), number(byRole(m["kube_mesos_role_fair_pods"])[role]))
	add("Allocation", "%s", perResource(m["kube_mesos_role_allocation"], role, "nothing bound"))
	add("Guarantee", "%s", perResource(m["kube_mesos_role_guarantee"], role, "none"))
	add("Limit", "%s", perResource(m["kube_mesos_role_limit"], role, "none"))
	add("Pending pods", "%s of role %s", number(byRole(m["kube_mesos_role_pending_pods"])[role]), role)
	add("Offers", "%s", offersOf(m["kube_mesos_offers_total"], role))
	if src := sourcesOf(m["kube_mesos_source_offers_total"], m["kube_mesos_source_connected"], m["kube_mesos_source_leader_info"], m["kube_mesos_source_nodes"]); src != "" {
		add("Offer sources", "%s", src)
	}
	add("DRF order", "%s", order(weighted, role))
}

// sourcesOf says, per offer source (a Mesos master or the embedded
// allocator), whether it is connected (and to which leader), how many
// nodes it serves and the
// offers it made and had accepted (all roles, since the scheduler
// started), so a pod waiting for a disconnected master's nodes shows it.
// "" when the scheduler publishes no source metrics.
func sourcesOf(offered, connected, leaders, nodes *dto.MetricFamily) string {
	type src struct {
		connected, seen       bool
		leader                string
		nodes, made, accepted float64
	}
	by := map[string]*src{}
	get := func(name string) *src {
		if by[name] == nil {
			by[name] = &src{}
		}
		return by[name]
	}
	for _, m := range connected.GetMetric() {
		s := get(label(m, "source"))
		s.connected, s.seen = value(m) == 1, true
	}
	for _, m := range leaders.GetMetric() {
		if value(m) == 1 {
			get(label(m, "source")).leader = label(m, "leader")
		}
	}
	for _, m := range nodes.GetMetric() {
		get(label(m, "source")).nodes = value(m)
	}
	for _, m := range offered.GetMetric() {
		s := get(label(m, "source"))
		switch label(m, "event") {
		case metrics.OfferMade:
			s.made = value(m)
		case metrics.OfferAccepted:
			s.accepted = value(m)
		}
	}
	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		s := by[n]
		state := "connected"
		switch {
		case s.seen && !s.connected:
			state = "NOT CONNECTED to its master"
		case s.leader != "":
			state = "connected to " + s.leader
		}
		parts = append(parts, fmt.Sprintf("%s (%s; nodes %s; offers made %s, accepted %s)", n, state, number(s.nodes), number(s.made), number(s.accepted)))
	}
	return strings.Join(parts, "; ")
}

// order places the role among its siblings (the roles with the same parent
// in the role tree) by weighted share, lowest first: the order in which DRF
// offers resources and admits pods.
func order(weighted map[string]float64, role string) string {
	parent := ""
	if a := roles.Ancestors(role); len(a) > 0 {
		parent = a[0]
	}
	var sibs []string
	for other := range weighted {
		p := ""
		if a := roles.Ancestors(other); len(a) > 0 {
			p = a[0]
		}
		if p == parent {
			sibs = append(sibs, other)
		}
	}
	sort.Slice(sibs, func(i, j int) bool {
		if weighted[sibs[i]] != weighted[sibs[j]] {
			return weighted[sibs[i]] < weighted[sibs[j]]
		}
		return sibs[i] < sibs[j]
	})
	pos := slices.Index(sibs, role) + 1
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d", pos, len(sibs))
	if parent != "" {
		fmt.Fprintf(&b, " under %s", parent)
	}
	b.WriteString(" (lowest weighted share first):")
	const show = 5
	from := max(0, min(pos-1-show/2, len(sibs)-show))
	for i := from; i < len(sibs) && i < from+show; i++ {
		mark := ""
		if sibs[i] == role {
			mark = "*"
		}
		fmt.Fprintf(&b, " %s%s %s", mark, sibs[i], number(weighted[sibs[i]]))
	}
	return b.String()
}

func offersOf(f *dto.MetricFamily, role string) string {
	var parts []string
	for _, event := range []string{metrics.OfferMade, metrics.OfferAccepted, metrics.OfferDeclined, metrics.OfferRescinded} {
		v := 0.0
		for _, m := range f.GetMetric() {
			if label(m, "role") == role && label(m, "event") == event {
				v = value(m)
			}
		}
		parts = append(parts, fmt.Sprintf("%s %s", event, number(v)))
	}
	return strings.Join(parts, ", ") + " (since the scheduler started)"
}

func perResource(f *dto.MetricFamily, role, none string) string {
	var parts []string
	for _, m := range f.GetMetric() {
		if label(m, "role") != role {
			continue
		}
		name := v1.ResourceName(label(m, "resource"))
		if n := metrics.Units(name, value(m)); n != 0 {
			parts = append(parts, fmt.Sprintf("%s=%s", name, resources.Format(name, n)))
		}
	}
	if len(parts) == 0 {
		return none
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func byRole(f *dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, m := range f.GetMetric() {
		out[label(m, "role")] = value(m)
	}
	return out
}

// value is a gauge's, counter's or untyped sample's value.
func value(m *dto.Metric) float64 {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	}
	return m.GetUntyped().GetValue()
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// number prints a share, weight or count with up to four significant digits.
func number(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.4g", v)
}

func eventTime(e *v1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

func age(now, t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return now.Sub(t).Round(time.Second).String()
}

// Write prints the report, one aligned "Field: value" line each.
func (r Report) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range r.Lines {
		if _, err := fmt.Fprintf(tw, "%s:\t%s\n", l.Field, l.Value); err != nil {
			return err
		}
	}
	return tw.Flush()
}
