package mesos

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2/ktesting"

	"github.com/kube-mesos/kube-mesos-scheduler/test/harness/zkserver"
	"github.com/kube-mesos/kube-mesos-scheduler/test/mesosmaster/emulator"
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
