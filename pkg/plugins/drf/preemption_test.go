package drf

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	v1 "k8s.io/api/core/v1"
	policy "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	clientsetfake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2/ktesting"
	fwk "k8s.io/kube-scheduler/framework"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	internalqueue "k8s.io/kubernetes/pkg/scheduler/backend/queue"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/defaultbinder"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/noderesources"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/queuesort"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	schedmetrics "k8s.io/kubernetes/pkg/scheduler/metrics"
	tf "k8s.io/kubernetes/pkg/scheduler/testing/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/test/build"
)

// svNode is a node like testPlugin's n1 (8Gi, 10 pods) with cpu CPUs.
func svNode(name, cpu string) *v1.Node {
	return build.MakeNode(name).Capacity("cpu", cpu, "memory", "8Gi", "pods", "10").Obj()
}

// svPod is testPod with a priority and a creation time age ago.
func svPod(ns, name, cpu string, prio int32, age time.Duration) *v1.Pod {
	p := testPod(ns, name, cpu)
	p.Spec.Priority = &prio
	p.CreationTimestamp = metav1.NewTime(time.Now().Add(-age))
	return p
}

// bound puts a pod on a node, running since its creation (the start time
// orders victims of equal priority: newest is least important).
func bound(p *v1.Pod, node string) *v1.Pod {
	p.Spec.NodeName = node
	p.Status.Phase = v1.PodRunning
	p.Status.StartTime = p.CreationTimestamp.DeepCopy()
	return p
}

func labelled(p *v1.Pod, k, v string) *v1.Pod {
	p.Labels = map[string]string{k: v}
	return p
}

func svPDB(ns, k, v string, allowed int32) *policy.PodDisruptionBudget {
	return &policy.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pdb-" + v},
		Spec:       policy.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}},
		Status:     policy.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed},
	}
}

// earlierPreemption is a preemption in flight: its victims are being
// evicted (cluster.State Evicting) and its preemptor is nominated to node.
type earlierPreemption struct {
	preemptor *v1.Pod
	node      string
	victims   []string // names (ns/name) among the case's pods
}

// TestSelectVictimsOnNode runs the DRF preemptor's SelectVictimsOnNode the
// way kube-scheduler's default preemption test runs its own: a framework
// with NodeResourcesFit, a fake clientset and informers, a scheduling queue
// as pod nominator, a cache snapshot, and the victims the Evaluator lists on
// the node. Every CPU figure is in whole CPUs; pods ask for CPU only (memory
// 0), so dominant shares are CPU shares and fair targets are the weighted
// max-min split of the CPUs (all weights 1 here), worked out by hand in each
// case.
func TestSelectVictimsOnNode(t *testing.T) {
	schedmetrics.Register() // the scheduling queue records metrics
	const hour = time.Hour
	tests := []struct {
		name   string
		policy config.PreemptionPolicy
		// nodes: default n1 with 4 CPUs. Victims are selected on n1.
		nodes            []*v1.Node
		pods             []*v1.Pod // bound and pending pods besides the preemptor
		earlier          *earlierPreemption
		preemptor        *v1.Pod
		pdbs             []*policy.PodDisruptionBudget
		wantVictims      []string // ns/name
		wantNumViolating int
		wantCode         fwk.Code
		wantMsg          string // substring of the status message
		check            func(t *testing.T, ps *preFilterState)
	}{
		{
			// n1 is full (1+1+2 = 4 CPUs). The preemptor (priority 10) needs
			// 2 CPUs. Pods of lower priority: b/low-old (1) and b/low-new (2).
			// b/low-old alone frees 1 < 2; b/low-new alone frees 2: the one
			// victim. b/hi (priority 100) may never be taken.
			name:   "classic: the lower-priority pod that makes room is the victim",
			policy: config.PreemptionPriority,
			pods: []*v1.Pod{
				bound(svPod("b", "hi", "1", 100, 3*hour), "n1"),
				bound(svPod("b", "low-old", "1", 0, 2*hour), "n1"),
				bound(svPod("b", "low-new", "2", 0, 1*hour), "n1"),
			},
			preemptor:   svPod("a", "p", "2", 10, hour),
			wantVictims: []string{"b/low-new"},
			wantCode:    fwk.Success,
		},
		{
			// Same priority as the preemptor and Priority preemption: not a
			// victim, whatever the shares.
			name:   "classic: pods of the preemptor's priority are no victims without FairShare",
			policy: config.PreemptionPriority,
			pods: []*v1.Pod{
				bound(svPod("b", "1", "2", 10, 2*hour), "n1"),
				bound(svPod("b", "2", "2", 10, 1*hour), "n1"),
			},
			preemptor: svPod("a", "p", "2", 10, hour),
			wantCode:  fwk.UnschedulableAndUnresolvable,
			wantMsg:   "No preemption victims found",
		},
		{
			// n1 holds 1 CPU of 4: the 2-CPU preemptor fits in the 3 free.
			name:   "fits in the free room: no victims",
			policy: config.PreemptionFairShare,
			pods: []*v1.Pod{
				bound(svPod("b", "low", "1", 0, 2*hour), "n1"),
			},
			preemptor: svPod("a", "p", "2", 10, hour),
			wantCode:  fwk.UnschedulableAndUnresolvable,
			wantMsg:   ErrReasonFitsFree,
			check: func(t *testing.T, ps *preFilterState) {
				if !ps.fitsFree.Load() {
					t.Error("fitsFree not recorded")
				}
			},
		},
		{
			// n1: 6 CPUs, full: a/run (1) and b/1..b/5 (1 each).
			// Pending: a/p (preemptor), a/q, a/r, 1 CPU each.
			// Demand: a 4 CPUs, b 5; capacity 6. Max-min: 3 each (both ask
			// more than 6/2) -> targets a=3, b=3.
			// a holds 1; with the pod 2 <= 3: within its target.
			// b holds 5; it may give up 2 (5-2 = 3 = target).
			// Free 0, the pod needs 1: one victim is enough. b's least
			// important pod is the newest, b/5. b/4 (also within what b may
			// give up) is not needed; a/run (own role, newest of all)
			// must never be taken.
			name:   "fair share: the fewest pods of the over-share role, never the preemptor's own",
			policy: config.PreemptionFairShare,
			nodes:  []*v1.Node{svNode("n1", "6")},
			pods: []*v1.Pod{
				bound(svPod("a", "run", "1", 0, hour/2), "n1"),
				bound(svPod("b", "1", "1", 0, 5*hour), "n1"),
				bound(svPod("b", "2", "1", 0, 4*hour), "n1"),
				bound(svPod("b", "3", "1", 0, 3*hour), "n1"),
				bound(svPod("b", "4", "1", 0, 2*hour), "n1"),
				bound(svPod("b", "5", "1", 0, 1*hour), "n1"),
				svPod("a", "q", "1", 0, hour),
				svPod("a", "r", "1", 0, hour),
			},
			preemptor:   svPod("a", "p", "1", 0, hour),
			wantVictims: []string{"b/5"},
			wantCode:    fwk.Success,
		},
		{
			// n1: 4 CPUs, full: b/1, b/2, c/1, c/2 (1 each). Preemptor a/p
			// asks 2. Demand a 2, b 2, c 2; capacity 4: each role gets 4/3,
			// at pod granularity b=1, c=1 (their first pods), then a=2 (its
			// one pod) -> full. Targets a=2, b=1, c=1.
			// a: 0+2 = 2 = target. b and c each may give up one pod (2-1 =
			// 1 = target), not two. Free 0, the pod needs 2: the newest of
			// each, b/2 and c/2, and both are needed.
			name:   "fair share: one pod of each of two over-share roles",
			policy: config.PreemptionFairShare,
			pods: []*v1.Pod{
				bound(svPod("b", "1", "1", 0, 4*hour), "n1"),
				bound(svPod("b", "2", "1", 0, 2*hour), "n1"),
				bound(svPod("c", "1", "1", 0, 3*hour), "n1"),
				bound(svPod("c", "2", "1", 0, 1*hour), "n1"),
			},
			preemptor:   svPod("a", "p", "2", 0, hour),
			wantVictims: []string{"b/2", "c/2"},
			wantCode:    fwk.Success,
		},
		{
			// As above, but the preemptor is younger than the fair-share
			// preemption delay (1m): no fair-share victim yet, and the time
			// it may preempt (creation + 1m) is recorded.
			name:   "fair share: a pod younger than the delay takes no victims",
			policy: config.PreemptionFairShare,
			pods: []*v1.Pod{
				bound(svPod("b", "1", "1", 0, 4*hour), "n1"),
				bound(svPod("b", "2", "1", 0, 2*hour), "n1"),
				bound(svPod("c", "1", "1", 0, 3*hour), "n1"),
				bound(svPod("c", "2", "1", 0, 1*hour), "n1"),
			},
			preemptor: svPod("a", "p", "2", 0, 0),
			wantCode:  fwk.UnschedulableAndUnresolvable,
			wantMsg:   "No preemption victims found",
			check: func(t *testing.T, ps *preFilterState) {
				want := ps.created.Add(time.Minute).UnixNano()
				if got := ps.deferredUntil.Load(); got != want {
					t.Errorf("deferredUntil = %v, want creation + delay %v", time.Unix(0, got), time.Unix(0, want))
				}
			},
		},
		{
			// n1: 4 CPUs, b/1..b/4 (1 each); n2: 4 CPUs, empty. Preemptor
			// a/p asks 1. Demand a 1, b 4; capacity 8: both get all they
			// ask -> targets a=1, b=4. b is at its target: evicting any of
			// its pods puts it below. No victim.
			name:   "fair share: a role at its fair target gives up nothing",
			policy: config.PreemptionFairShare,
			nodes:  []*v1.Node{svNode("n1", "4"), svNode("n2", "4")},
			pods: []*v1.Pod{
				bound(svPod("b", "1", "1", 0, 4*hour), "n1"),
				bound(svPod("b", "2", "1", 0, 3*hour), "n1"),
				bound(svPod("b", "3", "1", 0, 2*hour), "n1"),
				bound(svPod("b", "4", "1", 0, 1*hour), "n1"),
			},
			preemptor: svPod("a", "p", "1", 0, hour),
			wantCode:  fwk.UnschedulableAndUnresolvable,
			wantMsg:   "No preemption victims found",
		},
		{
			// n1: 4 CPUs, b/1..b/4; n2: 4 CPUs, c/1..c/4 (1 each). Preemptor
			// a/p asks 2. Demand a 2, b 4, c 4; capacity 8: 8/3 each, a
			// asks only 2, the 6 left split b=3, c=3 -> targets a=2, b=3,
			// c=3. b may give up one pod (4-1 = 3), not two (2 < 3). On n1
			// the pod needs 2 CPUs and only b's pods are there: one is not
			// enough, two would put b below its target. No victims.
			name:   "fair share: victims that would put their role below its target are refused",
			policy: config.PreemptionFairShare,
			nodes:  []*v1.Node{svNode("n1", "4"), svNode("n2", "4")},
			pods: []*v1.Pod{
				bound(svPod("b", "1", "1", 0, 4*hour), "n1"),
				bound(svPod("b", "2", "1", 0, 3*hour), "n1"),
				bound(svPod("b", "3", "1", 0, 2*hour), "n1"),
				bound(svPod("b", "4", "1", 0, 1*hour), "n1"),
				bound(svPod("c", "1", "1", 0, 4*hour), "n2"),
				bound(svPod("c", "2", "1", 0, 3*hour), "n2"),
				bound(svPod("c", "3", "1", 0, 2*hour), "n2"),
				bound(svPod("c", "4", "1", 0, 1*hour), "n2"),
			},
			preemptor: svPod("a", "p", "2", 0, hour),
			wantCode:  fwk.Unschedulable,
		},
		{
			// Priority and fairness together. n1: 4 CPUs, b/lo (priority
			// 0) and b/hi1..b/hi3 (priority 10); n2: 4 CPUs, c/1..c/4
			// (priority 10); 1 CPU each. Preemptor a/p (priority 10) asks
			// 2. Demand a 2, b 4, c 4; capacity 8 -> targets a=2, b=3, c=3
			// (as in the case above; priority does not enter the targets).
			// b/lo may go by priority; the pod then needs one more CPU,
			// and on n1 only b's pods of its priority are left. b without
			// b/lo holds 3 = target: giving up b/hi3 too puts it at 2 < 3.
			// Counting only the fair-share victim (4-1 = 3) would wrongly
			// pass. So nothing on n1 makes room fairly.
			name:   "priority and fair-share victims of one role count together",
			policy: config.PreemptionFairShare,
			nodes:  []*v1.Node{svNode("n1", "4"), svNode("n2", "4")},
			pods: []*v1.Pod{
				bound(svPod("b", "lo", "1", 0, 5*hour), "n1"),
				bound(svPod("b", "hi1", "1", 10, 4*hour), "n1"),
				bound(svPod("b", "hi2", "1", 10, 3*hour), "n1"),
				bound(svPod("b", "hi3", "1", 10, 2*hour), "n1"),
				bound(svPod("c", "1", "1", 10, 4*hour), "n2"),
				bound(svPod("c", "2", "1", 10, 3*hour), "n2"),
				bound(svPod("c", "3", "1", 10, 2*hour), "n2"),
				bound(svPod("c", "4", "1", 10, 1*hour), "n2"),
			},
			preemptor: svPod("a", "p", "2", 10, hour),
			wantCode:  fwk.Unschedulable,
		},
		{
			// As above with room for fairness: n1 has 6 CPUs, b/lo
			// (priority 0) and b/hi1..b/hi5 (priority 10); n2: 4 CPUs,
			// c/1..c/4 (priority 10). Demand a 2, b 6, c 4; capacity 10:
			// a asks less than 10/3 and gets 2; the 8 left split b=4, c=4
			// -> targets a=2, b=4, c=4. b holds 6 and may give up 2 in
			// all: b/lo by priority and one of its priority-10 pods, the
			// newest, b/hi5 (6-2 = 4 = target). n1 is full; the pod needs
			// 2: both go.
			name:   "priority and fair-share victims of one role within its target",
			policy: config.PreemptionFairShare,
			nodes:  []*v1.Node{svNode("n1", "6"), svNode("n2", "4")},
			pods: []*v1.Pod{
				bound(svPod("b", "lo", "1", 0, 6*hour), "n1"),
				bound(svPod("b", "hi1", "1", 10, 5*hour), "n1"),
				bound(svPod("b", "hi2", "1", 10, 4*hour), "n1"),
				bound(svPod("b", "hi3", "1", 10, 3*hour), "n1"),
				bound(svPod("b", "hi4", "1", 10, 2*hour), "n1"),
				bound(svPod("b", "hi5", "1", 10, 90*time.Minute), "n1"),
				bound(svPod("c", "1", "1", 10, 4*hour), "n2"),
				bound(svPod("c", "2", "1", 10, 3*hour), "n2"),
				bound(svPod("c", "3", "1", 10, 2*hour), "n2"),
				bound(svPod("c", "4", "1", 10, 1*hour), "n2"),
			},
			preemptor:   svPod("a", "p", "2", 10, hour),
			wantVictims: []string{"b/hi5", "b/lo"},
			wantCode:    fwk.Success,
		},
		{
			// n1: 4 CPUs, b/1..b/4 (1 each). An earlier preemption by a/p1
			// (1 CPU) is evicting b/4; a/p1 is nominated to n1. Now a/p2
			// (1 CPU) preempts.
			// Demand: a 2 (p1 owed its room, p2), b 3 (b/4 leaving is no
			// demand); capacity 4 -> targets a=2, b=2.
			// a: 1 (p1) + 1 = 2 = target. b holds 3: it may give up one
			// more pod. Room on n1: b/4's CPU is p1's, so p2 needs one more
			// victim: the newest b pod still staying, b/3. b/4 must not be
			// taken again (it would promise its room twice, and take two
			// victims for one pod).
			name:   "victims being evicted are not taken twice",
			policy: config.PreemptionFairShare,
			pods: []*v1.Pod{
				bound(svPod("b", "1", "1", 0, 4*hour), "n1"),
				bound(svPod("b", "2", "1", 0, 3*hour), "n1"),
				bound(svPod("b", "3", "1", 0, 2*hour), "n1"),
				bound(svPod("b", "4", "1", 0, 1*hour), "n1"),
			},
			earlier:     &earlierPreemption{preemptor: svPod("a", "p1", "1", 0, 2*hour), node: "n1", victims: []string{"b/4"}},
			preemptor:   svPod("a", "p2", "1", 0, hour),
			wantVictims: []string{"b/3"},
			wantCode:    fwk.Success,
		},
		{
			// Control for the PDB cases: n1 full with b/old, b/new (2 CPUs
			// each, priority 0); the preemptor (priority 10) needs 2. One
			// victim is enough; the older is reprieved first, so the newer
			// goes.
			name:   "PDB: without a budget the newer pod is the victim",
			policy: config.PreemptionPriority,
			pods: []*v1.Pod{
				bound(labelled(svPod("b", "old", "2", 0, 2*hour), "app", "old"), "n1"),
				bound(labelled(svPod("b", "new", "2", 0, 1*hour), "app", "new"), "n1"),
			},
			preemptor:   svPod("a", "p", "2", 10, hour),
			wantVictims: []string{"b/new"},
			wantCode:    fwk.Success,
		},
		{
			// As above with a PDB allowing no disruption of b/new: it is
			// reprieved first (before b/old), so b/old goes, and no budget
			// is violated.
			name:   "PDB: the PDB-violating victim is reprieved first",
			policy: config.PreemptionPriority,
			pods: []*v1.Pod{
				bound(labelled(svPod("b", "old", "2", 0, 2*hour), "app", "old"), "n1"),
				bound(labelled(svPod("b", "new", "2", 0, 1*hour), "app", "new"), "n1"),
			},
			pdbs:        []*policy.PodDisruptionBudget{svPDB("b", "app", "new", 0)},
			preemptor:   svPod("a", "p", "2", 10, hour),
			wantVictims: []string{"b/old"},
			wantCode:    fwk.Success,
		},
		{
			// The preemptor needs all 4 CPUs: both pods go. One PDB covers
			// both and allows 1 disruption: the second eviction violates it
			// once.
			name:   "PDB: violations counted when the protected pods must go",
			policy: config.PreemptionPriority,
			pods: []*v1.Pod{
				bound(labelled(svPod("b", "old", "2", 0, 2*hour), "app", "web"), "n1"),
				bound(labelled(svPod("b", "new", "2", 0, 1*hour), "app", "web"), "n1"),
			},
			pdbs:             []*policy.PodDisruptionBudget{svPDB("b", "app", "web", 1)},
			preemptor:        svPod("a", "p", "4", 10, hour),
			wantVictims:      []string{"b/new", "b/old"},
			wantNumViolating: 1,
			wantCode:         fwk.Success,
		},
		{
			// Budget 0 and both pods needed: two violations.
			name:   "PDB: every protected victim beyond the budget counts",
			policy: config.PreemptionPriority,
			pods: []*v1.Pod{
				bound(labelled(svPod("b", "old", "2", 0, 2*hour), "app", "web"), "n1"),
				bound(labelled(svPod("b", "new", "2", 0, 1*hour), "app", "web"), "n1"),
			},
			pdbs:             []*policy.PodDisruptionBudget{svPDB("b", "app", "web", 0)},
			preemptor:        svPod("a", "p", "4", 10, hour),
			wantVictims:      []string{"b/new", "b/old"},
			wantNumViolating: 2,
			wantCode:         fwk.Success,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, ctx := ktesting.NewTestContext(t)
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()

			pl, st := testPlugin(t)
			pl.args = &config.DRFArgs{Preemption: tt.policy, FairSharePreemptionDelay: metav1.Duration{Duration: time.Minute}}
			nodes := tt.nodes
			if nodes == nil {
				nodes = []*v1.Node{svNode("n1", "4")}
			}
			pending := []*v1.Pod{tt.preemptor}
			if tt.earlier != nil {
				tt.earlier.preemptor.Status.NominatedNodeName = tt.earlier.node
				pending = append(pending, tt.earlier.preemptor)
			}
			var placed []*v1.Pod
			for _, p := range tt.pods {
				if p.Spec.NodeName != "" {
					placed = append(placed, p)
				} else {
					pending = append(pending, p)
				}
			}
			all := append(append([]*v1.Pod{}, placed...), pending...)

			// The cluster state: nodes, namespaces, pods.
			for _, n := range nodes {
				st.UpsertNode(n)
			}
			for _, p := range all {
				st.UpsertNamespace(&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.Namespace}})
			}
			for _, p := range all {
				st.UpsertPod(p)
			}
			if e := tt.earlier; e != nil {
				var victims []*v1.Pod
				for _, p := range tt.pods {
					for _, name := range e.victims {
						if p.Namespace+"/"+p.Name == name {
							victims = append(victims, p)
						}
					}
				}
				st.Preempting(e.preemptor, e.node, victims)
				for _, v := range victims {
					if !st.Evicting(v.UID) {
						t.Fatalf("setup: %s not evicting", v.Name)
					}
				}
			}

			// The framework, as default_preemption_test.go builds it.
			var objs []runtime.Object
			for _, n := range nodes {
				objs = append(objs, n)
			}
			for _, p := range all {
				objs = append(objs, p)
			}
			informerFactory := informers.NewSharedInformerFactory(clientsetfake.NewClientset(objs...), 0)
			queue := internalqueue.NewSchedulingQueue(nil, informerFactory)
			snapshot := internalcache.NewSnapshot(placed, nodes)
			fh, err := tf.NewFramework(ctx,
				[]tf.RegisterPluginFunc{
					tf.RegisterQueueSortPlugin(queuesort.Name, queuesort.New),
					tf.RegisterBindPlugin(defaultbinder.Name, defaultbinder.New),
					tf.RegisterPluginAsExtensions(noderesources.Name,
						frameworkruntime.FactoryAdapter(feature.Features{}, noderesources.NewFit), "Filter", "PreFilter"),
				}, "s",
				frameworkruntime.WithPodNominator(queue),
				frameworkruntime.WithSnapshotSharedLister(snapshot),
				frameworkruntime.WithMutableSnapshotLister(snapshot),
				frameworkruntime.WithInformerFactory(informerFactory),
				frameworkruntime.WithLogger(logger),
			)
			if err != nil {
				t.Fatal(err)
			}
			pl.handle = fh
			p := &preemptor{pl}
			ev := preemption.NewEvaluator(Name, fh, p, preemption.NewExecutor(fh, featuresOf()))
			informerFactory.Start(ctx.Done())
			informerFactory.WaitForCacheSync(ctx.Done())
			if e := tt.earlier; e != nil {
				// The earlier preemptor waits in the queue, nominated to
				// the node (the nominator gives its requests from there).
				queue.Add(ctx, e.preemptor)
				pi, err := framework.NewPodInfo(e.preemptor)
				if err != nil {
					t.Fatal(err)
				}
				queue.AddNominatedPod(logger, pi, &fwk.NominatingInfo{NominatedNodeName: e.node, NominatingMode: fwk.ModeOverride})
				if got := queue.NominatedPodsForNode(e.node); len(got) != 1 || got[0].GetPod().Spec.Containers == nil {
					t.Fatalf("setup: pods nominated to %s: %v, want %s", e.node, got, e.preemptor.Name)
				}
			}

			cs := framework.NewCycleState()
			if _, s, _ := fh.RunPreFilterPlugins(ctx, cs, tt.preemptor); !s.IsSuccess() {
				t.Fatalf("framework PreFilter: %v", s)
			}
			if _, s := pl.PreFilter(ctx, cs, tt.preemptor, nil); !s.IsSuccess() {
				t.Logf("DRF PreFilter: %v", s)
			}
			ps, err := getPreFilterState(cs)
			if err != nil {
				t.Fatal(err)
			}

			nodeInfo, err := snapshot.NodeInfos().Get("n1")
			if err != nil {
				t.Fatal(err)
			}
			victims, err := ev.GetVictimsOnNode(ctx, nodeInfo)
			if err != nil {
				t.Fatal(err)
			}
			got, numViolating, status := p.SelectVictimsOnNode(ctx, cs.Clone(), tt.preemptor, nodeInfo.Snapshot(), victims, tt.pdbs)

			if status.Code() != tt.wantCode {
				t.Errorf("status %v, want code %v", status, tt.wantCode)
			}
			if tt.wantMsg != "" && !strings.Contains(status.Message(), tt.wantMsg) {
				t.Errorf("status message %q, want it to contain %q", status.Message(), tt.wantMsg)
			}
			var names []string
			for _, v := range got {
				names = append(names, v.Namespace+"/"+v.Name)
			}
			sort.Strings(names)
			if diff := cmp.Diff(tt.wantVictims, names, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("victims (-want +got):\n%s", diff)
			}
			if numViolating != tt.wantNumViolating {
				t.Errorf("numViolating = %d, want %d", numViolating, tt.wantNumViolating)
			}
			// PostFilter accounts for the victims the dry run recorded.
			if stored, ok := ps.victims.Load("n1"); tt.wantCode == fwk.Success {
				if !ok || len(stored.([]*v1.Pod)) != len(got) {
					t.Errorf("victims recorded for PostFilter: %v, want the %d returned", ok, len(got))
				}
			} else if ok {
				t.Errorf("%d victims recorded for a node that offers no preemption", len(stored.([]*v1.Pod)))
			}
			if tt.check != nil {
				tt.check(t, ps)
			}
		})
	}
}
