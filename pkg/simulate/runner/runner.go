// Package runner runs a simulate.Scenario against a real control plane:
// etcd and kube-apiserver in-process (internal/controlplane), the kube-mesos-scheduler
// in-process with all three plugins, and, in Mesos mode, the Mesos master
// emulator. It samples the dominant shares while the scheduler works and
// reports once placement has settled.
//
// It links the kube-apiserver, so only cmd/simulate and tests import it:
// the production scheduler binary never does.
package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/component-base/metrics/legacyregistry"

	"github.com/kube-mesos/kube-mesos-scheduler/internal/controlplane"
	emulator "github.com/kube-mesos/kube-mesos-scheduler/internal/mesosemulator"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/drf"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/offers"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/simulate"
)

// Defaults of Options.
const (
	DefaultTimeout = 90 * time.Second
	// DefaultMaxNodes and DefaultMaxPods bound a scenario's size unless
	// raised (--max-nodes, --max-pods): each node and pod is an object in a
	// real kube-apiserver and etcd.
	DefaultMaxNodes = 10000
	DefaultMaxPods  = 100000
	// DefaultQuiet outlasts a few rounds of offers declined because the
	// allocator could not judge a pod's constraints (Hetero's): each costs a
	// decline filter (simulate.RefuseSeconds) and an allocation cycle.
	DefaultQuiet = 5 * time.Second
	// DefaultQuietMesos is longer: the master decides when a role is
	// offered an agent again, and pods have been seen to wait ~12s for it.
	DefaultQuietMesos = 15 * time.Second
	DefaultInterval   = 100 * time.Millisecond
)

// ErrNotSettled is returned, with the report so far, when placement has
// not settled within the timeout.
var ErrNotSettled = errors.New("placement did not settle before the timeout")

// Options tune a run; the zero value runs with the defaults.
type Options struct {
	// Mode: "" runs against the Mesos emulator when the scenario has a
	// mesos section, else with the embedded allocator.
	Mode simulate.Mode
	// Name is the scenario's name (its file) in the report.
	Name string
	// Timeout bounds the whole run from the control plane's start (which
	// itself cannot be interrupted: a few seconds) to placement settled.
	Timeout time.Duration
	// Quiet is how long nothing may change before placement counts as
	// settled (pods bound or waiting for a reason other than their turn);
	// default DefaultQuiet, DefaultQuietMesos in Mesos mode.
	Quiet time.Duration
	// Interval between samples of the cluster.
	Interval time.Duration
	// ControlPlane to use (tests); nil starts one for the run and stops it after.
	ControlPlane *controlplane.ControlPlane
	// Progress, when set, receives a line at each step.
	Progress func(format string, args ...any)
	// Hold, when set, is called with the result once placement settled (or
	// the run timed out) while the control plane and the scheduler still
	// run; they stop when it returns. The kubeconfig is the control plane's.
	Hold func(res *Result, kubeconfig string)
}

// Result is a run's outcome.
type Result struct {
	Report *simulate.Report
	// Shares are the namespaces' dominant shares over time.
	Shares *simulate.Timeline
}

// Run creates the scenario's objects, starts the scheduler (and the Mesos
// emulator), waits until placement settles and reports. On timeout it
// returns the report so far and ErrNotSettled.
func Run(ctx context.Context, sc *simulate.Scenario, opts Options) (*Result, error) {
	opts = withDefaults(sc, opts)
	// The timeout bounds the whole run: creating the objects counts, and
	// what is left of it is the wait for placement to settle.
	run, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	bounded := func(err error) error {
		if err != nil && ctx.Err() == nil && run.Err() != nil {
			return fmt.Errorf("the run did not finish within the timeout (%s): %w", opts.Timeout, err)
		}
		return err
	}
	progress := opts.Progress
	cp := opts.ControlPlane
	if cp == nil {
		progress("starting etcd and kube-apiserver")
		tb := controlplane.NewProcessTB("simulate")
		defer tb.Close()
		var err error
		if cp, err = controlplane.Start(tb); err != nil {
			return nil, fmt.Errorf("control plane: %w", err)
		}
		defer cp.Stop()
	}
	c := cp.Client
	progress("creating %d namespaces, %d nodes", len(sc.Namespaces), len(sc.NodeObjects()))
	for _, ns := range sc.NamespaceObjects() {
		if err := controlplane.CreateNamespace(run, c, ns.Name, ns.Labels, ns.Annotations); err != nil {
			return nil, bounded(fmt.Errorf("creating namespace %s: %w", ns.Name, err))
		}
	}
	if err := controlplane.CreateNodes(run, c, sc.NodeObjects()...); err != nil {
		return nil, bounded(err)
	}
	var masterURLs map[string]string
	agents := map[string]int{}
	if opts.Mode == simulate.ModeMesos {
		masters := sc.MasterAgents()
		if len(masters) == 0 {
			masters = map[string][]simulate.Agent{simulate.SourceMesos: sc.Agents()}
		}
		masterURLs = map[string]string{}
		for _, name := range slices.Sorted(maps.Keys(masters)) {
			m, err := startMaster(sc, masters[name])
			if err != nil {
				return nil, fmt.Errorf("Mesos master emulator %s: %w", name, err)
			}
			defer m.Close()
			masterURLs[name] = m.URL()
			agents[name] = len(masters[name])
			progress("Mesos master emulator %s at %s with %d agents", name, m.URL(), len(masters[name]))
		}
	}
	nodeSources := sc.NodeSources()
	for _, src := range nodeSources {
		if src == simulate.SourceEmbedded {
			agents[src]++
		}
	}
	offersBefore := sourceOffers()
	pods := sc.PodObjects()
	progress("creating %d pods", len(pods))
	if err := controlplane.CreatePods(run, c, pods...); err != nil {
		return nil, bounded(err)
	}
	cfg, err := sc.SchedulerConfig(masterURLs)
	if err != nil {
		return nil, err
	}
	progress("starting kube-mesos-scheduler")
	sched, err := controlplane.StartScheduler(run, cp, cfg)
	if err != nil {
		return nil, bounded(fmt.Errorf("scheduler: %w", err))
	}
	defer func() { _ = sched.Stop() }()
	w := newWatcher(c, sc, pods, opts)
	err = wait.PollUntilContextCancel(run, opts.Interval, true, w.poll)
	report := simulate.BuildReport(w.last)
	report.Scenario, report.Mode = opts.Name, opts.Mode
	for ns, n := range w.preempted {
		if nr := report.Namespaces[ns]; nr != nil {
			nr.Preempted = n
		}
	}
	offersAfter, connected := sourceOffers(), sourceConnected()
	stats := map[string]simulate.SourceStats{}
	for name, n := range agents {
		stats[name] = simulate.SourceStats{Agents: n, Offers: int(offersAfter[name] - offersBefore[name]), Connected: connected[name]}
	}
	report.AddSources(nodeSources, stats)
	report.Settled = err == nil
	report.Seconds = w.settledAt.Sub(w.start).Seconds()
	if err != nil {
		report.Seconds = time.Since(w.start).Seconds()
		switch {
		case ctx.Err() != nil:
			err = ctx.Err()
		case w.pollErr != nil && w.last.Nodes == nil:
			err = fmt.Errorf("%w: %w", ErrNotSettled, w.pollErr)
		default:
			err = ErrNotSettled
		}
	}
	res := &Result{Report: report, Shares: w.timeline}
	if opts.Hold != nil {
		opts.Hold(res, cp.Kubeconfig)
	}
	return res, err
}

func withDefaults(sc *simulate.Scenario, o Options) Options {
	if o.Mode == "" {
		o.Mode = simulate.ModeEmbedded
		if sc.Mesos != nil {
			o.Mode = simulate.ModeMesos
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Quiet <= 0 {
		o.Quiet = DefaultQuiet
		if o.Mode == simulate.ModeMesos {
			o.Quiet = DefaultQuietMesos
		}
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	return o
}

// startMaster starts an emulated master with the agents and the roles'
// weights (so that its DRF agrees with ours).
func startMaster(sc *simulate.Scenario, agents []simulate.Agent) (*emulator.Master, error) {
	cfg := emulator.Config{
		RoleWeights:        sc.RoleWeights(),
		AllocationInterval: simulate.AllocationInterval,
		DefaultRefuse:      simulate.RefuseSeconds * time.Second,
	}
	for _, a := range agents {
		var ports []emulator.PortRange
		for _, r := range a.Ports {
			ports = append(ports, emulator.PortRange{Begin: r.Begin, End: r.End})
		}
		cfg.Agents = append(cfg.Agents, emulator.Agent{Hostname: a.Hostname, Attributes: a.Attributes,
			Resources: emulator.Resources{CPUs: a.CPUs, Mem: a.Mem, Disk: a.Disk, GPUs: a.GPUs, Ports: ports}})
	}
	return emulator.Start(cfg)
}

// transientReasons mark pods that wait for a moment, not for capacity: a
// role that appeared since the fair targets were computed, a fair-share
// preemption waiting out its delay, a preemptor waiting for its victims,
// a pod whose offer went away.
var transientReasons = []string{drf.ErrReasonNoTarget, drf.ErrReasonPreemptionDeferred, drf.ErrReasonWaitingForVictims, drf.ErrReasonFitsFree,
	offers.ErrReasonOfferGone, "found a potential placement"}

// watcher samples the cluster until placement settles. It also stands in
// for the controllers a real cluster has: a scenario pod that disappears
// (a preemption victim) is created again, as its ReplicaSet or Job would.
type watcher struct {
	client     kubernetes.Interface
	namespaces []string
	counted    []v1.ResourceName
	quiet      time.Duration
	timeline   *simulate.Timeline
	pods       map[string]*v1.Pod // the scenario's pods by namespace/name
	preempted  map[string]int     // pods recreated, per namespace

	start, changed, settledAt time.Time
	fingerprint               string
	last                      simulate.Cluster
	pollErr                   error
}

func newWatcher(c kubernetes.Interface, sc *simulate.Scenario, pods []*v1.Pod, opts Options) *watcher {
	labels := map[string]string{}
	weights := sc.RoleWeights()
	for _, ns := range sc.Namespaces {
		w, ok := weights[ns.RoleOf()]
		if !ok {
			w = 1
		}
		labels[ns.Name] = fmt.Sprintf("%s (role %s, weight %g)", ns.Name, ns.RoleOf(), w)
	}
	byName := make(map[string]*v1.Pod, len(pods))
	for _, p := range pods {
		byName[p.Namespace+"/"+p.Name] = p
	}
	now := time.Now()
	return &watcher{
		client: c, namespaces: sc.NamespaceNames(), counted: sc.Counted(), quiet: opts.Quiet,
		timeline: simulate.NewTimeline(sc.NamespaceNames(), labels),
		pods:     byName, preempted: map[string]int{},
		start: now, changed: now,
	}
}

// poll samples the cluster; it is done when every pod of ours is bound or
// waits for a lasting reason and nothing has changed for the quiet period.
// API errors are retried until the timeout.
func (w *watcher) poll(ctx context.Context) (bool, error) {
	cl, err := w.sample(ctx)
	if err != nil {
		w.pollErr = err
		return false, nil
	}
	w.pollErr = nil
	if err := w.recreate(ctx, cl.Pods); err != nil {
		w.pollErr = err
		return false, nil
	}
	now := time.Now()
	w.last = cl
	w.timeline.Record(now.Sub(w.start).Seconds(), simulate.DominantShares(cl))
	fp, final := fingerprint(cl.Pods)
	if fp != w.fingerprint {
		w.fingerprint, w.changed = fp, now
	}
	if final && now.Sub(w.changed) >= w.quiet {
		w.settledAt = w.changed
		return true, nil
	}
	return false, nil
}

// recreate creates again the scenario pods that are gone (deleted by
// preemption). A pod still terminating is left for the next poll.
func (w *watcher) recreate(ctx context.Context, present []v1.Pod) error {
	seen := make(map[string]bool, len(present))
	for i := range present {
		seen[present[i].Namespace+"/"+present[i].Name] = true
	}
	for key, p := range w.pods {
		if seen[key] {
			continue
		}
		_, err := w.client.CoreV1().Pods(p.Namespace).Create(ctx, p.DeepCopy(), metav1.CreateOptions{})
		switch {
		case err == nil:
			w.preempted[p.Namespace]++
		case !apierrors.IsAlreadyExists(err):
			return fmt.Errorf("creating pod %s again: %w", key, err)
		}
	}
	return nil
}

func (w *watcher) sample(ctx context.Context) (simulate.Cluster, error) {
	cl := simulate.Cluster{Counted: w.counted}
	nodes, err := w.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return cl, err
	}
	cl.Nodes = nodes.Items
	for _, name := range w.namespaces {
		ns, err := w.client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return cl, err
		}
		cl.Namespaces = append(cl.Namespaces, *ns)
		pods, err := w.client.CoreV1().Pods(name).List(ctx, metav1.ListOptions{})
		if err != nil {
			return cl, err
		}
		cl.Pods = append(cl.Pods, pods.Items...)
	}
	return cl, nil
}

// fingerprint summarises where every pod is (the placement, not the
// reasons of waiting pods: those change with every attempt as offers come
// and go), and reports whether every pod of ours is final: bound, or
// turned away for a reason other than its turn. Pods of other schedulers
// never change.
func fingerprint(pods []v1.Pod) (string, bool) {
	var b strings.Builder
	final := true
	for i := range pods {
		p := &pods[i]
		if p.Spec.NodeName == "" && p.Spec.SchedulerName == simulate.SchedulerName {
			reason := simulate.PendingReason(p)
			if reason == simulate.ReasonNotAttempted || slices.ContainsFunc(transientReasons, func(t string) bool { return strings.Contains(reason, t) }) {
				final = false
			}
		}
		fmt.Fprintf(&b, "%s/%s/%s=%s;", p.Namespace, p.Name, p.UID, p.Spec.NodeName)
	}
	return b.String(), final
}

// sourceOffers reads the offers each source made so far from the
// scheduler's metrics (it runs in this process): kube_mesos_source_offers_total.
func sourceOffers() map[string]float64 {
	out := map[string]float64{}
	for _, m := range gather("kube_mesos_source_offers_total") {
		if labelOf(m, "event") == metrics.OfferMade {
			out[labelOf(m, "source")] += m.GetCounter().GetValue()
		}
	}
	return out
}

// sourceConnected reads whether each source is connected
// (kube_mesos_source_connected, refreshed every few seconds).
func sourceConnected() map[string]bool {
	out := map[string]bool{}
	for _, m := range gather("kube_mesos_source_connected") {
		out[labelOf(m, "source")] = m.GetGauge().GetValue() == 1
	}
	return out
}

func gather(name string) []*dto.Metric {
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		return nil
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()
		}
	}
	return nil
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
