package offer

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/test/build"
)

func pod(name string) *v1.Pod {
	return build.MakePod("ns", name).UID(name).Obj()
}

func ranges(s string) resources.Ranges {
	r, err := resources.ParseRanges(s)
	if err != nil {
		panic(err)
	}
	return r
}

func TestBookReserveUnreserveInverse(t *testing.T) {
	b := NewBook()
	b.Add(Offer{ID: "o1", Node: "n1", Role: "a", Kind: Unreserved, Resources: resources.Vector{"cpu": 4000, "memory": 8 << 30}, Ports: ranges("31000-32000")})
	before := b.Views()
	id, err := b.Reserve(pod("p"), "a", "n1", resources.Vector{"cpu": 1000, "memory": 1 << 30}, []int32{31500})
	if err != nil || id != "o1" {
		t.Fatalf("Reserve = %q, %v", id, err)
	}
	mid := b.Views()[0]
	if mid.Free["cpu"] != 3000 || mid.Ports.Contains(31500) || mid.Reserved != 1 {
		t.Fatalf("after Reserve: %+v", mid)
	}
	if _, err := b.Reserve(pod("p"), "a", "n1", resources.Vector{"cpu": 1}, nil); err == nil {
		t.Error("reserving a pod twice must fail")
	}
	if id, ok := b.Unreserve("p"); !ok || id != "o1" {
		t.Fatalf("Unreserve = %q %v", id, ok)
	}
	if diff := cmp.Diff(before, b.Views()); diff != "" {
		t.Errorf("Unreserve is not the inverse of Reserve (-before +after):\n%s", diff)
	}
	if _, ok := b.Unreserve("p"); ok {
		t.Error("second Unreserve must be a no-op")
	}
}

func TestBookBestOrder(t *testing.T) {
	now := time.Now()
	b := NewBook()
	b.Add(
		Offer{ID: "rev", Node: "n1", Role: "a", Kind: Revocable, Resources: resources.Vector{"cpu": 8000}},
		Offer{ID: "unres-late", Node: "n1", Role: "a", Kind: Unreserved, Resources: resources.Vector{"cpu": 8000}, Expires: now.Add(time.Minute)},
		Offer{ID: "unres-soon", Node: "n1", Role: "a", Kind: Unreserved, Resources: resources.Vector{"cpu": 8000}, Expires: now.Add(time.Second)},
		Offer{ID: "res-small", Node: "n1", Role: "a", Kind: Reserved, Resources: resources.Vector{"cpu": 500}},
		Offer{ID: "other-role", Node: "n1", Role: "b", Kind: Reserved, Resources: resources.Vector{"cpu": 8000}},
	)
	req := resources.Vector{"cpu": 1000}
	c, v := b.Best("a", "n1", req, nil)
	if v != Fits || c.OfferID != "unres-soon" {
		t.Errorf("Best = %+v (%v), want unres-soon (reserved one too small, soonest expiry next)", c, v)
	}
	if c, v := b.Best("a", "n1", resources.Vector{"cpu": 400}, nil); v != Fits || c.OfferID != "res-small" {
		t.Errorf("Best small = %+v (%v), want the reserved offer", c, v)
	}
	if _, v := b.Best("a", "n1", resources.Vector{"cpu": 9000}, nil); v != TooSmall {
		t.Errorf("too big: %v, want %v", v, TooSmall)
	}
	if _, v := b.Best("a", "n2", req, nil); v != NoOffer {
		t.Errorf("other node: %v, want %v", v, NoOffer)
	}
	if got := b.Nodes("a", req, nil); !cmp.Equal(got, []string{"n1"}) {
		t.Errorf("Nodes = %v", got)
	}
	if !b.Fits("b", resources.Vector{"cpu": 8000}, nil) || b.Fits("b", resources.Vector{"cpu": 9000}, nil) || b.Fits("c", req, nil) {
		t.Error("Fits")
	}
}

// TestBookOnNode: the offers on one node, of every role, with what is left
// of them after reservations.
func TestBookOnNode(t *testing.T) {
	b := NewBook()
	b.Add(
		Offer{ID: "o1", Node: "n1", Role: "a", Resources: resources.Vector{"cpu": 2000}},
		Offer{ID: "o2", Node: "n1", Role: "b", Resources: resources.Vector{"cpu": 3000}},
		Offer{ID: "o3", Node: "n2", Role: "a", Resources: resources.Vector{"cpu": 4000}},
	)
	if _, err := b.Reserve(pod("p1"), "a", "n1", resources.Vector{"cpu": 500}, nil); err != nil {
		t.Fatal(err)
	}
	got := b.OnNode("n1")
	if len(got) != 2 || got[0].ID != "o1" || got[1].ID != "o2" {
		t.Fatalf("OnNode(n1) = %+v, want o1 and o2", got)
	}
	if got[0].Free["cpu"] != 1500 || got[0].Reserved != 1 || got[1].Free["cpu"] != 3000 {
		t.Errorf("free %v/%v, reserved %d: want 1500m (2000m minus the 500m reserved) and 3000m", got[0].Free, got[1].Free, got[0].Reserved)
	}
}

func TestBookPortsTakeRemove(t *testing.T) {
	b := NewBook()
	b.Add(Offer{ID: "o1", Node: "n1", Role: "a", Resources: resources.Vector{"cpu": 2000}, Ports: ranges("31000-31001")})
	if _, v := b.Best("a", "n1", resources.Vector{"cpu": 1}, []int32{8080}); v != PortsMissing {
		t.Errorf("port outside the offer: %v, want %v", v, PortsMissing)
	}
	if _, err := b.Reserve(pod("p1"), "a", "n1", resources.Vector{"cpu": 1000}, []int32{31000}); err != nil {
		t.Fatal(err)
	}
	if b.Full("o1") {
		t.Error("half-used offer reported full")
	}
	if _, err := b.Reserve(pod("p2"), "a", "n1", resources.Vector{"cpu": 1000}, []int32{31000}); err == nil {
		t.Error("two pods on one host port of one offer")
	}
	if _, err := b.Reserve(pod("p2"), "a", "n1", resources.Vector{"cpu": 1000}, []int32{31001}); err != nil {
		t.Fatal(err)
	}
	if !b.Full("o1") {
		t.Error("fully reserved offer not reported full")
	}
	o, launches, ok := b.Take("o1")
	if !ok || o.ID != "o1" || len(launches) != 2 || launches[0].Pod.Name != "p1" || launches[1].Ports[0] != 31001 {
		t.Fatalf("Take = %v %v %v", o.ID, launches, ok)
	}
	if _, _, ok := b.Take("o1"); ok || b.Len() != 0 || b.HasRole("a") {
		t.Error("an offer is used once")
	}
	if _, ok := b.Reserved("p1"); ok {
		t.Error("taken offer still holds reservations")
	}
	b.Add(Offer{ID: "o2", Node: "n1", Role: "a", Resources: resources.Vector{"cpu": 2000}})
	b.Add(Offer{ID: "o3", Node: "n2", Role: "a", Resources: resources.Vector{"cpu": 2000}})
	if _, err := b.Reserve(pod("p3"), "a", "n1", resources.Vector{"cpu": 1000}, nil); err != nil {
		t.Fatal(err)
	}
	offers, pods := b.RemoveNode("n1", "")
	if len(offers) != 1 || len(pods) != 1 || len(pods["o2"]) != 1 || pods["o2"][0].Name != "p3" || b.Len() != 1 {
		t.Errorf("RemoveNode = %v %v (left %d)", offers, pods, b.Len())
	}
	if _, _, ok := b.Remove("o3"); !ok || b.Len() != 0 {
		t.Error("Remove")
	}
}
