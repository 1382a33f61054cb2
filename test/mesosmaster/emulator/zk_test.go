package emulator

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
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

// TestZooKeeperElection needs a ZooKeeper server: set MESOS_EMULATOR_ZK to
// "host:port" to run it.
func TestZooKeeperElection(t *testing.T) {
	server := os.Getenv("MESOS_EMULATOR_ZK")
	if server == "" {
		t.Skip("MESOS_EMULATOR_ZK not set")
	}
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
