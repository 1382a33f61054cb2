package mesosemulator

import (
	"net/http"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// TestDropStreams checks that streams end abruptly and frameworks become
// disconnected but keep their tasks.
func TestDropStreams(t *testing.T) {
	m := startMaster(t, Config{})
	info := fwInfo("fw", 60, []string{"team-a"}, allCaps...)
	s := subscribe(t, m, subscribeBody("", info), nil)
	s.runTask(s.offers()[0], "t1", 1, 64)
	m.DropStreams()
	if _, err := s.waitEnd(); err == nil || isCleanEOF(err) {
		t.Fatalf("want an abrupt end, got %v", err)
	}
	fw, _ := m.Framework(s.fwID)
	if fw.Connected || fw.Active || len(fw.Tasks) != 1 {
		t.Fatalf("after drop: %+v", fw)
	}
	s2 := subscribe(t, m, subscribeBody(s.fwID, info), nil)
	s2.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "RECONCILE", "reconcile": {"tasks": []}}`, s2.fwID)
	if st := s2.update("t1"); st.GetState() != mesos.TASK_RUNNING {
		t.Fatalf("t1: %s", st.GetState())
	}
}

// TestRescindAll checks RescindAll and the re-offer.
func TestRescindAll(t *testing.T) {
	m := startMaster(t, Config{})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, allCaps...)), nil)
	o := s.offers()[0]
	m.RescindAll()
	if r := s.waitFor(scheduler.Event_RESCIND, nil); r.ev.Rescind.OfferID.Value != o.ID.Value {
		t.Fatalf("rescinded %s", r.raw)
	}
	if o2 := s.offers()[0]; o2.ID.Value == o.ID.Value {
		t.Fatalf("re-offer reused the id")
	}
}

// TestRemoveAndAddAgent checks RemoveAgent (TASK_GONE / TASK_LOST, offers
// rescinded) and AddAgent (new offers).
func TestRemoveAndAddAgent(t *testing.T) {
	m := startMaster(t, Config{Agents: []Agent{plainAgent("node-1"), plainAgent("node-2")}})
	pa := subscribe(t, m, subscribeBody("", fwInfo("fw-pa", 60, []string{"r1"}, allCaps...)), nil)
	offers := pa.offers()
	pa.runTask(offers[0], "pa1", 1, 64)
	other := offers[1]
	lost := subscribe(t, m, subscribeBody("", fwInfo("fw-lost", 60, []string{"r2"}, "MULTI_ROLE")), nil)
	lo := lost.offers()[0]
	for lo.Hostname != offers[0].Hostname {
		lost.decline(0, lo)
		lo = lost.offers()[0]
	}
	lost.runTask(lo, "l1", 1, 64)
	pa.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "REVIVE"}`, pa.fwID)

	if err := m.RemoveAgent(offers[0].Hostname); err != nil {
		t.Fatal(err)
	}
	st := pa.update("pa1")
	if st.GetState() != mesos.TASK_GONE || st.GetReason() != mesos.REASON_AGENT_REMOVED || st.GetSource() != mesos.SOURCE_MASTER || st.UUID != nil {
		t.Fatalf("pa1: %s %s", st.GetState(), st.GetReason())
	}
	if st := lost.update("l1"); st.GetState() != mesos.TASK_LOST {
		t.Fatalf("l1: %s", st.GetState())
	}
	if len(m.Agents()) != 1 || m.AgentID(offers[0].Hostname) != "" {
		t.Fatalf("agents: %+v", m.Agents())
	}
	id, err := m.AddAgent(plainAgent("node-3"))
	if err != nil || id != m.id+"-S2" {
		t.Fatalf("AddAgent: %q %v", id, err)
	}
	// fw-pa still holds the node-2 offer (share 0.5), so DRF gives the new
	// agent to fw-lost (share 0).
	if o := lost.offers()[0]; o.Hostname != "node-3" || o.AgentID.Value != id {
		t.Fatalf("new agent offer: %s %s (fw-pa holds %s)", o.Hostname, o.AgentID.Value, other.Hostname)
	}
}

// TestPartitionAndHeal checks TASK_UNREACHABLE and the return of the task.
func TestPartitionAndHeal(t *testing.T) {
	m := startMaster(t, Config{})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, allCaps...)), nil)
	o := s.offers()[0]
	s.runTask(o, "t1", 1, 64)
	if err := m.PartitionAgent("node-1"); err != nil {
		t.Fatal(err)
	}
	st := s.update("t1")
	if st.GetState() != mesos.TASK_UNREACHABLE || st.UnreachableTime == nil || st.UUID != nil {
		t.Fatalf("partition: %s", st.GetState())
	}
	reconcile := `{"framework_id": {"value": "` + s.fwID + `"}, "type": "RECONCILE", "reconcile": {"tasks": []}}`
	s.mustCall(http.StatusAccepted, "%s", reconcile)
	if st := s.update("t1"); st.GetState() != mesos.TASK_UNREACHABLE || st.GetReason() != mesos.REASON_RECONCILIATION {
		t.Fatalf("reconcile while partitioned: %s %s", st.GetState(), st.GetReason())
	}
	if fw, _ := m.Framework(s.fwID); len(fw.UnreachableTasks) != 1 || len(m.Agents()) != 0 {
		t.Fatalf("state while partitioned: %+v", fw)
	}
	if err := m.HealAgent("node-1"); err != nil {
		t.Fatal(err)
	}
	s.mustCall(http.StatusAccepted, "%s", reconcile)
	if st := s.update("t1"); st.GetState() != mesos.TASK_RUNNING {
		t.Fatalf("reconcile after heal: %s", st.GetState())
	}
}

// TestFailNextAccept checks the injected ACCEPT failure.
func TestFailNextAccept(t *testing.T) {
	m := startMaster(t, Config{})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, allCaps...)), nil)
	o := s.offers()[0]
	m.FailNextAccept(1)
	s.launch(o.ID.Value, taskJSON("t1", o.AgentID.Value, 1, 64, "team-a"))
	if r := s.waitFor(scheduler.Event_RESCIND, nil); r.ev.Rescind.OfferID.Value != o.ID.Value {
		t.Fatalf("rescind %s", r.raw)
	}
	st := s.update("t1")
	if st.GetState() != mesos.TASK_DROPPED || st.GetMessage() != "Task launched with invalid offers: Offer "+o.ID.Value+" is no longer valid" {
		t.Fatalf("t1: %s %q", st.GetState(), st.GetMessage())
	}
	s.runTask(s.offers()[0], "t2", 1, 64) // only one ACCEPT fails
}

// TestFinishTask checks tasks ending on their own and resource release.
func TestFinishTask(t *testing.T) {
	m := startMaster(t, Config{AllocationInterval: time.Hour})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, allCaps...)), nil)
	s.runTask(s.offers()[0], "t1", 4, 64)
	if err := m.FinishTask("t1", mesos.TASK_FINISHED); err != nil {
		t.Fatal(err)
	}
	st := s.update("t1")
	if st.GetState() != mesos.TASK_FINISHED || len(st.UUID) != 16 || st.GetSource() != mesos.SOURCE_EXECUTOR {
		t.Fatalf("finish: %s", st.GetState())
	}
	if tasks := m.Tasks(s.fwID); len(tasks) != 1 || tasks[0].State != "TASK_FINISHED" {
		t.Fatalf("unacknowledged terminal task should stay in tasks: %+v", tasks)
	}
	s.ack(st)
	eventually(t, "completed", func() bool { return len(m.CompletedTasks(s.fwID)) == 1 })
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "REVIVE"}`, s.fwID)
	if o := s.offers()[0]; scalar(o.Resources, "cpus") != 4 {
		t.Fatalf("resources not released: %s", formatResources(o.Resources))
	}
	if err := m.FinishTask("t1", mesos.TASK_FAILED); err == nil {
		t.Fatalf("finishing a completed task should fail")
	}
	if err := m.FinishTask("nope", mesos.TASK_RUNNING); err == nil {
		t.Fatalf("TASK_RUNNING is not a terminal state")
	}
}

// TestStatusUpdateRetry checks that the agent re-sends unacknowledged updates.
func TestStatusUpdateRetry(t *testing.T) {
	m := startMaster(t, Config{StatusUpdateRetry: 50 * time.Millisecond})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, allCaps...)), nil)
	o := s.offers()[0]
	s.launch(o.ID.Value, taskJSON("t1", o.AgentID.Value, 1, 64, "team-a"))
	first := s.update("t1")
	again := s.update("t1")
	if again.GetState() != mesos.TASK_STARTING || string(again.UUID) != string(first.UUID) {
		t.Fatalf("retry: %s", again.GetState())
	}
}
