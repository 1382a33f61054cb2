package offers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/test/build"
)

// The accept batcher's tests drive the batcher the way the framework does:
// Reserve (here straight on the book), then Permit; a pod told to Wait is
// registered as waiting (the fake handle), as the framework does right
// after Permit returns. Where the flush's timing does not matter, the
// window is an hour (it never ends during a test) and the test calls flush
// itself; the window's own timer is exercised with short windows, and
// everything asynchronous is polled with a deadline.

const (
	gi         = int64(1) << 30
	testRole   = "r1"
	longWindow = time.Hour // never ends within a test
)

// acceptCall is one ACCEPT the fake source received.
type acceptCall struct {
	offerID  string
	launches []offer.Launch
}

func (c acceptCall) uids() []types.UID {
	out := make([]types.UID, 0, len(c.launches))
	for _, l := range c.launches {
		out = append(out, l.Pod.UID)
	}
	return out
}

// fakeSource is a Mesos-like (non-Local) offer source recording ACCEPTs;
// it fails every ACCEPT with err, or the pods in failed.
type fakeSource struct {
	err    error
	failed map[types.UID]error

	mu      sync.Mutex
	accepts []acceptCall
}

var _ offer.Source = &fakeSource{}

func (s *fakeSource) Run(ctx context.Context, _ offer.Handler) error {
	<-ctx.Done()
	return nil
}

func (s *fakeSource) Accept(_ context.Context, offerID string, launches []offer.Launch) (map[types.UID]error, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accepts = append(s.accepts, acceptCall{offerID: offerID, launches: append([]offer.Launch(nil), launches...)})
	if s.err != nil {
		return nil, s.err
	}
	return s.failed, nil
}

func (s *fakeSource) Decline(context.Context, []string, time.Duration) error { return nil }
func (s *fakeSource) Suppress(context.Context, ...string) error              { return nil }
func (s *fakeSource) Revive(context.Context, ...string) error                { return nil }

func (s *fakeSource) calls() []acceptCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]acceptCall(nil), s.accepts...)
}

// localSource is the same source marked offer.Local (like the embedded
// allocator).
type localSource struct{ *fakeSource }

func (localSource) LocalAccept() {}

var _ offer.Local = localSource{}

// fakeWaitingPod records what the plugin tells a pod waiting in Permit.
type fakeWaitingPod struct {
	pod *v1.Pod

	mu      sync.Mutex
	allowed []string // plugin names
	rejects []string // messages
}

func (w *fakeWaitingPod) GetPod() *v1.Pod             { return w.pod }
func (w *fakeWaitingPod) GetPendingPlugins() []string { return []string{Name} }
func (w *fakeWaitingPod) Preempt(string, string) bool { return false }
func (w *fakeWaitingPod) Allow(plugin string) {
	w.mu.Lock()
	w.allowed = append(w.allowed, plugin)
	w.mu.Unlock()
}
func (w *fakeWaitingPod) Reject(_ string, msg string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rejects = append(w.rejects, msg)
	return true
}

func (w *fakeWaitingPod) decisions() (allowed, rejects []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.allowed...), append([]string(nil), w.rejects...)
}

// fakeHandle provides GetWaitingPod and Activate only; any other method of
// the embedded (nil) fwk.Handle panics, which would show the batcher using
// it.
type fakeHandle struct {
	fwk.Handle

	mu        sync.Mutex
	waiting   map[types.UID]*fakeWaitingPod
	lookups   int
	activated []string // pods activated, "namespace/name"
}

func (h *fakeHandle) Activate(_ klog.Logger, pods map[string]*v1.Pod) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range pods {
		h.activated = append(h.activated, k)
	}
}

func (h *fakeHandle) activations() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.activated...)
}

func (h *fakeHandle) GetWaitingPod(uid types.UID) fwk.WaitingPod {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lookups++
	if w, ok := h.waiting[uid]; ok {
		return w
	}
	return nil // an untyped nil, as the framework returns
}

// startWaiting registers a pod as waiting in Permit.
func (h *fakeHandle) startWaiting(pod *v1.Pod) *fakeWaitingPod {
	h.mu.Lock()
	defer h.mu.Unlock()
	w := &fakeWaitingPod{pod: pod}
	h.waiting[pod.UID] = w
	return w
}

func (h *fakeHandle) lookupCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lookups
}

// newTestOffers builds the minimal plugin the batcher uses: context, args
// (the window), handle, state, book and source.
func newTestOffers(t *testing.T, src offer.Source, window time.Duration) (*Offers, *fakeHandle) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // stops the window timers and decide's retries
	h := &fakeHandle{waiting: map[types.UID]*fakeWaitingPod{}}
	pl := &Offers{
		ctx:     ctx,
		handle:  h,
		args:    &config.MesosOffersArgs{AcceptBatchWindow: metav1.Duration{Duration: window}},
		state:   cluster.New(testScheduler, cluster.RoleConfig{}),
		book:    offer.NewBook(),
		source:  offer.NewMulti([]offer.Member{{Name: "test", Source: src}}, nil, nil),
		waiting: map[string]map[types.UID]*v1.Pod{}, held: map[types.UID]time.Time{}, revived: map[types.UID]bool{},
		revivedRoles: sets.New[string](), reviving: sets.New[string](),
	}
	pl.batches = newBatcher(pl)
	return pl, h
}

func testPod(name string) *v1.Pod {
	return build.MakePod(testRole, name).UID("uid-" + name).Obj()
}

// testOffer is an offer of res; without pod slots in res it gets 110, as
// a node has: an offer with none would count as spent at the first Permit,
// which then flushes it at once, racing the test's next reservation.
func testOffer(id, node string, res resources.Vector) offer.Offer {
	if _, ok := res[v1.ResourcePods]; !ok {
		res = res.Clone()
		res[v1.ResourcePods] = 110
	}
	return offer.Offer{ID: id, AgentID: "agent-" + node, Node: node, Role: testRole, Kind: offer.Unreserved, Resources: res}
}

// reserve places a pod on the node's offer, as Reserve does; the pod
// takes one pod slot, as every pod does.
func reserve(t *testing.T, pl *Offers, pod *v1.Pod, node string, req resources.Vector) string {
	t.Helper()
	if _, ok := req[v1.ResourcePods]; !ok {
		req = req.Clone()
		req[v1.ResourcePods] = 1
	}
	id, err := pl.book.Reserve(pod, testRole, node, req, nil)
	if err != nil {
		t.Fatalf("reserving %s on %s: %v", pod.Name, node, err)
	}
	pl.batches.reserved(pod.UID, id)
	return id
}

// permitAndWait runs Permit for a pod and, when told to wait, registers it
// as waiting like the framework. It requires a Wait with the batcher's
// timeout (the window plus 30 s).
func permitAndWait(t *testing.T, pl *Offers, h *fakeHandle, pod *v1.Pod) *fakeWaitingPod {
	t.Helper()
	st, timeout := pl.batches.permit(pod)
	if st.Code() != fwk.Wait {
		t.Fatalf("Permit(%s) = %v, want Wait", pod.Name, st)
	}
	if want := max(pl.args.AcceptBatchWindow.Duration, pl.args.AllocationInterval.Duration) + 30*time.Second; timeout != want {
		t.Fatalf("Permit(%s) timeout = %v, want %v (the window or allocation interval, the longer, + 30s)", pod.Name, timeout, want)
	}
	return h.startWaiting(pod)
}

// eventually polls cond every millisecond until it holds, failing the
// test after a generous deadline (a deadline, not a timing expectation).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func decided(w *fakeWaitingPod) bool {
	a, r := w.decisions()
	return len(a)+len(r) > 0
}

func keptOutcome(pl *Offers, uid types.UID) (outcome, bool) {
	pl.batches.mu.Lock()
	defer pl.batches.mu.Unlock()
	o, ok := pl.batches.outcome[uid]
	return o, ok
}

func uidsOf(pods ...*v1.Pod) []types.UID {
	out := make([]types.UID, 0, len(pods))
	for _, p := range pods {
		out = append(out, p.UID)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// TestBatcherWindowBatchesPerOffer (case 1): in Mesos mode the pods
// reserved on one offer within the window go in one ACCEPT of that offer
// once the window's timer fires, and each waiting pod is allowed. Two
// offers, so two ACCEPTs: o1 (n1) with a and b, o2 (n2) with c.
func TestBatcherWindowBatchesPerOffer(t *testing.T) {
	src := &fakeSource{}
	// The window must outlast the three Permit calls below (a window ends
	// when no pod came for its length); 1 s does on any machine, and the
	// test waits that long for the flushes.
	pl, h := newTestOffers(t, src, time.Second)
	// ⟨4 CPU, 4 GiB⟩ each, pods ⟨1 CPU, 1 GiB⟩: neither offer becomes Full
	// (o1 keeps ⟨2 CPU, 2 GiB⟩, o2 ⟨3 CPU, 3 GiB⟩), so only the window
	// flushes them.
	// Offers carry pod slots, as both sources' do: Permit accepts an offer
	// at once when another pod like the one placed no longer fits (spent),
	// and a pod (whose request counts one slot) fits no offer without
	// slots — each Permit then flushed at once, and under the race
	// detector b's outcome came before its Permit (a CI failure).
	pl.book.Add(testOffer("o1", "n1", resources.Vector{"cpu": 4000, "memory": 4 * gi, "pods": 110}),
		testOffer("o2", "n2", resources.Vector{"cpu": 4000, "memory": 4 * gi, "pods": 110}))
	req := resources.Vector{"cpu": 1000, "memory": gi, "pods": 1}
	mk := func(name string) *v1.Pod {
		return build.MakePod(testRole, name).UID("uid-"+name).Req("cpu", "1", "memory", "1Gi").Obj()
	}
	a, b, c := mk("a"), mk("b"), mk("c")
	// All reservations precede the first Permit (which starts the
	// windows), so whenever the timers fire the ACCEPTs hold every pod.
	reserve(t, pl, a, "n1", req)
	reserve(t, pl, b, "n1", req)
	reserve(t, pl, c, "n2", req)
	waiting := map[string]*fakeWaitingPod{}
	for _, p := range []*v1.Pod{a, b, c} {
		waiting[p.Name] = permitAndWait(t, pl, h, p)
	}
	for name, w := range waiting {
		eventually(t, "a decision for "+name, func() bool { return decided(w) })
	}
	for name, w := range waiting {
		allowed, rejects := w.decisions()
		if !cmp.Equal(allowed, []string{Name}) || len(rejects) != 0 {
			t.Errorf("pod %s: allowed by %v, rejected with %q; want allowed once by %s", name, allowed, rejects, Name)
		}
	}
	got := map[string][]types.UID{}
	for _, c := range src.calls() {
		if _, dup := got[c.offerID]; dup {
			t.Errorf("offer %s accepted more than once", c.offerID)
		}
		got[c.offerID] = c.uids()
	}
	want := map[string][]types.UID{"o1": uidsOf(a, b), "o2": uidsOf(c)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ACCEPTs (offer -> pods) mismatch (-want +got):\n%s", diff)
	}
	if n := pl.book.Len(); n != 0 {
		t.Errorf("book holds %d offers after the ACCEPTs, want 0 (Take removes them)", n)
	}
	pl.batches.mu.Lock()
	pending := len(pl.batches.pending)
	pl.batches.mu.Unlock()
	if pending != 0 {
		t.Errorf("%d flushes still pending after both offers were accepted, want 0", pending)
	}
}

// TestBatcherFlushOutcomes (cases 1–3): what one flush of an offer with
// three waiting pods tells them, given the ACCEPT's result, and whether
// something went back to the pool (the state's freed version moves).
func TestBatcherFlushOutcomes(t *testing.T) {
	// Offers carry pod slots, as real offers do: an offer without them
	// counts as spent at the first Permit, which then flushes it at once —
	// before the test reserved the other pods (a race CI lost once).
	req := resources.Vector{"cpu": 1000, "memory": gi, "pods": 1}
	cases := []struct {
		name   string
		offer  resources.Vector
		err    error
		failed map[types.UID]error
		// wantReject maps a pod to its rejection message; the others are
		// allowed.
		wantReject map[string]string
		wantFreed  bool
	}{{
		// ⟨4, 4Gi⟩ − 3·⟨1, 1Gi⟩ = ⟨1, 1Gi⟩ left over: freed.
		name:      "all launched, room left",
		offer:     resources.Vector{"cpu": 4000, "memory": 4 * gi, "pods": 110},
		wantFreed: true,
	}, {
		// ⟨3, 3Gi⟩ − 3·⟨1, 1Gi⟩ = 0 and no failure: nothing returns. The
		// third Permit finds the offer Full and flushes it itself; the
		// test's own flush then finds it gone.
		name:  "all launched, offer used up",
		offer: resources.Vector{"cpu": 3000, "memory": 3 * gi, "pods": 3},
	}, {
		name:  "ACCEPT fails",
		offer: resources.Vector{"cpu": 4000, "memory": 4 * gi, "pods": 110},
		err:   errors.New("master unreachable"),
		wantReject: map[string]string{
			"a": "accepting the offer failed: master unreachable",
			"b": "accepting the offer failed: master unreachable",
			"c": "accepting the offer failed: master unreachable",
		},
		wantFreed: true,
	}, {
		// Used up, yet b's failure frees its ⟨1, 1Gi⟩.
		name:       "one launch fails",
		offer:      resources.Vector{"cpu": 3000, "memory": 3 * gi, "pods": 3},
		failed:     map[types.UID]error{"uid-b": errors.New("task lost")},
		wantReject: map[string]string{"b": "launching on the offer failed: task lost"},
		wantFreed:  true,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{err: tc.err, failed: tc.failed}
			pl, h := newTestOffers(t, src, longWindow)
			pl.book.Add(testOffer("o1", "n1", tc.offer))
			freedBefore := pl.state.FreedVersion()
			pods := []*v1.Pod{testPod("a"), testPod("b"), testPod("c")}
			waiting := map[string]*fakeWaitingPod{}
			for _, p := range pods {
				reserve(t, pl, p, "n1", req)
				waiting[p.Name] = permitAndWait(t, pl, h, p)
			}
			pl.batches.flush("o1")
			for name, w := range waiting {
				eventually(t, "a decision for "+name, func() bool { return decided(w) })
			}
			for name, w := range waiting {
				allowed, rejects := w.decisions()
				if msg, bad := tc.wantReject[name]; bad {
					if len(allowed) != 0 || !cmp.Equal(rejects, []string{msg}) {
						t.Errorf("pod %s: allowed by %v, rejected with %q; want rejected once with %q", name, allowed, rejects, msg)
					}
					continue
				}
				if !cmp.Equal(allowed, []string{Name}) || len(rejects) != 0 {
					t.Errorf("pod %s: allowed by %v, rejected with %q; want allowed once by %s", name, allowed, rejects, Name)
				}
			}
			calls := src.calls()
			if len(calls) != 1 {
				t.Fatalf("%d ACCEPTs, want 1", len(calls))
			}
			if calls[0].offerID != "o1" {
				t.Errorf("ACCEPT of offer %s, want o1", calls[0].offerID)
			}
			if diff := cmp.Diff(uidsOf(pods...), calls[0].uids()); diff != "" {
				t.Errorf("launched pods mismatch (-want +got):\n%s", diff)
			}
			for _, l := range calls[0].launches {
				if !l.Resources.Equal(req) {
					t.Errorf("launch of %s asks %v, want the reserved %v", l.Pod.Name, l.Resources, req)
				}
			}
			if tc.wantFreed {
				// The Touch may come after the decisions (deferred).
				eventually(t, "the freed version to move", func() bool { return pl.state.FreedVersion() > freedBefore })
			} else if v := pl.state.FreedVersion(); v != freedBefore {
				t.Errorf("freed version moved %d -> %d, want unchanged: nothing went back to the pool", freedBefore, v)
			}
		})
	}
}

// TestBatcherFullOfferFlushesAtOnce (case 4): the pod that fills the offer
// triggers the ACCEPT at once; the window (an hour) has not ended.
func TestBatcherFullOfferFlushesAtOnce(t *testing.T) {
	src := &fakeSource{}
	pl, h := newTestOffers(t, src, longWindow)
	// ⟨2 CPU, 2 GiB⟩, pods ⟨1 CPU, 1 GiB⟩: a leaves ⟨1, 1Gi⟩ (not Full,
	// the window starts), b leaves nothing (Full).
	pl.book.Add(testOffer("o1", "n1", resources.Vector{"cpu": 2000, "memory": 2 * gi, "pods": 2}))
	req := resources.Vector{"cpu": 1000, "memory": gi}
	a, b := testPod("a"), testPod("b")
	reserve(t, pl, a, "n1", req)
	if pl.book.Full("o1") {
		t.Fatal("offer Full after one pod of two")
	}
	wa := permitAndWait(t, pl, h, a)
	reserve(t, pl, b, "n1", req)
	if !pl.book.Full("o1") {
		t.Fatal("offer not Full after both pods")
	}
	wb := permitAndWait(t, pl, h, b)
	eventually(t, "the ACCEPT of the full offer", func() bool { return len(src.calls()) == 1 })
	for name, w := range map[string]*fakeWaitingPod{"a": wa, "b": wb} {
		eventually(t, "a decision for "+name, func() bool { return decided(w) })
		if allowed, rejects := w.decisions(); !cmp.Equal(allowed, []string{Name}) || len(rejects) != 0 {
			t.Errorf("pod %s: allowed by %v, rejected with %q; want allowed once", name, allowed, rejects)
		}
	}
	if diff := cmp.Diff(uidsOf(a, b), src.calls()[0].uids()); diff != "" {
		t.Errorf("launched pods mismatch (-want +got):\n%s", diff)
	}
}

// TestBatcherOutcomeBeforeWaiting (case 5): a pod reserved on the offer
// whose Permit has not run yet when the offer is flushed gets the outcome
// from its later Permit (allow: success; reject: Unschedulable with the
// message), and the kept outcome is gone once taken.
func TestBatcherOutcomeBeforeWaiting(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		failed   map[types.UID]error
		wantCode fwk.Code // for the late pod; Success: a nil status
		wantMsg  string
	}{
		{name: "allowed", wantCode: fwk.Success},
		{name: "ACCEPT failed", err: errors.New("boom"), wantCode: fwk.Unschedulable, wantMsg: "accepting the offer failed: boom"},
		{name: "launch failed", failed: map[types.UID]error{"uid-late": errors.New("no executor")}, wantCode: fwk.Unschedulable, wantMsg: "launching on the offer failed: no executor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{err: tc.err, failed: tc.failed}
			pl, h := newTestOffers(t, src, longWindow)
			pl.book.Add(testOffer("o1", "n1", resources.Vector{"cpu": 4000, "memory": 4 * gi}))
			req := resources.Vector{"cpu": 1000, "memory": gi}
			first, late := testPod("first"), testPod("late")
			reserve(t, pl, first, "n1", req)
			permitAndWait(t, pl, h, first)
			reserve(t, pl, late, "n1", req) // its Permit comes after the flush
			pl.batches.flush("o1")
			o, kept := keptOutcome(pl, late.UID)
			if !kept {
				t.Fatal("no outcome kept for the pod that was not waiting")
			}
			if wantAllow := tc.wantCode == fwk.Success; o.allow != wantAllow || o.msg != tc.wantMsg {
				t.Errorf("kept outcome = %+v, want allow=%v msg=%q", o, wantAllow, tc.wantMsg)
			}
			st, timeout := pl.batches.permit(late)
			if timeout != 0 {
				t.Errorf("Permit timeout = %v, want 0 (decided already)", timeout)
			}
			if tc.wantCode == fwk.Success {
				if st != nil {
					t.Errorf("Permit = %v, want nil (allowed)", st)
				}
			} else if st.Code() != tc.wantCode || st.Message() != tc.wantMsg {
				t.Errorf("Permit = %v %q, want %v %q", st.Code(), st.Message(), tc.wantCode, tc.wantMsg)
			}
			if _, still := keptOutcome(pl, late.UID); still {
				t.Error("outcome still kept after Permit took it")
			}
			// A second Permit knows nothing more: the pod's offer is gone.
			if st, _ := pl.batches.permit(late); st.Code() != fwk.Unschedulable || st.Message() != ErrReasonOfferGone {
				t.Errorf("second Permit = %v, want Unschedulable %q", st, ErrReasonOfferGone)
			}
		})
	}
}

// TestBatcherOutcomeDeliveredByRetry (case 5): a pod told to Wait but not
// registered as waiting yet when its offer is flushed gets the outcome from
// decide's retry once it waits; the kept outcome is then dropped.
func TestBatcherOutcomeDeliveredByRetry(t *testing.T) {
	cases := []struct {
		name       string
		err        error
		wantAllow  bool
		wantReject string
	}{
		{name: "allow", wantAllow: true},
		{name: "reject", err: errors.New("offer rescinded by master"), wantReject: "accepting the offer failed: offer rescinded by master"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{err: tc.err}
			pl, h := newTestOffers(t, src, longWindow)
			pl.book.Add(testOffer("o1", "n1", resources.Vector{"cpu": 4000, "memory": 4 * gi}))
			p := testPod("p")
			reserve(t, pl, p, "n1", resources.Vector{"cpu": 1000, "memory": gi})
			if st, _ := pl.batches.permit(p); st.Code() != fwk.Wait {
				t.Fatalf("Permit = %v, want Wait", st)
			}
			pl.batches.flush("o1") // before the framework registers the pod
			if _, kept := keptOutcome(pl, p.UID); !kept {
				t.Fatal("no outcome kept for the pod not yet waiting")
			}
			w := h.startWaiting(p)
			eventually(t, "the retry to deliver the outcome", func() bool { return decided(w) })
			allowed, rejects := w.decisions()
			if tc.wantAllow {
				if !cmp.Equal(allowed, []string{Name}) || len(rejects) != 0 {
					t.Errorf("allowed by %v, rejected with %q; want allowed once by %s", allowed, rejects, Name)
				}
			} else if len(allowed) != 0 || !cmp.Equal(rejects, []string{tc.wantReject}) {
				t.Errorf("allowed by %v, rejected with %q; want rejected once with %q", allowed, rejects, tc.wantReject)
			}
			eventually(t, "the delivered outcome to be dropped", func() bool {
				_, kept := keptOutcome(pl, p.UID)
				return !kept
			})
		})
	}
}

// TestBatcherForgetDropsOutcome (case 6): Unreserve's forget drops an
// outcome kept for a pod not waiting, so neither its Permit nor decide's
// retry uses it.
func TestBatcherForgetDropsOutcome(t *testing.T) {
	src := &fakeSource{}
	pl, h := newTestOffers(t, src, longWindow)
	pl.book.Add(testOffer("o1", "n1", resources.Vector{"cpu": 4000, "memory": 4 * gi}))
	p := testPod("p")
	reserve(t, pl, p, "n1", resources.Vector{"cpu": 1000, "memory": gi})
	pl.batches.flush("o1")
	if _, kept := keptOutcome(pl, p.UID); !kept {
		t.Fatal("no outcome kept for the pod not waiting")
	}
	pl.batches.forget(p.UID)
	if o, kept := keptOutcome(pl, p.UID); kept {
		t.Fatalf("outcome %+v still kept after forget", o)
	}
	// Permit no longer finds an outcome, and the offer is gone.
	if st, _ := pl.batches.permit(p); st.Code() != fwk.Unschedulable || st.Message() != ErrReasonOfferGone {
		t.Errorf("Permit after forget = %v, want Unschedulable %q (no kept outcome)", st, ErrReasonOfferGone)
	}
	// The retry stops at its next look (its backoff is 1, 2, 4, … ms): a
	// pod waiting now is not told anything. Checked once the retry has
	// had several looks (1+2+4+8+16+32 = 63 ms of backoff).
	w := h.startWaiting(p)
	lookups := h.lookupCount()
	time.Sleep(100 * time.Millisecond)
	if allowed, rejects := w.decisions(); len(allowed)+len(rejects) != 0 {
		t.Errorf("forgotten outcome delivered: allowed by %v, rejected with %q", allowed, rejects)
	}
	if n := h.lookupCount(); n != lookups {
		t.Errorf("GetWaitingPod called %d more times after forget, want 0 (the retry stops)", n-lookups)
	}
}

// TestBatcherPermitNotReserved: a pod on no offer (it was rescinded) is
// Unschedulable at once.
func TestBatcherPermitNotReserved(t *testing.T) {
	pl, _ := newTestOffers(t, &fakeSource{}, longWindow)
	st, timeout := pl.batches.permit(testPod("x"))
	if st.Code() != fwk.Unschedulable || st.Message() != ErrReasonOfferGone || timeout != 0 {
		t.Errorf("Permit = %v, %v; want Unschedulable %q, 0", st, timeout, ErrReasonOfferGone)
	}
}

// TestBatcherLocalSource (case 7): with a local source Permit succeeds at
// once (no Wait) and the ACCEPT still happens behind it, after the window
// or at once for a Full offer; even a failed ACCEPT rejects nobody and the
// handle is never asked for waiting pods.
func TestBatcherLocalSource(t *testing.T) {
	req := resources.Vector{"cpu": 1000, "memory": gi}
	cases := []struct {
		name   string
		window time.Duration
		offer  resources.Vector
		err    error
	}{
		// ⟨4, 4Gi⟩ − 2·⟨1, 1Gi⟩ leaves room: the 20 ms window flushes it.
		{name: "window", window: 20 * time.Millisecond, offer: resources.Vector{"cpu": 4000, "memory": 4 * gi}},
		// ⟨2, 2Gi⟩ − 2·⟨1, 1Gi⟩ = 0: Full at the second Permit, within
		// an hour's window.
		{name: "full", window: longWindow, offer: resources.Vector{"cpu": 2000, "memory": 2 * gi, "pods": 2}},
		{name: "ACCEPT fails", window: 20 * time.Millisecond, offer: resources.Vector{"cpu": 4000, "memory": 4 * gi}, err: errors.New("node lost")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := localSource{&fakeSource{err: tc.err}}
			pl, h := newTestOffers(t, src, tc.window)
			if !pl.batches.local("o1") {
				t.Fatal("batcher does not see the source as local")
			}
			pl.book.Add(testOffer("o1", "n1", tc.offer))
			a, b := testPod("a"), testPod("b")
			for _, p := range []*v1.Pod{a, b} {
				reserve(t, pl, p, "n1", req)
				if st, timeout := pl.batches.permit(p); st != nil || timeout != 0 {
					t.Fatalf("Permit(%s) = %v, %v; want nil, 0 (no wait)", p.Name, st, timeout)
				}
			}
			eventually(t, "the ACCEPT", func() bool { return len(src.calls()) == 1 })
			c := src.calls()[0]
			if c.offerID != "o1" {
				t.Errorf("ACCEPT of %s, want o1", c.offerID)
			}
			if diff := cmp.Diff(uidsOf(a, b), c.uids()); diff != "" {
				t.Errorf("launched pods mismatch (-want +got):\n%s", diff)
			}
			if n := h.lookupCount(); n != 0 {
				t.Errorf("GetWaitingPod called %d times, want 0 (local pods do not wait)", n)
			}
			for _, p := range []*v1.Pod{a, b} {
				if o, kept := keptOutcome(pl, p.UID); kept {
					t.Errorf("outcome %+v kept for %s, want none", o, p.Name)
				}
			}
		})
	}
}

// TestLeftover (case 8): the offer's resources minus the launches', without
// "pods", negative entries dropped; the offer itself is not changed.
func TestLeftover(t *testing.T) {
	launch := func(name string, v resources.Vector) offer.Launch {
		return offer.Launch{Pod: testPod(name), Resources: v}
	}
	cases := []struct {
		name     string
		offer    resources.Vector
		launches []offer.Launch
		want     resources.Vector
	}{{
		name:  "no launch: all but pods",
		offer: resources.Vector{"cpu": 4000, "memory": 8 * gi, "pods": 110},
		want:  resources.Vector{"cpu": 4000, "memory": 8 * gi},
	}, {
		// cpu 4000 − 1000 − 1500 = 1500; memory 8Gi − 1Gi − 2Gi = 5Gi.
		name:  "two launches",
		offer: resources.Vector{"cpu": 4000, "memory": 8 * gi, "pods": 110},
		launches: []offer.Launch{
			launch("a", resources.Vector{"cpu": 1000, "memory": gi, "pods": 1}),
			launch("b", resources.Vector{"cpu": 1500, "memory": 2 * gi, "pods": 1}),
		},
		want: resources.Vector{"cpu": 1500, "memory": 5 * gi},
	}, {
		// cpu 2000 − 2000 = 0 is dropped; memory 4Gi − 1Gi = 3Gi.
		name:     "used-up entry dropped",
		offer:    resources.Vector{"cpu": 2000, "memory": 4 * gi},
		launches: []offer.Launch{launch("a", resources.Vector{"cpu": 2000, "memory": gi})},
		want:     resources.Vector{"memory": 3 * gi},
	}, {
		// cpu 1000 − 3000 = −2000 clamps to nothing; a GPU the offer lacks
		// (0 − 1) too; ephemeral-storage 10Gi is untouched.
		name:  "overdrawn entries clamp at zero",
		offer: resources.Vector{"cpu": 1000, "memory": gi, "ephemeral-storage": 10 * gi},
		launches: []offer.Launch{
			launch("a", resources.Vector{"cpu": 3000, "memory": gi, "nvidia.com/gpu": 1}),
		},
		want: resources.Vector{"ephemeral-storage": 10 * gi},
	}, {
		name:     "exactly used: empty",
		offer:    resources.Vector{"cpu": 1000, "memory": gi, "pods": 1},
		launches: []offer.Launch{launch("a", resources.Vector{"cpu": 1000, "memory": gi, "pods": 1})},
		want:     resources.Vector{},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := testOffer("o1", "n1", tc.offer)
			before := o.Resources.Clone()
			got := leftover(o, tc.launches)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("leftover mismatch (-want +got):\n%s", diff)
			}
			if got.IsZero() != (len(tc.want) == 0) {
				t.Errorf("leftover IsZero = %v, want %v", got.IsZero(), len(tc.want) == 0)
			}
			if diff := cmp.Diff(before, o.Resources); diff != "" {
				t.Errorf("leftover changed the offer's resources (-before +after):\n%s", diff)
			}
		})
	}
}

// TestOfferGoneRetries: with the embedded allocator, a pod whose offer went
// away before its Permit (accepted with other pods, rescinded) is
// Unschedulable; when another offer of the role has room for it now, it is
// activated at once rather than left to its backoff — the allocator offers nothing new for a pod
// that outstanding offers cover. With a Mesos master it is left to its
// backoff (its task may be launching in the ACCEPT that took its offer).
func TestOfferGoneRetries(t *testing.T) {
	req := resources.Vector{"cpu": 1000, "memory": gi}
	cases := []struct {
		name         string
		other        resources.Vector // another offer of the role on n2 (nil: none)
		wantActivate bool
		local        bool
	}{
		{"another offer has room", resources.Vector{"cpu": 2000, "memory": 2 * gi, "pods": 10}, true, true},
		{"another offer too small", resources.Vector{"cpu": 500, "memory": gi, "pods": 10}, false, true},
		{"no other offer", nil, false, true},
		{"Mesos: another offer has room", resources.Vector{"cpu": 2000, "memory": 2 * gi, "pods": 10}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var src offer.Source = &fakeSource{}
			if tc.local {
				src = localFakeSource{&fakeSource{}}
			}
			pl, h := newTestOffers(t, src, longWindow)
			pl.book.Add(testOffer("o1", "n1", resources.Vector{"cpu": 1000, "memory": gi}))
			if tc.other != nil {
				pl.book.Add(testOffer("o2", "n2", tc.other))
			}
			first := testPod("first")
			late := build.MakePod(testRole, "late").UID("uid-late").Req("cpu", "1", "memory", "1Gi").Obj()
			reserve(t, pl, first, "n1", req)
			pl.batches.flush("o1") // o1 is accepted with first; late never reserved
			st, _ := pl.batches.permit(late)
			if st.Code() != fwk.Unschedulable || st.Message() != ErrReasonOfferGone {
				t.Fatalf("Permit = %v, want Unschedulable %q", st, ErrReasonOfferGone)
			}
			got := slices.Contains(h.activations(), late.Namespace+"/"+late.Name)
			if got != tc.wantActivate {
				t.Errorf("activated = %v, want %v", got, tc.wantActivate)
			}

		})
	}
}

// localFakeSource is fakeSource as a local source (offer.Local).
type localFakeSource struct{ *fakeSource }

func (localFakeSource) LocalAccept() {}

// TestStaleOutcomeNotTaken: a pod's attempt ends (Unreserve) while the
// ACCEPT of its offer is on its way — its Permit found the offer gone —
// and the pod is placed again on another offer. The first ACCEPT's outcome
// is not this attempt's: taken, it would allow the pod to bind on its new
// node, where no task was launched for it. Its Permit waits for its own
// offer's ACCEPT instead.
func TestStaleOutcomeNotTaken(t *testing.T) {
	pl, h := newTestOffers(t, &fakeSource{}, longWindow)
	pl.book.Add(testOffer("o1", "n1", resources.Vector{"cpu": 4000, "memory": 4 * gi}))
	pl.book.Add(testOffer("o2", "n2", resources.Vector{"cpu": 4000, "memory": 4 * gi}))
	req := resources.Vector{"cpu": 1000, "memory": gi}
	p := testPod("p")
	reserve(t, pl, p, "n1", req)
	pl.batches.forget(p.UID) // the attempt ends (Unreserve) ...
	pl.batches.flush("o1")   // ... while o1's ACCEPT, with the pod, goes on
	reserve(t, pl, p, "n2", req)
	st, timeout := pl.batches.permit(p)
	if st.Code() != fwk.Wait {
		t.Fatalf("Permit on o2 = %v %q, want Wait (o1's outcome is not this attempt's)", st.Code(), st.Message())
	}
	w := h.startWaiting(p)
	if timeout == 0 {
		t.Error("no Permit timeout")
	}
	pl.batches.flush("o2")
	eventually(t, "the pod decided by o2's ACCEPT", func() bool { return decided(w) })
	if allowed, rejects := w.decisions(); len(allowed) != 1 || len(rejects) != 0 {
		t.Errorf("decisions: allowed %v, rejected %v; want allowed once (by o2)", allowed, rejects)
	}
}

// fakeClock is a batcher's clock moved by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// TestBatcherKeepsMasterOfferOpen: a master's offer stays open while pods
// keep being placed on it — accepted once none came for the window (50 ms),
// at the latest one allocation interval after its first pod, and at once
// when the pod just placed leaves too little for another like it. The
// batcher runs on a clock moved by hand (its timers keep firing in real
// time and find the batch not due until the clock says so); each pod asks
// ⟨1 CPU, 1 GiB⟩ and one of the node's 110 pods unless said otherwise.
func TestBatcherKeepsMasterOfferOpen(t *testing.T) {
	const window = 50 * time.Millisecond
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	req := resources.Vector{"cpu": 1000, "memory": gi}
	cases := []struct {
		name     string
		interval time.Duration
		offer    resources.Vector
		// permits[i] is when pod i is placed and its Permit runs (after t0).
		permits []time.Duration
		// notYet is a time at which the batch is not due yet; due is when
		// it is. Zero notYet: no such check; zero due with spent: the last
		// Permit accepts at once.
		notYet, due time.Duration
		spent       bool
		podReq      []string
	}{{
		// b at 40 ms keeps the offer open past a's window (a+50 = 50 ms):
		// at 80 ms b's window (to 90 ms) is still running; at 95 ms it is
		// over.
		name: "quiet window after the last pod", interval: time.Hour, offer: resources.Vector{"cpu": 8000, "memory": 8 * gi, "pods": 110},
		permits: []time.Duration{0, 40 * time.Millisecond}, notYet: 80 * time.Millisecond, due: 95 * time.Millisecond,
	}, {
		// Pods every 40 ms never leave the offer quiet for 50 ms; the
		// interval (100 ms after the first pod) ends the batch: at 90 ms
		// it is not due (the last pod, at 80 ms, is 10 ms old), at 100 ms
		// it is.
		name: "allocation interval caps the batch", interval: 100 * time.Millisecond, offer: resources.Vector{"cpu": 8000, "memory": 8 * gi, "pods": 110},
		permits: []time.Duration{0, 40 * time.Millisecond, 80 * time.Millisecond}, notYet: 90 * time.Millisecond, due: 100 * time.Millisecond,
	}, {
		// ⟨2 CPU, 2 GiB⟩, pods ⟨1.5 CPU, 1 GiB⟩: after the first pod
		// ⟨0.5 CPU, 1 GiB⟩ is left, which fits no other pod like it.
		name: "nothing like the pod fits any more", interval: time.Hour, offer: resources.Vector{"cpu": 2000, "memory": 2 * gi, "pods": 110},
		permits: []time.Duration{0}, spent: true, podReq: []string{"cpu", "1500m", "memory", "1Gi"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{}
			pl, h := newTestOffers(t, src, window)
			pl.args.AllocationInterval = metav1.Duration{Duration: tc.interval}
			clk := &fakeClock{now: t0}
			pl.batches.now = clk.Now
			pl.book.Add(testOffer("o1", "n1", tc.offer))
			r := req.Clone()
			if tc.podReq != nil {
				r = resources.Vector{"cpu": 1500, "memory": gi}
			}
			var pods []*v1.Pod
			for i, at := range tc.permits {
				clk.set(t0.Add(at))
				p := build.MakePod(testRole, fmt.Sprintf("p%d", i)).UID(fmt.Sprintf("uid-p%d", i)).Req("cpu", fmt.Sprintf("%dm", r["cpu"]), "memory", "1Gi").Obj()
				reserve(t, pl, p, "n1", r)
				permitAndWait(t, pl, h, p)
				pods = append(pods, p)
			}
			if tc.spent {
				eventually(t, "the ACCEPT of the spent offer", func() bool { return len(src.calls()) == 1 })
			} else {
				if tc.notYet > 0 {
					clk.set(t0.Add(tc.notYet))
					pl.batches.due("o1")
					time.Sleep(2 * window) // the real timers fire too; the clock stands
					if n := len(src.calls()); n != 0 {
						t.Fatalf("%d ACCEPTs at %v, want none yet", n, tc.notYet)
					}
				}
				clk.set(t0.Add(tc.due))
				pl.batches.due("o1")
				eventually(t, "the ACCEPT", func() bool { return len(src.calls()) == 1 })
			}
			if diff := cmp.Diff(uidsOf(pods...), src.calls()[0].uids()); diff != "" {
				t.Errorf("launched pods mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRescindRejectsPodNotYetWaiting: a pod's Permit saw its reservation
// and returned Wait, and before the framework registered it as waiting its
// offer went away (rescinded, or its agent lost). The rejection must reach
// the pod once it waits — at the latest after decide's retry — not be lost
// (the pod then waited for the 30 s Permit timeout: one such pod in a
// BenchmarkOfferSources run took the Mesos phase from 5 s to 34 s).
func TestRescindRejectsPodNotYetWaiting(t *testing.T) {
	for _, tc := range []struct {
		name, why string
		remove    func(pl *Offers)
	}{
		{"rescinded", "the offer was rescinded", func(pl *Offers) { pl.Rescind("o1") }},
		{"agent lost", "the agent was lost", func(pl *Offers) { pl.AgentLost("n1") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pl, h := newTestOffers(t, &fakeSource{}, longWindow)
			// Pod slots, as real offers have: without them the Permit
			// would take the offer for spent and flush it at once.
			pl.book.Add(testOffer("o1", "n1", resources.Vector{"cpu": 4000, "memory": 4 * gi, "pods": 110}))
			p := testPod("p")
			reserve(t, pl, p, "n1", resources.Vector{"cpu": 1000, "memory": gi, "pods": 1})
			if st, _ := pl.batches.permit(p); st.Code() != fwk.Wait {
				t.Fatalf("Permit = %v, want Wait", st)
			}
			tc.remove(pl) // before the framework registers the pod as waiting
			w := h.startWaiting(p)
			eventually(t, "the rejection to reach the pod", func() bool { return decided(w) })
			if allowed, rejects := w.decisions(); len(allowed) != 0 || !cmp.Equal(rejects, []string{tc.why}) {
				t.Errorf("allowed by %v, rejected with %q; want rejected once with %q", allowed, rejects, tc.why)
			}
		})
	}
}
