package offers

import (
	"context"
	"math"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// batcher gathers the pods placed on one offer and accepts them in one
// ACCEPT, so several pods pack into one offer (the historic
// kubernetes-mesos launched one pod per offer). A local source's offer is
// accepted AcceptBatchWindow after its first pod. A master's offer is
// accepted once no pod was placed on it for AcceptBatchWindow, and at the
// latest one AllocationInterval after its first pod: Mesos takes an offer
// once, and what an ACCEPT leaves comes back only at the master's next
// allocation, so an offer still being filled is kept open (pods placed on
// it wait in Permit meanwhile). Either is accepted at once when the pod
// just placed would not fit in what is left of it. With a Mesos master, pods wait in Permit; they are
// allowed when the ACCEPT succeeds and rejected (and unreserved) when it
// fails. With a local source (offer.Local: the embedded allocator) they go
// on to bind at once and the batch is accepted behind them: a pod waiting
// in Permit costs an API write (the scheduler records its nominated node)
// and an ACCEPT that is bookkeeping cannot fail for them.
type batcher struct {
	pl *Offers
	// local says whether an offer's source is local (offer.Local).
	local   func(offerID string) bool
	mu      sync.Mutex
	pending map[string]*batch     // offers with a flush scheduled
	outcome map[types.UID]outcome // decided before the pod was waiting
	// on is the offer each pod was last reserved on, with a master (a
	// local source's pods never wait for an outcome). An outcome is for one
	// offer: a pod that left it (its Permit found the offer gone, and it
	// was placed again) must not take the outcome of the ACCEPT that
	// launched its old task — allowed on its new node by it, it would bind
	// without a task there.
	on map[types.UID]string
	// now is the clock the batches are timed by (time.Now).
	now func() time.Time
}

// batch is when an offer got its first and its latest pod.
type batch struct{ first, last time.Time }

type outcome struct {
	offer string // the offer accepted
	allow bool
	msg   string
}

func newBatcher(pl *Offers) *batcher {
	return &batcher{pl: pl, local: pl.source.LocalOffer, pending: map[string]*batch{}, outcome: map[types.UID]outcome{}, on: map[types.UID]string{}, now: time.Now}
}

// permitTimeout bounds a pod's wait in Permit: the longest an offer is
// kept open plus the ACCEPT round trip (a Mesos master may take a while).
func (b *batcher) permitTimeout() time.Duration {
	return max(b.pl.args.AcceptBatchWindow.Duration, b.pl.args.AllocationInterval.Duration) + 30*time.Second
}

// permit decides Permit for a reserved pod: its offer's outcome if known,
// else wait for the batch (scheduling a flush if it is the first pod).
func (b *batcher) permit(pod *v1.Pod) (*fwk.Status, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if o, ok := b.outcome[pod.UID]; ok {
		delete(b.outcome, pod.UID)
		if o.offer == b.on[pod.UID] {
			delete(b.on, pod.UID)
			if o.allow {
				return nil, 0
			}
			return fwk.NewStatus(fwk.Unschedulable, o.msg), 0
		}
		// An outcome for an offer the pod left: not this attempt's.
	}
	id, ok := b.pl.book.Reserved(pod.UID)
	if !ok {
		if role, err := b.pl.state.RoleOfPod(pod); err == nil {
			b.pl.offerGone(role, pod, b.pl.state.RequestOf(pod), resources.HostPorts(pod))
		}
		return fwk.NewStatus(fwk.Unschedulable, ErrReasonOfferGone), 0
	}
	now := b.now()
	switch {
	case b.spent(id, pod):
		// Nothing more fits: accept now rather than at the end of the window.
		b.pending[id] = &batch{first: now, last: now}
		go b.flush(id)
	case b.pending[id] == nil:
		b.pending[id] = &batch{first: now, last: now}
		after(b.pl.ctx, b.pl.args.AcceptBatchWindow.Duration, func() { b.due(id) })
	default:
		b.pending[id].last = now
	}
	if b.local(id) {
		return nil, 0
	}
	return fwk.NewStatus(fwk.Wait), b.permitTimeout()
}

// spent reports whether nothing, or not another pod like pod, fits in
// what is left of an offer.
func (b *batcher) spent(id string, pod *v1.Pod) bool {
	if b.pl.book.Full(id) {
		return true
	}
	free, _, ok := b.pl.book.Free(id)
	return ok && !b.pl.state.RequestOf(pod).Fits(free)
}

// due flushes an offer whose window is over; a master's offer that got a
// pod less than AcceptBatchWindow ago is kept open until it is quiet that
// long, or until AllocationInterval after its first pod.
func (b *batcher) due(id string) {
	b.mu.Lock()
	bt := b.pending[id]
	if bt == nil {
		b.mu.Unlock()
		return // flushed already
	}
	if !b.local(id) {
		now := b.now()
		end := bt.last.Add(b.pl.args.AcceptBatchWindow.Duration)
		if latest := bt.first.Add(max(b.pl.args.AllocationInterval.Duration, b.pl.args.AcceptBatchWindow.Duration)); latest.Before(end) {
			end = latest
		}
		if now.Before(end) {
			b.mu.Unlock()
			after(b.pl.ctx, end.Sub(now), func() { b.due(id) })
			return
		}
	}
	b.mu.Unlock()
	b.flush(id)
}

// flush accepts an offer with the pods reserved on it (a second flush of
// the same offer finds it gone and does nothing).
func (b *batcher) flush(id string) {
	ctx := b.pl.ctx
	logger := klog.FromContext(ctx)
	b.mu.Lock()
	delete(b.pending, id)
	o, launches, ok := b.pl.book.Take(id)
	b.mu.Unlock()
	if !ok {
		return // rescinded meanwhile: its pods were rejected
	}
	metrics.OfferBookSize.Set(float64(b.pl.book.Len()))
	failed, err := b.pl.source.Accept(ctx, id, launches)
	if left := leftover(o, launches); !left.IsZero() {
		// What the pods did not use goes back to the pool.
		defer b.pl.state.Touch(true)
	}
	if b.local(id) {
		// The pods are binding already; a local ACCEPT only fails for an
		// offer that went away meanwhile (node lost, timeout), and their
		// requests count on their node all the same.
		if err != nil {
			logger.V(2).Info("ACCEPT of a local offer failed; its pods bind regardless", "offerID", id, "role", o.Role, "node", o.Node, "pods", len(launches), "err", err)
		} else {
			metrics.Offers.WithLabelValues(o.Role, metrics.OfferAccepted).Inc()
			logger.V(4).Info("Offer accepted", "offerID", id, "role", o.Role, "node", o.Node, "pods", len(launches))
		}
		return
	}
	if err != nil {
		logger.Error(err, "ACCEPT failed", "offerID", id, "role", o.Role, "node", o.Node, "pods", len(launches))
		for _, l := range launches {
			b.decide(l.Pod, outcome{offer: id, msg: "accepting the offer failed: " + err.Error()})
		}
		b.pl.state.Touch(true)
		return
	}
	metrics.Offers.WithLabelValues(o.Role, metrics.OfferAccepted).Inc()
	logger.V(4).Info("Offer accepted", "offerID", id, "role", o.Role, "node", o.Node, "pods", len(launches), "failed", len(failed))
	for _, l := range launches {
		if ferr, bad := failed[l.Pod.UID]; bad {
			logger.Info("Pod not launched", "pod", klog.KObj(l.Pod), "offerID", id, "err", ferr)
			b.decide(l.Pod, outcome{offer: id, msg: "launching on the offer failed: " + ferr.Error()})
			continue
		}
		b.decide(l.Pod, outcome{offer: id, allow: true})
	}
	if len(failed) > 0 {
		b.pl.state.Touch(true)
	}
}

// decide delivers an outcome to a pod waiting in Permit. A pod reserved on
// the offer may not be waiting yet: the framework registers it as waiting
// right after Permit returns, in the same goroutine, so the outcome is
// kept for its Permit and delivered as soon as it waits — tried again
// after 1 ms, doubling to at most 100 ms, within the Permit timeout and
// the plugin's context (the first retry nearly always finds it).
func (b *batcher) decide(pod *v1.Pod, o outcome) {
	if b.deliver(pod.UID, o) {
		return
	}
	b.mu.Lock()
	if b.on[pod.UID] != o.offer {
		b.mu.Unlock()
		return // the pod left the offer: nobody waits for this outcome
	}
	b.outcome[pod.UID] = o
	b.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(b.pl.ctx, b.permitTimeout())
		defer cancel()
		backoff := wait.Backoff{Duration: time.Millisecond, Factor: 2, Cap: 100 * time.Millisecond, Steps: math.MaxInt32}
		for {
			select {
			case <-ctx.Done():
				return // its Permit times out and the pod is retried
			case <-time.After(backoff.Step()):
			}
			b.mu.Lock()
			_, still := b.outcome[pod.UID]
			b.mu.Unlock()
			if !still {
				return // its Permit took it
			}
			if b.deliver(pod.UID, o) {
				b.mu.Lock()
				delete(b.outcome, pod.UID)
				b.mu.Unlock()
				return
			}
		}
	}()
}

// deliver gives the outcome to the pod if it waits in Permit on the
// outcome's offer. It reports whether the outcome is settled (delivered).
func (b *batcher) deliver(uid types.UID, o outcome) bool {
	b.mu.Lock()
	current := b.on[uid] == o.offer
	b.mu.Unlock()
	if !current {
		return false
	}
	wp := b.pl.handle.GetWaitingPod(uid)
	if wp == nil {
		return false
	}
	b.mu.Lock()
	if b.on[uid] != o.offer { // placed again meanwhile
		b.mu.Unlock()
		return false
	}
	delete(b.on, uid)
	b.mu.Unlock()
	if o.allow {
		wp.Allow(Name)
	} else {
		wp.Reject(Name, o.msg)
	}
	return true
}

// forget drops what is known of a pod (Unreserve).
func (b *batcher) forget(uid types.UID) {
	b.mu.Lock()
	delete(b.outcome, uid)
	delete(b.on, uid)
	b.mu.Unlock()
}

// reserved records the offer a pod was reserved on (Reserve), with a master.
func (b *batcher) reserved(uid types.UID, offerID string) {
	if b.local(offerID) {
		return
	}
	b.mu.Lock()
	b.on[uid] = offerID
	b.mu.Unlock()
}

// leftover is what an offer holds beyond its launches' requests.
func leftover(o offer.Offer, launches []offer.Launch) resources.Vector {
	left := o.Resources.Clone()
	for _, l := range launches {
		left.Sub(l.Resources)
	}
	delete(left, v1.ResourcePods)
	return left.ClampZero()
}

// after runs f in a goroutine of its own once d has passed, unless ctx
// ends first (then f does not run: the plugin is stopping).
func after(ctx context.Context, d time.Duration, f func()) {
	go func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
			f()
		}
	}()
}
