package drf

import (
	"context"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
)

// waiting remembers the pods DRF's PreFilter turned away (fairness gate, bad
// role, limit, guarantee headroom) and re-activates them in the scheduling
// queue as soon as a change of the cluster state lets them pass, through the
// framework's pod activation rather than the periodic flush. It also
// remembers pods DRF let through that wait for an offer with room free for
// them: they are activated when their role stops being entitled to it (at
// its fair share), so that their reason says so.
type waiting struct {
	mu   sync.Mutex
	pods map[types.UID]waitingPod
	wake chan struct{}
}

type waitingPod struct {
	pod *v1.Pod
	// pass: activate when DRF would let the pod through (true) or turn it
	// away (false).
	pass bool
}

func newWaiting() *waiting {
	return &waiting{pods: map[types.UID]waitingPod{}, wake: make(chan struct{}, 1)}
}

// add waits for the pod to pass DRF's PreFilter.
func (w *waiting) add(pod *v1.Pod) { w.addUntil(pod, true) }

// addUntil waits for DRF's verdict on the pod to become pass.
func (w *waiting) addUntil(pod *v1.Pod, pass bool) {
	w.mu.Lock()
	w.pods[pod.UID] = waitingPod{pod: pod, pass: pass}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *waiting) remove(uid types.UID) {
	w.mu.Lock()
	delete(w.pods, uid)
	w.mu.Unlock()
}

// runActivator re-evaluates the waiting pods after every state change and
// activates those that would now pass PreFilter. Pods of the same role and
// priority share one evaluation.
func (pl *DRF) runActivator(ctx context.Context) {
	logger := klog.FromContext(ctx).WithName(Name)
	changed := pl.state.Subscribe()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-pl.waiting.wake:
		}
		if pods := pl.passing(); len(pods) > 0 {
			logger.V(5).Info("Activating pods that DRF let through", "count", len(pods))
			pl.handle.Activate(logger, pods)
		}
	}
}

// passing removes from the waiting set and returns the pods whose verdict
// is now the one they wait for; pods no longer pending are dropped.
func (pl *DRF) passing() map[string]*v1.Pod {
	pl.waiting.mu.Lock()
	defer pl.waiting.mu.Unlock()
	type group struct {
		ns, req string
		prio    int32
	}
	verdict := map[group]bool{}
	out := map[string]*v1.Pod{}
	for uid, w := range pl.waiting.pods {
		pod := w.pod
		p, ok := pl.state.Pod(uid)
		if !ok || !p.Pending() {
			delete(pl.waiting.pods, uid)
			continue
		}
		g := group{pod.Namespace, p.Request.String(), corev1helpers.PodPriority(pod)}
		pass, seen := verdict[g]
		if !seen {
			pass = pl.admit(pod, p.Request).ok()
			verdict[g] = pass
		}
		if pass == w.pass {
			delete(pl.waiting.pods, uid)
			out[pod.Namespace+"/"+pod.Name] = pod
		}
	}
	return out
}

// deferred holds pods whose fair-share preemption waits for the fair-share
// preemption delay, each with the time it may preempt; they are activated
// then (nothing else would requeue them: no cluster event says a delay is
// over).
type deferred struct {
	mu   sync.Mutex
	pods map[types.UID]deferredPod
	wake chan struct{}
}

type deferredPod struct {
	pod *v1.Pod
	due time.Time
}

func newDeferred() *deferred {
	return &deferred{pods: map[types.UID]deferredPod{}, wake: make(chan struct{}, 1)}
}

func (d *deferred) add(pod *v1.Pod, due time.Time) {
	d.mu.Lock()
	d.pods[pod.UID] = deferredPod{pod: pod, due: due}
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *deferred) remove(uid types.UID) {
	d.mu.Lock()
	delete(d.pods, uid)
	d.mu.Unlock()
}

// due removes and returns the pods whose delay is over, and the time the
// next one is due (zero: none waits).
func (d *deferred) due(now time.Time) (map[string]*v1.Pod, time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]*v1.Pod{}
	var next time.Time
	for uid, p := range d.pods {
		if !p.due.After(now) {
			out[p.pod.Namespace+"/"+p.pod.Name] = p.pod
			delete(d.pods, uid)
			continue
		}
		if next.IsZero() || p.due.Before(next) {
			next = p.due
		}
	}
	return out, next
}

// runDeferred activates deferred pods when their fair-share preemption
// delay is over, until ctx ends.
func (pl *DRF) runDeferred(ctx context.Context) {
	logger := klog.FromContext(ctx).WithName(Name)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		pods, next := pl.deferred.due(time.Now())
		if len(pods) > 0 {
			logger.V(4).Info("Fair-share preemption delay over: trying pods again", "count", len(pods))
			pl.handle.Activate(logger, pods)
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = time.Until(next)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-pl.deferred.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
	}
}
