package mesos

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2/ktesting"

	emulator "github.com/kube-mesos/kube-mesos-scheduler/internal/mesosemulator"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness/zkserver"
)

func emulatorMaster(t *testing.T, cfg emulator.Config) *emulator.Master {
	t.Helper()
	m, err := emulator.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func TestResolveLocation(t *testing.T) {
	for _, tc := range []struct{ master, location, want, err string }{
		{"http://m1:5050", "//localhost:5060", "http://localhost:5060", ""},
		{"https://m1:5050", "//m2:5050/master/api/v1/scheduler", "https://m2:5050", ""},
		{"http://m1:5050", "", "", "named no leader"},
		{"http://m1:5050", "/master/redirect", "", "named no leader"},
	} {
		got, err := resolveLocation(tc.master, tc.location)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("resolveLocation(%q, %q) = %q, %v; want %q, %q", tc.master, tc.location, got, err, tc.want, tc.err)
		}
	}
}

// TestRedirectFinder: with "http://m1,m2" where m1 does not lead, the
// leader named by m1's /master/redirect is found; a dead first master is
// skipped; with every master dead the error says so.
func TestRedirectFinder(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	leader := emulatorMaster(t, emulator.Config{})
	follower := emulatorMaster(t, emulator.Config{Leader: emulator.Bool(false), LeaderHostPort: leader.HostPort()})
	dead := emulatorMaster(t, emulator.Config{})
	dead.Close()
	hostPort := func(m *emulator.Master) string { return strings.TrimPrefix(m.URL(), "http://") }
	want := "http://" + leader.HostPort()
	for _, masters := range [][]*emulator.Master{{follower, leader}, {dead, follower}, {leader}} {
		var hosts []string
		for _, m := range masters {
			hosts = append(hosts, hostPort(m))
		}
		f, err := newLeaderFinder(ctx, "http://"+strings.Join(hosts, ","), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.Leader(ctx); got != want || err != nil {
			t.Errorf("masters %v: leader %q, %v; want %q", hosts, got, err, want)
		}
	}
	f, _ := newLeaderFinder(ctx, "http://"+hostPort(dead), nil)
	if _, err := f.Leader(ctx); err == nil || !strings.Contains(err.Error(), "no master named a leader") {
		t.Errorf("all masters dead: %v", err)
	}
}

// TestZKFinder: the master of lowest json.info_ sequence leads; Leader
// consumes the change signal of the leader it returns (a stale one would
// end the subscription about to be made); when the leader leaves
// ZooKeeper, Changed fires and Leader names the next one; with TLS the
// endpoint is https.
func TestZKFinder(t *testing.T) {
	server, _, err := zkserver.Start(t)
	if err != nil {
		t.Fatal(err)
	}
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	path := fmt.Sprintf("/mesos-%d", time.Now().UnixNano())
	m1 := emulatorMaster(t, emulator.Config{})
	m2 := emulatorMaster(t, emulator.Config{Leader: emulator.Bool(false)})
	if _, err := m1.RegisterInZooKeeper([]string{server}, path); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.RegisterInZooKeeper([]string{server}, path); err != nil {
		t.Fatal(err)
	}
	f, err := newLeaderFinder(ctx, "zk://"+server+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitLeader := func(want string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			got, err := f.Leader(ctx)
			if err == nil && got == want {
				return
			}
			select {
			case <-f.Changed():
			case <-deadline:
				t.Fatalf("leader %q, %v; want %q", got, err, want)
			}
		}
	}
	// Let the watch learn the leader first: it signals a change.
	zf := f.(*zkFinder)
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		zf.mu.Lock()
		defer zf.mu.Unlock()
		return zf.leader != "", nil
	}); err != nil {
		t.Fatalf("the watch never read the leader: %v", err)
	}
	waitLeader("http://" + m1.HostPort())
	select {
	case <-f.Changed():
		t.Fatal("a change signal is pending after Leader returned the current leader")
	default:
	}
	m1.LeaveZooKeeper()
	select {
	case <-f.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("no change signal when the leader left ZooKeeper")
	}
	waitLeader("http://" + m2.HostPort())

	tlsFinder, err := newLeaderFinder(ctx, "zk://"+server+path, &tls.Config{MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := tlsFinder.Leader(ctx); got != "https://"+m2.HostPort() || err != nil {
		t.Errorf("with TLS: leader %q, %v", got, err)
	}
}

// fakeFinder names a leader that a test changes; signal says whether it
// signals changes (as ZooKeeper does) or must be polled (as redirects).
type fakeFinder struct {
	mu      sync.Mutex
	leader  string
	changed chan struct{}
	asked   int
}

func (f *fakeFinder) Leader(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked++
	return f.leader, nil
}

func (f *fakeFinder) Changed() <-chan struct{} {
	if f.changed == nil {
		return nil
	}
	return f.changed
}

func (f *fakeFinder) set(l string) {
	f.mu.Lock()
	f.leader = l
	f.mu.Unlock()
	if f.changed != nil {
		f.changed <- struct{}{}
	}
}

// TestWaitForLeaderEndsOnChange: a backoff wait of a minute ends when the
// finder names another leader — at once on a ZooKeeper-style signal, within
// one poll interval (0.5 s) for redirects — and not for the same leader.
// The bound checked, 5 s, is ten poll intervals: far below the minute the
// wait would otherwise last, so only a wait that ignored the change fails.
func TestWaitForLeaderEndsOnChange(t *testing.T) {
	for _, signals := range []bool{true, false} {
		f := &fakeFinder{leader: "http://m1:5050"}
		if signals {
			f.changed = make(chan struct{}, 1)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		done := make(chan string, 1)
		go func() { done <- waitForLeader(ctx, f, "http://m1:5050", time.Minute) }()
		time.Sleep(200 * time.Millisecond)
		f.set("http://m1:5050") // the same leader named again: keep waiting
		time.Sleep(200 * time.Millisecond)
		select {
		case got := <-done:
			t.Fatalf("signals=%v: wait ended (%q) although the leader did not change", signals, got)
		default:
		}
		f.set("http://m2:5050")
		if got := <-done; got != "http://m2:5050" {
			t.Errorf("signals=%v: waitForLeader = %q, want the new leader http://m2:5050 before the 5 s context ran out", signals, got)
		}
		cancel()
	}
}

// TestWaitForLeaderWaitsOutBackoff: with no change the wait lasts d and
// returns "".
func TestWaitForLeaderWaitsOutBackoff(t *testing.T) {
	f := &fakeFinder{leader: "http://m1:5050", changed: make(chan struct{}, 1)}
	if got := waitForLeader(context.Background(), f, "http://m1:5050", 50*time.Millisecond); got != "" {
		t.Errorf("waitForLeader = %q, want \"\" (no change)", got)
	}
}
