package mesosemulator

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// startPair starts a leading master with node-1 and a standby redirecting
// to it (a standby has no agents of its own).
func startPair(t *testing.T) (leader, standby *Master) {
	t.Helper()
	leader = startMaster(t, Config{})
	standby = startMaster(t, Config{Leader: Bool(false), LeaderHostPort: leader.HostPort()})
	return leader, standby
}

// TestTakeOver follows §9: the leader's stream ends abruptly; the new
// leader has the same agents and the framework's task; the framework
// re-subscribes with its id, gets SUBSCRIBED from the new master, the
// update it had not acknowledged, offers numbered from -O0 on what its task
// leaves free, and reconciliation shows the task running.
func TestTakeOver(t *testing.T) {
	m1, m2 := startPair(t)
	oldID, agentID := m1.ID(), m1.AgentID("node-1")
	info := fwInfo("fw-ha", 120, []string{"team-a"}, allCaps...)
	s1 := subscribe(t, m1, subscribeBody("", info), nil)
	o := s1.offers()[0]
	s1.launch(o.ID.Value, taskJSON("ha1", agentID, 0.5, 64, "team-a"), taskJSON("ha2", agentID, 0.5, 64, "team-a"))
	s1.ack(s1.update("ha1"))     // TASK_STARTING
	starting := s1.update("ha2") // TASK_STARTING, left unacknowledged
	running := s1.update("ha1")
	if running.GetState() != mesos.TASK_RUNNING {
		t.Fatalf("ha1: %s", running.GetState())
	}
	s1.ack(running)

	if err := m2.TakeOver(m1); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.waitEnd(); err == nil || isCleanEOF(err) {
		t.Fatalf("old leader's stream ended with %v, want an abrupt end", err)
	}
	r := post(t, http.MethodPost, m1.SchedulerURL(), subscribeBody(s1.fwID, info), jsonHeaders(""))
	if r.status != http.StatusTemporaryRedirect || r.header.Get("Location") != "//"+m2.HostPort()+"/master/api/v1/scheduler" {
		t.Fatalf("old leader answers %d Location %q", r.status, r.header.Get("Location"))
	}
	if m1.ID() == oldID || len(m1.State().Frameworks) != 0 || len(m1.State().Slaves) != 0 {
		t.Fatalf("old leader kept state: id %s, %+v", m1.ID(), m1.State())
	}
	fw, ok := m2.Framework(s1.fwID)
	if !ok || !fw.Recovered || fw.Active || fw.Connected || len(fw.Tasks) != 2 {
		t.Fatalf("recovered framework on the new leader: %+v (found %v)", fw, ok)
	}
	if m2.AgentID("node-1") != agentID {
		t.Fatalf("agent id %q on the new leader, want %q", m2.AgentID("node-1"), agentID)
	}

	s2 := subscribe(t, m2, subscribeBody(s1.fwID, info), nil)
	if s2.fwID != s1.fwID {
		t.Fatalf("re-subscribed as %s, want %s", s2.fwID, s1.fwID)
	}
	offers := s2.offers()
	if len(offers) != 1 || offers[0].ID.Value != m2.ID()+"-O0" || offers[0].AgentID.Value != agentID ||
		scalar(offers[0].Resources, "cpus") != 3 || scalar(offers[0].Resources, "mem") != 8192-128 {
		t.Fatalf("offers after failover: %+v", offers)
	}
	again := s2.update("ha2")
	if again.GetState() != mesos.TASK_STARTING || string(again.UUID) != string(starting.UUID) {
		t.Fatalf("unacknowledged update re-sent as %s %x, want TASK_STARTING %x", again.GetState(), again.UUID, starting.UUID)
	}
	s2.ack(again)
	s2.ack(s2.update("ha2")) // TASK_RUNNING
	s2.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "RECONCILE", "reconcile": {"tasks": []}}`, s2.fwID)
	for _, id := range []string{"ha1", "ha2"} {
		st := s2.update(id)
		if st.GetState() != mesos.TASK_RUNNING || st.GetReason() != mesos.REASON_RECONCILIATION || st.AgentID.Value != agentID {
			t.Fatalf("reconciled %s: %s %s on %s", id, st.GetState(), st.GetReason(), st.AgentID.GetValue())
		}
	}
	if fw, _ := m2.Framework(s1.fwID); fw.Recovered || !fw.Connected {
		t.Fatalf("framework after re-subscription: recovered %v connected %v", fw.Recovered, fw.Connected)
	}
	s2.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "KILL", "kill": {"task_id": {"value": "ha1"}}}`, s2.fwID)
	if st := s2.update("ha1"); st.GetState() != mesos.TASK_KILLED {
		t.Fatalf("KILL on the new leader: %s", st.GetState())
	}
	stats := m1.CallStats()
	if stats.Redirected != 1 || stats.Handled["ACCEPT"] != 1 {
		t.Fatalf("old leader's call counts %+v", stats)
	}
	if n := m2.CallStats().Handled["ACCEPT"]; n != 0 {
		t.Fatalf("%d ACCEPTs on the new leader", n)
	}
}

// TestTakeOverAndBack: leadership goes back to the first master, which
// restarted as a standby with a new id; the task follows again and there
// is never more than one copy of it.
func TestTakeOverAndBack(t *testing.T) {
	m1, m2 := startPair(t)
	info := fwInfo("fw-ha", 120, []string{"team-a"}, allCaps...)
	s := subscribe(t, m1, subscribeBody("", info), nil)
	s.runTask(s.offers()[0], "ha1", 1, 128)
	for i, pair := range [][2]*Master{{m2, m1}, {m1, m2}} {
		to, from := pair[0], pair[1]
		if err := to.TakeOver(from); err != nil {
			t.Fatal(err)
		}
		if len(from.Frameworks()) != 0 {
			t.Fatalf("switch %d: the old leader still has frameworks", i)
		}
		s = subscribe(t, to, subscribeBody(s.fwID, info), nil)
		if tasks := to.Tasks(s.fwID); len(tasks) != 1 || tasks[0].ID != "ha1" || tasks[0].State != "TASK_RUNNING" {
			t.Fatalf("switch %d: tasks %+v", i, tasks)
		}
		if o := s.offers()[0]; !strings.HasPrefix(o.ID.Value, to.ID()+"-O") || scalar(o.Resources, "cpus") != 3 {
			t.Fatalf("switch %d: offer %s with %v cpus", i, o.ID.Value, scalar(o.Resources, "cpus"))
		}
	}
}

// TestTakeOverFailoverTimeout: a framework that does not re-subscribe to
// the new leader within failover_timeout is removed there, with its task.
func TestTakeOverFailoverTimeout(t *testing.T) {
	m1, m2 := startPair(t)
	info := fwInfo("fw-short", 0.2, []string{"team-a"}, allCaps...)
	s := subscribe(t, m1, subscribeBody("", info), nil)
	s.runTask(s.offers()[0], "t1", 1, 64)
	if err := m2.TakeOver(m1); err != nil {
		t.Fatal(err)
	}
	eventually(t, "framework removed by the new leader", func() bool { return len(m2.CompletedFrameworks()) == 1 })
	if done := m2.CompletedFrameworks()[0]; done.ID != s.fwID || done.CompletedTasks[0].State != "TASK_KILLED" {
		t.Fatalf("completed framework %+v", done)
	}
	expectRemoved(t, m2, s.fwID, info)
}

// TestTakeOverFrameworkWithoutTasks: the new leader does not know a
// framework without tasks; its re-SUBSCRIBE registers it under its id.
func TestTakeOverFrameworkWithoutTasks(t *testing.T) {
	m1, m2 := startPair(t)
	info := fwInfo("fw", 60, []string{"team-a"}, allCaps...)
	s := subscribe(t, m1, subscribeBody("", info), nil)
	s.offers()
	if err := m2.TakeOver(m1); err != nil {
		t.Fatal(err)
	}
	if len(m2.Frameworks()) != 0 {
		t.Fatalf("frameworks without tasks recovered: %+v", m2.Frameworks())
	}
	s2 := subscribe(t, m2, subscribeBody(s.fwID, info), nil)
	if s2.fwID != s.fwID || len(s2.offers()) != 1 {
		t.Fatalf("re-subscribed as %s", s2.fwID)
	}
}

// TestTakeOverEarlyResubscribe: a framework that re-subscribed to the new
// leader before the agents came back gets its tasks when they do.
func TestTakeOverEarlyResubscribe(t *testing.T) {
	m1, m2 := startPair(t)
	info := fwInfo("fw", 60, []string{"team-a"}, allCaps...)
	s := subscribe(t, m1, subscribeBody("", info), nil)
	s.runTask(s.offers()[0], "t1", 1, 64)
	m1.SetLeader(false, m2.HostPort())
	m2.SetLeader(true, "")
	s2 := subscribe(t, m2, subscribeBody(s.fwID, info), nil)
	if err := m2.TakeOver(m1); err != nil {
		t.Fatal(err)
	}
	if tasks := m2.Tasks(s2.fwID); len(tasks) != 1 || tasks[0].ID != "t1" {
		t.Fatalf("tasks %+v", tasks)
	}
	s2.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "RECONCILE", "reconcile": {"tasks": []}}`, s2.fwID)
	if st := s2.update("t1"); st.GetState() != mesos.TASK_RUNNING {
		t.Fatalf("reconciled t1: %s", st.GetState())
	}
}

// TestTakeOverErrors: a master cannot take over from itself nor while it
// runs tasks.
func TestTakeOverErrors(t *testing.T) {
	m1, m2 := startPair(t)
	if err := m1.TakeOver(m1); err == nil {
		t.Fatal("took over from itself")
	}
	s := subscribe(t, m1, subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, allCaps...)), nil)
	s.runTask(s.offers()[0], "t1", 1, 64)
	other := startMaster(t, Config{Leader: Bool(false)})
	if err := m1.TakeOver(other); err == nil || !strings.Contains(err.Error(), "already runs tasks") {
		t.Fatalf("took over while running tasks: %v", err)
	}
	if len(m2.Frameworks()) != 0 {
		t.Fatal("state moved on a refused take-over")
	}
}

// TestTLS: with Config.TLS the master serves HTTPS only; a client that
// trusts the CA subscribes, one that does not fails the handshake.
func TestTLS(t *testing.T) {
	serverTLS, caPEM, err := GenerateTLS("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	m := startMaster(t, Config{TLS: serverTLS})
	if !strings.HasPrefix(m.URL(), "https://") {
		t.Fatalf("URL %s", m.URL())
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	trusting := &http.Client{Timeout: waitTimeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := trusting.Get(m.URL() + "/master/redirect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != "//"+m.HostPort() {
		t.Fatalf("redirect over TLS: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	sub, err := trusting.Post(m.SchedulerURL(), "application/json", strings.NewReader(subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, allCaps...))))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Body.Close()
	if sub.StatusCode != http.StatusOK || sub.ProtoMajor != 1 {
		t.Fatalf("SUBSCRIBE over TLS: %d %s", sub.StatusCode, sub.Proto)
	}
	untrusting := &http.Client{Timeout: waitTimeout}
	if _, err := untrusting.Get(m.URL() + "/master/redirect"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a client without the CA: %v, want a certificate error", err)
	}
	plain := "http" + strings.TrimPrefix(m.URL(), "https")
	if resp, err := untrusting.Get(plain + "/master/redirect"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusTemporaryRedirect {
			t.Fatal("plain HTTP served next to TLS")
		}
	}
}

// TestCallStats counts handled, redirected and unauthorized calls.
func TestCallStats(t *testing.T) {
	m := startMaster(t, Config{Credentials: map[string]string{"kms": "s3cret"}})
	body := subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, allCaps...))
	post(t, http.MethodPost, m.SchedulerURL(), body, jsonHeaders(""))
	h := jsonHeaders("")
	h["Authorization"] = basic("kms", "s3cret")
	s := subscribe(t, m, body, h)
	s.waitFor(scheduler.Event_OFFERS, nil)
	m.SetLeader(false, "localhost:1")
	post(t, http.MethodPost, m.SchedulerURL(), body, h)
	got := m.CallStats()
	if got.Unauthorized != 1 || got.Redirected != 1 || got.Handled["SUBSCRIBE"] != 1 || len(got.Handled) != 1 {
		t.Fatalf("call stats %+v", got)
	}
}
