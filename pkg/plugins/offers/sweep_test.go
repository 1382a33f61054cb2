package offers

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
	"github.com/kube-mesos/kube-mesos-scheduler/test/build"
)

// roleSource records SUPPRESS and REVIVE calls (a Local source, like the
// embedded allocator).
type roleSource struct {
	localSource

	mu                  sync.Mutex
	suppressed, revived []string
}

func (s *roleSource) Suppress(_ context.Context, roles ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.suppressed = append(s.suppressed, roles...)
	return nil
}

func (s *roleSource) Revive(_ context.Context, roles ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revived = append(s.revived, roles...)
	return nil
}

func (s *roleSource) calls() (suppressed, revived []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.suppressed), slices.Clone(s.revived)
}

// TestSweepKeepsRevivedRoleActive: a new pod revives its role (wait) and
// fails everywhere before the sweeper ever saw it pending. The sweeper must
// count the role active: suppressing it would mean a REVIVE once room is
// freed, and a REVIVE clears the role's decline filters (the refuse filter
// TestOffersDeclineRefuse checks, which this race broke now and then).
// Expected calls: the one REVIVE wait sends, no SUPPRESS of the role, and
// no second REVIVE when the pod turns runnable again.
func TestSweepKeepsRevivedRoleActive(t *testing.T) {
	src := &roleSource{localSource: localSource{&fakeSource{}}}
	pl, _ := newTestOffers(t, src, 10*time.Millisecond)
	pl.state.UpsertNode(build.MakeNode("n1").Capacity("cpu", "4", "memory", "8Gi").Obj())
	holder := build.MakePod("other", "holder").UID("uid-holder").Req("cpu", "1").Node("n1").Obj()
	pl.state.UpsertPod(holder)
	pod := build.MakePod(testRole, "shy").UID("uid-shy").Req("cpu", "1").Obj()
	pl.state.UpsertPod(pod)

	pl.wait(testRole, pod)
	eventually(t, "wait's REVIVE", func() bool { _, r := src.calls(); return len(r) == 1 })
	pl.state.MarkBlocked(pod.UID) // failed on every node

	active := pl.syncActiveRoles(context.Background(), sets.New[string]())
	if s, _ := src.calls(); slices.Contains(s, testRole) {
		t.Fatalf("role %s suppressed while its pod waits for room (suppressed %v)", testRole, s)
	}
	if !active.Has(testRole) {
		t.Fatalf("active roles %v, want %s in them", sets.List(active), testRole)
	}

	pl.state.DeletePod(holder.UID) // room freed: the pod is runnable again
	if got := pl.state.RunnablePods(testRole); len(got) != 1 {
		t.Fatalf("runnable pods of %s after the delete: %d, want 1", testRole, len(got))
	}
	pl.syncActiveRoles(context.Background(), active)
	if s, r := src.calls(); len(r) != 1 || slices.Contains(s, testRole) {
		t.Errorf("suppressed %v, revived %v: want no SUPPRESS of %s and only wait's REVIVE", s, r, testRole)
	}
}

// gatedSource is a roleSource whose SUPPRESS takes until the gate opens,
// as a call to a slow master does; order lists the calls as they end.
type gatedSource struct {
	roleSource
	entered, gate chan struct{}
	order         []string
}

func (s *gatedSource) Suppress(ctx context.Context, roles ...string) error {
	s.entered <- struct{}{}
	<-s.gate
	s.mu.Lock()
	s.order = append(s.order, "SUPPRESS")
	s.mu.Unlock()
	return s.roleSource.Suppress(ctx, roles...)
}

func (s *gatedSource) Revive(ctx context.Context, roles ...string) error {
	s.mu.Lock()
	s.order = append(s.order, "REVIVE")
	s.mu.Unlock()
	return s.roleSource.Revive(ctx, roles...)
}

func (s *gatedSource) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// TestNewPodReviveFollowsSweepSuppress: the sweeper finds a role idle and
// SUPPRESSes it; while that call is on its way, a new pod of the role
// comes and its REVIVE is decided. The REVIVE must be sent after the
// SUPPRESS returns: sent at once, it could reach the master first, and the
// SUPPRESS arriving after it would leave the role suppressed with its pod
// pending (the sweeper counts a role wait() revived as active and would
// not revive it again). Expected: no call while the SUPPRESS is held, then
// SUPPRESS, REVIVE in that order.
func TestNewPodReviveFollowsSweepSuppress(t *testing.T) {
	src := &gatedSource{roleSource: roleSource{localSource: localSource{&fakeSource{}}}, entered: make(chan struct{}), gate: make(chan struct{})}
	pl, _ := newTestOffers(t, src, 10*time.Millisecond)
	pl.state.UpsertNode(build.MakeNode("n1").Capacity("cpu", "4", "memory", "8Gi").Obj())
	pl.state.UpsertPod(build.MakePod(testRole, "done").UID("uid-done").Req("cpu", "1").Node("n1").Obj())

	swept := make(chan struct{})
	go func() {
		defer close(swept)
		pl.syncActiveRoles(context.Background(), sets.New(testRole))
	}()
	<-src.entered // the role has nothing pending: SUPPRESS, held
	pod := build.MakePod(testRole, "late").UID("uid-late").Req("cpu", "1").Obj()
	pl.wait(testRole, pod)
	time.Sleep(200 * time.Millisecond) // time for a REVIVE sent at once
	if got := src.calls(); len(got) != 0 {
		t.Errorf("calls while the SUPPRESS is held: %v, want none", got)
	}
	close(src.gate)
	<-swept
	eventually(t, "the new pod's REVIVE", func() bool { return len(src.calls()) == 2 })
	if got := src.calls(); !slices.Equal(got, []string{"SUPPRESS", "REVIVE"}) {
		t.Errorf("calls %v, want [SUPPRESS REVIVE]", got)
	}
}

var _ offer.Source = &roleSource{}
