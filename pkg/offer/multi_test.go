package offer

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// fakeSource records the calls it gets; offers are sent with send.
type fakeSource struct {
	mu        sync.Mutex
	h         Handler
	accepted  []string
	declined  []string
	revived   int
	reviveErr error
	why       string
	noRoom    bool
	held      map[string]resources.Vector
	killed    []types.UID
	ready     chan struct{}
}

func newFake() *fakeSource { return &fakeSource{ready: make(chan struct{})} }

func (f *fakeSource) Run(ctx context.Context, h Handler) error {
	f.mu.Lock()
	f.h = h
	f.mu.Unlock()
	close(f.ready)
	<-ctx.Done()
	return nil
}
func (f *fakeSource) Accept(_ context.Context, id string, _ []Launch) (map[types.UID]error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accepted = append(f.accepted, id)
	return nil, nil
}
func (f *fakeSource) Decline(_ context.Context, ids []string, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.declined = append(f.declined, ids...)
	return nil
}
func (f *fakeSource) Suppress(context.Context, ...string) error { return nil }
func (f *fakeSource) Revive(context.Context, ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revived++
	return f.reviveErr
}
func (f *fakeSource) Why(types.UID) (string, bool) { return f.why, f.noRoom }
func (f *fakeSource) HeldElsewhere(node string) resources.Vector {
	return f.held[node]
}
func (f *fakeSource) HeldElsewhereByNode() map[string]resources.Vector {
	out := map[string]resources.Vector{}
	for n, v := range f.held {
		out[n] = v
	}
	return out
}
func (f *fakeSource) Kill(_ context.Context, pod *v1.Pod) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.killed = append(f.killed, pod.UID)
	return nil
}

// localFake is a local source (the embedded allocator's kind).
type localFake struct{ *fakeSource }

func (localFake) LocalAccept() {}

// recordingHandler is the plugin's side.
type recordingHandler struct {
	mu       sync.Mutex
	offers   []Offer
	rescinds []string
	lost     [][2]string // node, source
}

func (r *recordingHandler) Offers(o []Offer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.offers = append(r.offers, o...)
}
func (r *recordingHandler) Rescind(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rescinds = append(r.rescinds, id)
}
func (r *recordingHandler) AgentLost(node string) { r.AgentLostFrom(node, "") }
func (r *recordingHandler) AgentLostFrom(node, source string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lost = append(r.lost, [2]string{node, source})
}

// twoMastersAndLocal: dc1 and dc2 select nodes by the label cluster, the
// local member serves the rest.
func twoMastersAndLocal() (*Multi, *fakeSource, *fakeSource, *fakeSource) {
	dc1, dc2, local := newFake(), newFake(), newFake()
	nodes := map[string]map[string]string{
		"a1": {"cluster": "dc1"}, "b1": {"cluster": "dc2"}, "plain": {"zone": "z"},
	}
	m := NewMulti([]Member{
		{Name: "dc1", Source: dc1, Selector: labels.SelectorFromSet(labels.Set{"cluster": "dc1"})},
		{Name: "dc2", Source: dc2, Selector: labels.SelectorFromSet(labels.Set{"cluster": "dc2"})},
		{Name: "local", Source: localFake{local}},
	}, func(n string) (map[string]string, bool) { l, ok := nodes[n]; return l, ok }, nil)
	return m, dc1, dc2, local
}

// TestMultiRoutesByOffer: offers reach the book named by their member;
// each ACCEPT and DECLINE goes back to the member that made the offer,
// with the member's own ID, even when two members use the same ID.
func TestMultiRoutesByOffer(t *testing.T) {
	m, dc1, dc2, local := twoMastersAndLocal()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &recordingHandler{}
	done := make(chan error)
	go func() { done <- m.Run(ctx, h) }()
	for _, f := range []*fakeSource{dc1, dc2, local} {
		<-f.ready
	}
	// Both masters call their offer "O1".
	dc1.h.Offers([]Offer{{ID: "O1", Node: "a1"}})
	dc2.h.Offers([]Offer{{ID: "O1", Node: "b1"}, {ID: "O2", Node: "b1"}})
	local.h.Offers([]Offer{{ID: "x-1", Node: "plain"}})
	got := map[string]string{}
	for _, o := range h.offers {
		got[o.ID] = o.Source
	}
	want := map[string]string{"dc1/O1": "dc1", "dc2/O1": "dc2", "dc2/O2": "dc2", "local/x-1": "local"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("offers in the book (-want +got):\n%s", diff)
	}
	if _, err := m.Accept(ctx, "dc2/O1", nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Decline(ctx, []string{"dc1/O1", "dc2/O2", "local/x-1"}, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Accept(ctx, "nobody/O9", nil); err == nil {
		t.Error("ACCEPT of an offer no member made: no error")
	}
	if !cmp.Equal(dc2.accepted, []string{"O1"}) || len(dc1.accepted) != 0 {
		t.Errorf("ACCEPTs: dc1 %v, dc2 %v; want dc2 [O1] only", dc1.accepted, dc2.accepted)
	}
	if !cmp.Equal(dc1.declined, []string{"O1"}) || !cmp.Equal(dc2.declined, []string{"O2"}) || !cmp.Equal(local.declined, []string{"x-1"}) {
		t.Errorf("DECLINEs: dc1 %v, dc2 %v, local %v", dc1.declined, dc2.declined, local.declined)
	}
	// A rescind and a lost agent are named by their member too: the
	// book drops only that member's offers on the node.
	dc1.h.Rescind("O1")
	local.h.AgentLost("plain")
	if !cmp.Equal(h.rescinds, []string{"dc1/O1"}) || !cmp.Equal(h.lost, [][2]string{{"plain", "local"}}) {
		t.Errorf("rescinds %v, lost %v", h.rescinds, h.lost)
	}
	if !m.LocalOffer("local/x-1") || m.LocalOffer("dc1/O1") || m.AllLocal() {
		t.Error("locality of offers wrong")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestMultiOneMemberUnchanged: one member keeps its IDs and reasons as
// they are (the configuration before several sources existed).
func TestMultiOneMemberUnchanged(t *testing.T) {
	f := newFake()
	f.why, f.noRoom = "not subscribed", false
	m := NewMulti([]Member{{Name: "mesos", Source: f}}, nil, nil)
	if id := m.OfferID(0, "O1"); id != "O1" {
		t.Errorf("OfferID = %q, want O1", id)
	}
	if _, err := m.Accept(context.Background(), "O1", nil); err != nil || !cmp.Equal(f.accepted, []string{"O1"}) {
		t.Errorf("ACCEPT: %v, accepted %v", err, f.accepted)
	}
	if why, _ := m.Why("u"); why != "not subscribed" {
		t.Errorf("Why = %q, want the member's reason unnamed", why)
	}
	if m.Owner("any") != 0 {
		t.Error("the only member does not own every node")
	}
}

// TestMultiNodeCalls: calls about a node go to the member serving it;
// reasons are named by member; Revive reaches every member even when one
// fails.
func TestMultiNodeCalls(t *testing.T) {
	m, dc1, dc2, local := twoMastersAndLocal()
	dc1.held = map[string]resources.Vector{"a1": {"cpu": 2000}}
	dc2.held = map[string]resources.Vector{"b1": {"cpu": 3000}}
	for node, want := range map[string]int{"a1": 0, "b1": 1, "plain": 2, "unknown": -1} {
		if got := m.Owner(node); got != want {
			t.Errorf("Owner(%s) = %d, want %d", node, got, want)
		}
	}
	if v := m.HeldElsewhere("b1"); v["cpu"] != 3000 {
		t.Errorf("HeldElsewhere(b1) = %v, want dc2's cpu 3", v)
	}
	if v := m.HeldElsewhere("plain"); len(v) != 0 {
		t.Errorf("HeldElsewhere(plain) = %v, want nothing", v)
	}
	all := m.HeldElsewhereByNode()
	if len(all) != 2 || all["a1"]["cpu"] != 2000 || all["b1"]["cpu"] != 3000 {
		t.Errorf("HeldElsewhereByNode = %v", all)
	}
	if !m.LocalNode("plain") || m.LocalNode("a1") {
		t.Error("LocalNode wrong")
	}
	dc2.why = "not subscribed to the Mesos master yet"
	local.why, local.noRoom = "no room", true
	why, noRoom := m.Why("u")
	if why != "source dc2: not subscribed to the Mesos master yet; source local: no room" || !noRoom {
		t.Errorf("Why = %q, %v", why, noRoom)
	}
	dc1.reviveErr = errors.New("master down")
	err := m.Revive(context.Background(), "r")
	if err == nil || dc1.revived != 1 || dc2.revived != 1 || local.revived != 1 {
		t.Errorf("Revive: err %v, revived %d %d %d; want an error and every member revived", err, dc1.revived, dc2.revived, local.revived)
	}
	pod := &v1.Pod{}
	pod.UID = "p"
	if err := m.Kill(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	var killed []string
	for _, f := range []*fakeSource{dc1, dc2} {
		for _, u := range f.killed {
			killed = append(killed, string(u))
		}
	}
	sort.Strings(killed)
	if !cmp.Equal(killed, []string{"p", "p"}) {
		t.Errorf("Kill reached %v, want both masters", killed)
	}
}
