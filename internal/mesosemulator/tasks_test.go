package mesosemulator

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

var timestampRE = regexp.MustCompile(`"timestamp":[0-9]+\.[0-9]+`)

// masked replaces the master id and timestamps of a raw record.
func masked(m *Master, raw []byte) string {
	return timestampRE.ReplaceAllString(strings.ReplaceAll(string(raw), m.id, "M"), `"timestamp":T`)
}

// executorUpdateRE matches a recorded executor update (§4).
var executorUpdateRE = regexp.MustCompile(`^\{"type":"UPDATE","update":\{"status":\{"task_id":\{"value":"(\w+)"\},"state":"(TASK_\w+)",` +
	`"source":"SOURCE_EXECUTOR","agent_id":\{"value":"M-S0"\},"executor_id":\{"value":"(\w+)"\},"timestamp":T,"uuid":"[A-Za-z0-9+/]{22}==",` +
	`"container_status":\{"container_id":\{"value":"[0-9a-f-]{36}"\},"network_infos":\[\{"ip_addresses":\[\{"protocol":"IPv4","ip_address":"127.0.0.1"\}\]\}\],"executor_pid":[0-9]+\}\}\}\}$`)

// TestAcceptLaunchAndAcknowledgements checks §4: two LAUNCH operations in
// one ACCEPT, ack-gated updates, re-sending, invalid ACCEPTs and the
// remainder offer.
func TestAcceptLaunchAndAcknowledgements(t *testing.T) {
	m := startMaster(t, Config{})
	info := fwInfo("fw", 60, []string{"team-a", "team-b"}, allCaps...)
	s := subscribe(t, m, subscribeBody("", info), nil)
	o := s.offers()[0]
	agent := o.AgentID.Value
	s.launch(o.ID.Value, taskJSON("t1", agent, 0.5, 64, "team-a"), taskJSON("t2", agent, 0.5, 64, "team-a"))
	starting := map[string]mesos.TaskStatus{}
	for len(starting) < 2 {
		rec := s.waitFor(scheduler.Event_UPDATE, nil)
		st := rec.ev.Update.Status
		match := executorUpdateRE.FindStringSubmatch(masked(m, rec.raw))
		if match == nil || match[2] != "TASK_STARTING" || match[1] != match[3] || len(st.UUID) != 16 {
			t.Fatalf("update %s", rec.raw)
		}
		starting[st.TaskID.Value] = st
	}
	s.ack(starting["t2"])
	if st := s.update("t2"); st.GetState() != mesos.TASK_RUNNING {
		t.Fatalf("t2 after ack: %s", st.GetState())
	}
	for _, rec := range s.barrier() {
		if rec.ev.Type == scheduler.Event_UPDATE && rec.ev.Update.Status.TaskID.Value == "t1" {
			t.Fatalf("t1 update delivered before its STARTING was acknowledged: %s", rec.raw)
		}
	}

	// ACCEPT with the already-used offer id.
	s.launch(o.ID.Value, taskJSON("t3", agent, 0.5, 64, "team-a"))
	rec := s.waitFor(scheduler.Event_UPDATE, func(ev *scheduler.Event) bool { return ev.Update.Status.TaskID.Value == "t3" })
	want := `{"type":"UPDATE","update":{"status":{"task_id":{"value":"t3"},"state":"TASK_DROPPED","message":"Task launched with invalid offers: Offer M-O0 is no longer valid","source":"SOURCE_MASTER","reason":"REASON_INVALID_OFFERS","agent_id":{"value":"M-S0"},"timestamp":T}}}`
	if got := masked(m, rec.raw); got != want {
		t.Fatalf("reused offer:\n got %s\nwant %s", got, want)
	}

	// The remainder goes to team-b (team-a is filtered 5 s after ACCEPT).
	b := s.offers()[0]
	if role(t, b) != "team-b" || scalar(b.Resources, "cpus") != 3 || scalar(b.Resources, "mem") != 8064 {
		t.Fatalf("remainder offer %s: %s", role(t, b), formatResources(b.Resources))
	}
	s.launch(b.ID.Value, taskJSON("t4", agent, 100, 64, "team-b"))
	st := s.update("t4")
	wantMsg := "Total resources cpus(allocated: team-b):100; mem(allocated: team-b):64 required by task and its executor is more than available " +
		"ports(allocated: team-b):[31000-32000]; cpus(allocated: team-b):3; mem(allocated: team-b):8064; disk(allocated: team-b):10000; gpus(allocated: team-b):2"
	if st.GetState() != mesos.TASK_ERROR || st.GetReason() != mesos.REASON_TASK_INVALID || st.GetMessage() != wantMsg ||
		st.GetSource() != mesos.SOURCE_MASTER || st.UUID != nil {
		t.Fatalf("over-sized task: %s %s %q", st.GetState(), st.GetReason(), st.GetMessage())
	}

	// UPDATE_FRAMEWORK and re-SUBSCRIBE re-send the unacknowledged update.
	withID := strings.TrimSuffix(info, "}") + `, "id": {"value": "` + s.fwID + `"}}`
	if r := s.call(`{"framework_id": {"value": "` + s.fwID + `"}, "type": "UPDATE_FRAMEWORK", "update_framework": {"framework_info": ` + withID + `}}`); r.status != 200 {
		t.Fatalf("UPDATE_FRAMEWORK: %d %q", r.status, r.body)
	}
	if again := s.update("t1"); again.GetState() != mesos.TASK_STARTING || string(again.UUID) != string(starting["t1"].UUID) {
		t.Fatalf("re-sent after UPDATE_FRAMEWORK: %s", again.GetState())
	}
	s2 := subscribe(t, m, subscribeBody(s.fwID, info), nil)
	again := s2.update("t1")
	if again.GetState() != mesos.TASK_STARTING || string(again.UUID) != string(starting["t1"].UUID) {
		t.Fatalf("re-sent after re-SUBSCRIBE: %s", again.GetState())
	}
	s2.ack(again)
	if st := s2.update("t1"); st.GetState() != mesos.TASK_RUNNING {
		t.Fatalf("t1 after ack: %s", st.GetState())
	}

	// Resources without allocation_info are accepted.
	s2.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "REVIVE"}`, s2.fwID)
	o5 := s2.offers()[0]
	s2.launch(o5.ID.Value, taskJSON("t5", agent, 0.5, 64, ""))
	if st := s2.update("t5"); st.GetState() != mesos.TASK_STARTING {
		t.Fatalf("t5: %s %q", st.GetState(), st.GetMessage())
	}
	for _, task := range m.Tasks(s.fwID) {
		if task.ID == "t5" && task.Role != role(t, o5) {
			t.Fatalf("t5 role %q", task.Role)
		}
	}
}

// TestKill checks §5's KILL answers.
func TestKill(t *testing.T) {
	m := startMaster(t, Config{})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, allCaps...)), nil)
	o := s.offers()[0]
	s.runTask(o, "t1", 0.5, 64)
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "KILL", "kill": {"task_id": {"value": "t1"}, "agent_id": {"value": %q}}}`, s.fwID, o.AgentID.Value)
	killed := s.waitFor(scheduler.Event_UPDATE, nil)
	st := killed.ev.Update.Status
	if st.GetState() != mesos.TASK_KILLED || st.GetSource() != mesos.SOURCE_EXECUTOR || len(st.UUID) != 16 ||
		st.GetMessage() != "Command terminated with signal Terminated" || st.Reason != nil {
		t.Fatalf("kill: %s", killed.raw)
	}
	s.ack(st)
	eventually(t, "t1 completed", func() bool { return len(m.CompletedTasks(s.fwID)) == 1 })
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "KILL", "kill": {"task_id": {"value": "nosuchtask"}}}`, s.fwID)
	rec := s.waitFor(scheduler.Event_UPDATE, nil)
	want := `{"type":"UPDATE","update":{"status":{"task_id":{"value":"nosuchtask"},"state":"TASK_UNKNOWN","message":"Reconciliation: Task is unknown","source":"SOURCE_MASTER","reason":"REASON_RECONCILIATION","timestamp":T}}}`
	if got := masked(m, rec.raw); got != want {
		t.Fatalf("unknown kill:\n got %s\nwant %s", got, want)
	}
}

// TestReconcile checks §5's implicit and explicit reconciliation.
func TestReconcile(t *testing.T) {
	m := startMaster(t, Config{})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, allCaps...)), nil)
	o := s.offers()[0]
	agent := o.AgentID.Value
	s.launch(o.ID.Value, taskJSON("t1", agent, 0.5, 64, "team-a"), taskJSON("t2", agent, 0.5, 64, "team-a"))
	for range 2 {
		st := s.waitFor(scheduler.Event_UPDATE, nil).ev.Update.Status
		s.ack(st)
	}
	for range 2 {
		st := s.waitFor(scheduler.Event_UPDATE, nil).ev.Update.Status
		s.ack(st)
	}
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "KILL", "kill": {"task_id": {"value": "t1"}}}`, s.fwID)
	s.ack(s.update("t1"))
	eventually(t, "t1 completed", func() bool { return len(m.CompletedTasks(s.fwID)) == 1 })

	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "RECONCILE", "reconcile": {"tasks": []}}`, s.fwID)
	rec := s.waitFor(scheduler.Event_UPDATE, nil)
	got := masked(m, rec.raw)
	wantPrefix := `{"type":"UPDATE","update":{"status":{"task_id":{"value":"t2"},"state":"TASK_RUNNING","message":"Reconciliation: Latest task state","source":"SOURCE_MASTER","reason":"REASON_RECONCILIATION","agent_id":{"value":"M-S0"},"timestamp":T,"container_status":{"container_id":`
	if !strings.HasPrefix(got, wantPrefix) || strings.Contains(got, "uuid") {
		t.Fatalf("implicit reconcile: %s", got)
	}
	if seen := s.barrier(); len(seen) != 0 && seen[0].ev.Type == scheduler.Event_UPDATE {
		t.Fatalf("implicit reconcile reported more than t2: %s", seen[0].raw)
	}

	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "RECONCILE", "reconcile": {"tasks": [`+
		`{"task_id": {"value": "t2"}, "agent_id": {"value": %q}}, {"task_id": {"value": "t1"}, "agent_id": {"value": %q}}, `+
		`{"task_id": {"value": "ghost-1"}}, {"task_id": {"value": "ghost-2"}, "agent_id": {"value": %q}}, `+
		`{"task_id": {"value": "ghost-3"}, "agent_id": {"value": "no-such-agent"}}]}}`, s.fwID, agent, agent, agent)
	want := []string{
		`"task_id":{"value":"t2"},"state":"TASK_RUNNING","message":"Reconciliation: Latest task state"`,
		`{"type":"UPDATE","update":{"status":{"task_id":{"value":"t1"},"state":"TASK_GONE","message":"Reconciliation: Task is unknown to the agent","source":"SOURCE_MASTER","reason":"REASON_RECONCILIATION","agent_id":{"value":"M-S0"},"timestamp":T}}}`,
		`{"type":"UPDATE","update":{"status":{"task_id":{"value":"ghost-1"},"state":"TASK_UNKNOWN","message":"Reconciliation: Task is unknown","source":"SOURCE_MASTER","reason":"REASON_RECONCILIATION","timestamp":T}}}`,
		`{"type":"UPDATE","update":{"status":{"task_id":{"value":"ghost-2"},"state":"TASK_GONE","message":"Reconciliation: Task is unknown to the agent","source":"SOURCE_MASTER","reason":"REASON_RECONCILIATION","agent_id":{"value":"M-S0"},"timestamp":T}}}`,
		`{"type":"UPDATE","update":{"status":{"task_id":{"value":"ghost-3"},"state":"TASK_UNKNOWN","message":"Reconciliation: Task is unknown","source":"SOURCE_MASTER","reason":"REASON_RECONCILIATION","agent_id":{"value":"no-such-agent"},"timestamp":T}}}`,
	}
	for i, w := range want {
		got := masked(m, s.waitFor(scheduler.Event_UPDATE, nil).raw)
		if (i == 0 && !strings.Contains(got, w)) || (i > 0 && got != w) {
			t.Fatalf("explicit reconcile %d:\n got %s\nwant %s", i, got, w)
		}
	}
}

// TestNotPartitionAware checks the TASK_LOST answers for frameworks without
// PARTITION_AWARE.
func TestNotPartitionAware(t *testing.T) {
	m := startMaster(t, Config{})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, "MULTI_ROLE", "GPU_RESOURCES")), nil)
	o := s.offers()[0]
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "RECONCILE", "reconcile": {"tasks": [{"task_id": {"value": "g1"}}, {"task_id": {"value": "g2"}, "agent_id": {"value": %q}}]}}`,
		s.fwID, o.AgentID.Value)
	for _, id := range []string{"g1", "g2"} {
		if st := s.update(id); st.GetState() != mesos.TASK_LOST {
			t.Fatalf("%s: %s", id, st.GetState())
		}
	}
	s.launch(m.id+"-O999", taskJSON("late", o.AgentID.Value, 0.5, 64, "team-a"))
	if st := s.update("late"); st.GetState() != mesos.TASK_LOST || st.GetReason() != mesos.REASON_INVALID_OFFERS {
		t.Fatalf("invalid offer: %s %s", st.GetState(), st.GetReason())
	}
}

// TestTaskValidation checks a duplicate task id and a missing command.
func TestTaskValidation(t *testing.T) {
	m := startMaster(t, Config{})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, allCaps...)), nil)
	o := s.offers()[0]
	agent := o.AgentID.Value
	noCommand := strings.Replace(taskJSON("t3", agent, 0.1, 32, "team-a"), `, "command": {"value": "sleep 30", "shell": true}`, "", 1)
	s.launch(o.ID.Value, taskJSON("t1", agent, 0.5, 64, "team-a"), taskJSON("t1", agent, 0.5, 64, "team-a"), noCommand)
	if st := s.update("t1"); st.GetState() != mesos.TASK_STARTING {
		t.Fatalf("t1: %s", st.GetState())
	}
	dup := s.waitFor(scheduler.Event_UPDATE, func(ev *scheduler.Event) bool {
		return ev.Update.Status.TaskID.Value == "t1" && ev.Update.Status.GetState() == mesos.TASK_ERROR
	}).ev.Update.Status
	if dup.GetMessage() != "Task has duplicate ID: t1" {
		t.Fatalf("duplicate: %q", dup.GetMessage())
	}
	if st := s.update("t3"); st.GetState() != mesos.TASK_ERROR {
		t.Fatalf("t3: %s", st.GetState())
	}
}
