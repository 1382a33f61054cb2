package mesosemulator

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/kube-mesos/kube-mesos-scheduler/test/harness/zkserver"
)

// TestZooKeeperMasterInfo checks the znode content against §9.
func TestZooKeeperMasterInfo(t *testing.T) {
	m := startMaster(t, Config{MasterID: "9be358a4-36e0-4b01-aa3f-abbba6758cd6"})
	got, err := zkMasterInfo(marshalJSON(m.masterInfo()))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(`{"address":{"hostname":"localhost","ip":"127.0.0.1","port":5060},"capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},{"type":"QUOTA_V2"}],"hostname":"localhost","id":"9be358a4-36e0-4b01-aa3f-abbba6758cd6","ip":16777343,"pid":"master@127.0.0.1:5060","port":5060,"version":"1.12.0"}`,
		"5060", strconv.Itoa(m.port))
	if string(got) != want {
		t.Fatalf("znode data\n got %s\nwant %s", got, want)
	}
}

// zooKeeper returns a ZooKeeper server for the test: MESOS_EMULATOR_ZK
// ("host:port") when set, else a real one started for the test (Debian's
// zookeeper package; the test fails saying how to install it when missing).
func zooKeeper(t *testing.T) string {
	t.Helper()
	if server := os.Getenv("MESOS_EMULATOR_ZK"); server != "" {
		return server
	}
	server, _, err := zkserver.Start(t)
	if err != nil {
		t.Fatal(err)
	}
	return server
}

// TestZooKeeperElection: masters publish json.info_<seq> znodes; the lowest
// sequence leads and the others redirect to it; when it leaves, the next
// one leads.
func TestZooKeeperElection(t *testing.T) {
	server := zooKeeper(t)
	path := fmt.Sprintf("/mesos-emulator-test-%d", time.Now().UnixNano())
	first := startMaster(t, Config{})
	second := startMaster(t, Config{})
	z1, err := first.RegisterInZooKeeper([]string{server}, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.RegisterInZooKeeper([]string{server}, path); err != nil {
		t.Fatal(err)
	}
	conn, _, err := zk.Connect([]string{server}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	data, _, err := conn.Get(z1)
	if err != nil || !strings.HasPrefix(string(data), `{"address":{"hostname":"localhost"`) || !strings.HasPrefix(z1, path+"/json.info_") {
		t.Fatalf("znode %s: %s %v", z1, data, err)
	}
	redirectTo := func(m *Master) string {
		return post(t, http.MethodGet, m.URL()+"/master/redirect", "", nil).header.Get("Location")
	}
	eventually(t, "second follows first", func() bool { return redirectTo(second) == "//"+first.HostPort() })
	first.LeaveZooKeeper()
	eventually(t, "second leads", func() bool { return redirectTo(second) == "//"+second.HostPort() })
	second.LeaveZooKeeper()
}

// TestZooKeeperTakeOver: TakeOver moves the election too: the old leader's
// znode goes (at once: ZKSessionTimeout < 0) and it registers again as a
// standby with a higher sequence, so both masters redirect to the new
// leader; and back.
func TestZooKeeperTakeOver(t *testing.T) {
	server := zooKeeper(t)
	path := fmt.Sprintf("/mesos-emulator-test-%d", time.Now().UnixNano())
	first := startMaster(t, Config{ZKSessionTimeout: -1})
	second := startMaster(t, Config{Leader: Bool(false), ZKSessionTimeout: -1})
	z1, err := first.RegisterInZooKeeper([]string{server}, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.RegisterInZooKeeper([]string{server}, path); err != nil {
		t.Fatal(err)
	}
	conn, _, err := zk.Connect([]string{server}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	redirectTo := func(m *Master) string {
		return post(t, http.MethodGet, m.URL()+"/master/redirect", "", nil).header.Get("Location")
	}
	for _, leader := range []*Master{first, second, first} {
		eventually(t, "both masters name "+leader.HostPort(), func() bool {
			return redirectTo(first) == "//"+leader.HostPort() && redirectTo(second) == "//"+leader.HostPort()
		})
		children, _, err := conn.Children(path)
		if err != nil || len(children) != 2 {
			t.Fatalf("znodes %v, %v; want one per master", children, err)
		}
		data, _, err := conn.Get(path + "/" + lowestInfo(children))
		if err != nil || !strings.Contains(string(data), fmt.Sprintf(`"port":%d`, leader.port)) {
			t.Fatalf("lowest znode holds %s (%v), want the leader's MasterInfo", data, err)
		}
		other := second
		if leader == second {
			other = first
		}
		if err := other.TakeOver(leader); err != nil {
			t.Fatal(err)
		}
	}
	if children, _, _ := conn.Children(path); slices.Contains(children, strings.TrimPrefix(z1, path+"/")) {
		t.Fatalf("the first znode %s outlived its master's leadership: %v", z1, children)
	}
}

// TestZooKeeperLinger: a leader that fails over keeps its znode — the
// lowest, so ZooKeeper still names it — for its ZKSessionTimeout (2 s
// here), as a real master's session outlives its process; then the znode
// goes and the new leader's is the lowest. Checked right after TakeOver,
// halfway through (1 s: well inside the linger) and after the timeout
// plus 3 s of slack.
func TestZooKeeperLinger(t *testing.T) {
	const linger = 2 * time.Second
	server := zooKeeper(t)
	path := fmt.Sprintf("/mesos-emulator-test-%d", time.Now().UnixNano())
	first := startMaster(t, Config{ZKSessionTimeout: linger})
	second := startMaster(t, Config{Leader: Bool(false), ZKSessionTimeout: linger})
	z1, err := first.RegisterInZooKeeper([]string{server}, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.RegisterInZooKeeper([]string{server}, path); err != nil {
		t.Fatal(err)
	}
	conn, _, err := zk.Connect([]string{server}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	leaderData := func() string {
		children, _, err := conn.Children(path)
		if err != nil || len(children) == 0 {
			return ""
		}
		data, _, _ := conn.Get(path + "/" + lowestInfo(children))
		return string(data)
	}
	names := func(m *Master) bool { return strings.Contains(leaderData(), fmt.Sprintf(`"port":%d`, m.port)) }
	start := time.Now()
	if err := second.TakeOver(first); err != nil {
		t.Fatal(err)
	}
	if !names(first) {
		t.Fatalf("right after the failover ZooKeeper names %s, want the old leader still", leaderData())
	}
	time.Sleep(time.Second - time.Since(start))
	if !names(first) {
		t.Fatalf("1 s into a %v linger ZooKeeper names %s, want the old leader still", linger, leaderData())
	}
	deadline := start.Add(linger + 3*time.Second)
	for !names(second) {
		if time.Now().After(deadline) {
			t.Fatalf("%v after the failover ZooKeeper names %s, want the new leader", time.Since(start), leaderData())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if took := time.Since(start); took < linger {
		t.Errorf("ZooKeeper named the new leader %v after the failover, before the %v session timeout", took, linger)
	}
	if children, _, _ := conn.Children(path); slices.Contains(children, strings.TrimPrefix(z1, path+"/")) {
		t.Errorf("the old leader's znode %s outlived the linger: %v", z1, children)
	}
}
