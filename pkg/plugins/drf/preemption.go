package drf

import (
	"context"
	"slices"
	"sort"
	"time"

	v1 "k8s.io/api/core/v1"
	policy "k8s.io/api/policy/v1"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
	extenderv1 "k8s.io/kube-scheduler/extender/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/internal/cyclestate"
)

// preemptor implements preemption.Interface for the kube-scheduler's
// preemption Evaluator and Executor, which find candidate nodes, pick one,
// respect PodDisruptionBudgets and evict. What differs from the default
// preemption is who may be a victim:
//
//   - a pod of lower priority than the preemptor (classic preemption), and,
//     with preemption FairShare,
//   - a pod of the same priority of another role, when evicting it keeps that
//     role at or above its fair target while the preemptor's role stays
//     within its own (cluster.State.FairToPreempt; the targets are pkg/fair's
//     weighted DRF with guarantees and limits).
//
// Victims are taken lowest priority first, most over-share role first,
// newest first; PDB-violating victims are reprieved first.
type preemptor struct{ pl *DRF }

var _ preemption.Interface = &preemptor{}

func featuresOf() feature.Features {
	return feature.NewSchedulerFeaturesFromGates(utilfeature.DefaultFeatureGate)
}

// GetOffsetAndNumCandidates looks at every node: fair-share victims can be
// anywhere, and preemption is the rare path.
func (p *preemptor) GetOffsetAndNumCandidates(nodes int32) (int32, int32) { return 0, nodes }

// CandidatesToVictimsMap maps node names to their victims.
func (p *preemptor) CandidatesToVictimsMap(candidates []preemption.Candidate) map[string]*extenderv1.Victims {
	m := make(map[string]*extenderv1.Victims, len(candidates))
	for _, c := range candidates {
		m[c.Name()] = c.Victims()
	}
	return m
}

// PodEligibleToPreemptOthers refuses pods with preemptionPolicy Never and
// pods whose earlier victims are still terminating on their nominated node.
func (p *preemptor) PodEligibleToPreemptOthers(_ context.Context, pod *v1.Pod, nominatedNodeStatus *fwk.Status) (bool, string) {
	if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy == v1.PreemptNever {
		return false, "not eligible due to preemptionPolicy=Never."
	}
	node := pod.Status.NominatedNodeName
	if node == "" || nominatedNodeStatus.Code() == fwk.UnschedulableAndUnresolvable {
		return true, ""
	}
	if ni, _ := p.pl.handle.MutableSnapshotSharedLister().NodeInfos().Get(node); ni != nil {
		for _, pi := range ni.GetPods() {
			if preemption.PodTerminatingByPreemption(pi.GetPod()) {
				return false, "not eligible due to a terminating pod on the nominated node."
			}
		}
	}
	return true, ""
}

// OrderedScoreFuncs keeps the Evaluator's default node choice (fewest PDB
// violations, lowest victim priorities, fewest victims, ...).
func (p *preemptor) OrderedScoreFuncs(context.Context, map[string]*extenderv1.Victims) []func(string) int64 {
	return nil
}

// victim is a potential victim with what ordering needs.
type victim struct {
	dv      *preemption.DomainVictim
	pod     *v1.Pod
	role    string
	key     float64 // the role's key: higher is more over its share
	classic bool    // lower priority than the preemptor
}

// SelectVictimsOnNode finds the fewest victims on the node that make room for
// the pod, as kube-scheduler's default preemption does, with DRF's rule of
// who may be a victim:
//
//  1. the dry run judges the room the node would have (the cycle state is
//     marked a preemption dry run: MesosOffers counts the node's free
//     resources, not only the offers the role holds now), with the victims
//     of earlier preemptions gone and their preemptors in their place; if
//     the pod fits with no victim, nothing is evicted (its offer is coming);
//  2. potential victims: pods of lower priority (classic preemption) and,
//     with FairShare preemption once the pod is older than the fair-share
//     preemption delay, pods of the same priority of other roles whose
//     eviction keeps their role at or above its fair target while the
//     preemptor's role stays within its own (cluster.State.FairToPreempt);
//  3. remove them all; the pod must then fit;
//  4. reprieve victims, most important first (higher priority, the role
//     least over its share, then kube-scheduler's order), while the pod
//     still fits: PDB-violating victims are reprieved first;
//  5. if any victim is taken by fairness, the victims left must pass
//     FairToPreempt together (lower-priority ones count as gone from
//     their role).
func (p *preemptor) SelectVictimsOnNode(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, nodeInfo fwk.NodeInfo,
	all []*preemption.DomainVictim, pdbs []*policy.PodDisruptionBudget) ([]*v1.Pod, int, *fwk.Status) {
	pl := p.pl
	ps, err := getPreFilterState(cs)
	if err != nil {
		return nil, 0, fwk.AsStatus(err)
	}
	cyclestate.MarkPreemptionDryRun(cs)
	removePod := func(pi fwk.PodInfo) *fwk.Status {
		if err := nodeInfo.RemovePod(klog.FromContext(ctx), pi.GetPod()); err != nil {
			return fwk.AsStatus(err)
		}
		return pl.handle.RunPreFilterExtensionRemovePod(ctx, cs, pod, pi, nodeInfo)
	}
	remove := func(v *victim) *fwk.Status { return removePod(v.dv.Pods()[0]) }
	add := func(v *victim) *fwk.Status {
		pi := v.dv.Pods()[0]
		nodeInfo.AddPodInfo(pi)
		return pl.handle.RunPreFilterExtensionAddPod(ctx, cs, pod, pi, nodeInfo)
	}
	// Victims of earlier preemptions are leaving: their room belongs to
	// their preemptors, which the filters count as nominated pods. Taking
	// them as victims again would promise the same room twice.
	all = slices.DeleteFunc(slices.Clone(all), func(dv *preemption.DomainVictim) bool {
		if dv.IsGroup() || len(dv.Pods()) != 1 || !pl.state.Evicting(dv.Pods()[0].GetPod().UID) {
			return false
		}
		if s := removePod(dv.Pods()[0]); !s.IsSuccess() {
			klog.FromContext(ctx).V(4).Info("Cannot take a leaving victim off the node in a dry run", "pod", klog.KObj(dv.Pods()[0].GetPod()), "status", s)
		}
		return true
	})
	fits := func() bool { return pl.handle.RunFilterPluginsWithNominatedPods(ctx, cs, pod, nodeInfo).IsSuccess() }
	if fits() {
		ps.fitsFree.Store(true)
		return nil, 0, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, ErrReasonFitsFree)
	}
	potential, byDV := p.potentialVictims(pod, ps, all)
	if len(potential) == 0 {
		return nil, 0, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "No preemption victims found for incoming pod")
	}
	for _, v := range potential {
		if s := remove(v); !s.IsSuccess() {
			return nil, 0, s
		}
	}
	if !fits() {
		return nil, 0, fwk.NewStatus(fwk.Unschedulable, "the pod does not fit even with every possible victim gone")
	}
	sortMostImportantFirst(potential)
	dvs := make([]*preemption.DomainVictim, len(potential))
	for i, v := range potential {
		dvs[i] = v.dv
	}
	violating, nonViolating := preemption.FilterVictimsWithPDBViolation(dvs, pdbs)
	var victims []*victim
	reprieve := func(v *victim) (bool, *fwk.Status) {
		if s := add(v); !s.IsSuccess() {
			return false, s
		}
		if fits() {
			return true, nil
		}
		if s := remove(v); !s.IsSuccess() {
			return false, s
		}
		victims = append(victims, v)
		return false, nil
	}
	numViolating := 0
	for _, vv := range violating {
		kept, s := reprieve(byDV[vv.Victim])
		if s != nil {
			return nil, 0, s
		}
		if !kept {
			numViolating += vv.ViolateCount
		}
	}
	for _, dv := range nonViolating {
		if _, s := reprieve(byDV[dv]); s != nil {
			return nil, 0, s
		}
	}
	out := make([]*v1.Pod, len(victims))
	byFairness := false
	for i, v := range victims {
		out[i] = v.pod
		byFairness = byFairness || !v.classic
	}
	// All victims together: a role giving up pods by fairness must stay at
	// its target without its lower-priority victims too.
	if byFairness && !pl.state.FairToPreempt(pod, ps.role, ps.request, out) {
		return nil, 0, fwk.NewStatus(fwk.Unschedulable, ErrReasonBelowFairShare)
	}
	ps.victims.Store(nodeInfo.Node().Name, out)
	return out, numViolating, nil
}

// Reasons a node offers no preemption.
const (
	// ErrReasonFitsFree: the node has room for the pod already.
	ErrReasonFitsFree = "the node has room for the pod without preemption"
	// ErrReasonBelowFairShare: the victims the node needs would leave their
	// role below its fair target.
	ErrReasonBelowFairShare = "evicting the pods this node needs would put their role below its fair share"
)

// potentialVictims returns the pods on the node that may be evicted for the
// pod (see SelectVictimsOnNode), and records when fair-share victims were
// left out only because the pod is younger than the delay. Of each role's
// pods of the preemptor's priority, only as many as the role can give up
// and stay at its fair target — with all its lower-priority candidates gone
// as well — are candidates, its least important ones, so that any subset
// the reprieve leaves is fair to take, and a preemption that needs one pod
// of each of two roles finds them.
func (p *preemptor) potentialVictims(pod *v1.Pod, ps *preFilterState, all []*preemption.DomainVictim) ([]*victim, map[*preemption.DomainVictim]*victim) {
	pl := p.pl
	prio := corev1helpers.PodPriority(pod)
	fairShare := pl.args.Preemption == config.PreemptionFairShare
	due := ps.created.Add(pl.args.FairSharePreemptionDelay.Duration)
	early := time.Now().Before(due)
	var potential []*victim
	byDV := map[*preemption.DomainVictim]*victim{}
	fair := map[string][]*victim{} // fair-share candidates by role
	for _, dv := range all {
		if dv.IsGroup() || len(dv.Pods()) != 1 {
			continue // gangs are left to the default preemption
		}
		vp := dv.Pods()[0].GetPod()
		v := &victim{dv: dv, pod: vp, classic: dv.Priority() < prio}
		v.role, _ = pl.state.RoleOfPod(vp)
		if v.role != "" {
			v.key = pl.state.Role(v.role).Key
		}
		if v.classic {
			potential = append(potential, v)
			byDV[dv] = v
			continue
		}
		if !fairShare || dv.Priority() != prio || v.role == "" || v.role == ps.role {
			continue
		}
		fair[v.role] = append(fair[v.role], v)
	}
	for role, vs := range fair {
		// Least important first: they are the ones to go.
		sort.SliceStable(vs, func(i, j int) bool { return preemption.MoreImportantVictim(vs[j].dv, vs[i].dv) })
		// The role's lower-priority candidates may all go too: count them
		// as gone, so that whatever the reprieve leaves is fair.
		var taken []*v1.Pod
		for _, c := range potential {
			if c.role == role {
				taken = append(taken, c.pod)
			}
		}
		for _, v := range vs {
			if !pl.state.FairToPreempt(pod, ps.role, ps.request, append(taken, v.pod)) {
				break
			}
			if early {
				ps.deferredUntil.Store(due.UnixNano())
				break
			}
			taken = append(taken, v.pod)
			potential = append(potential, v)
			byDV[v.dv] = v
		}
	}
	return potential, byDV
}

// sortMostImportantFirst orders victims for reprieve: higher priority, then
// the role least over its share, then kube-scheduler's order (older first).
func sortMostImportantFirst(vs []*victim) {
	sort.SliceStable(vs, func(i, j int) bool {
		a, b := vs[i], vs[j]
		if a.dv.Priority() != b.dv.Priority() {
			return a.dv.Priority() > b.dv.Priority()
		}
		if a.key != b.key {
			return a.key < b.key
		}
		return preemption.MoreImportantVictim(a.dv, b.dv)
	})
}

// handoverWait is how long a preemptor waits for the room its victims
// leave before it may preempt again: the victims' deletion, the offer of
// their room and the binding take API round trips, and preempting again
// meanwhile would evict twice for one pod.
const handoverWait = 5 * time.Second

// waitingForVictims reports whether a nominated preemptor should wait for
// the room its preemption made: its victims are still leaving its node, or
// they left less than handoverWait ago.
func (pl *DRF) waitingForVictims(pod *v1.Pod) bool {
	p, ok := pl.state.Pod(pod.UID)
	if !ok || !p.Nominated {
		return false
	}
	if time.Since(p.NominatedSince) < handoverWait {
		return true
	}
	ni, _ := pl.handle.SnapshotSharedLister().NodeInfos().Get(p.NominatedNode)
	if ni == nil {
		return false
	}
	for _, pi := range ni.GetPods() {
		if preemption.PodTerminatingByPreemption(pi.GetPod()) || pl.state.Evicting(pi.GetPod().UID) {
			return true
		}
	}
	return false
}

// countEvictions counts the victims of a preemption by reason.
func (pl *DRF) countEvictions(pod *v1.Pod, victims []*v1.Pod) {
	prio := corev1helpers.PodPriority(pod)
	for _, v := range victims {
		reason := metrics.EvictionFairShare
		if corev1helpers.PodPriority(v) < prio {
			reason = metrics.EvictionPriority
		}
		metrics.PreemptionEvictions.WithLabelValues(reason).Inc()
	}
}
