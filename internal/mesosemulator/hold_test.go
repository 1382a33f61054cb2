package mesosemulator

import (
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// TestHoldTasks: held tasks stop at TASK_STAGING (no update at all) or at
// TASK_STARTING until ReleaseTasks; a held staging task can be killed, and
// a released one that was killed stays killed.
func TestHoldTasks(t *testing.T) {
	m := startMaster(t, Config{})
	info := fwInfo("fw", 60, []string{"team-a"}, allCaps...)
	s := subscribe(t, m, subscribeBody("", info), nil)
	o := s.offers()[0]
	agent := o.AgentID.Value

	m.HoldTasks(mesos.TASK_STAGING)
	s.launch(o.ID.Value, taskJSON("staged", agent, 0.5, 64, "team-a"), taskJSON("killed", agent, 0.5, 64, "team-a"))
	for _, rec := range s.barrier() {
		if rec.ev.Type == scheduler.Event_UPDATE {
			t.Fatalf("update for a task held at TASK_STAGING: %s", rec.raw)
		}
	}
	states := func() map[string]string {
		out := map[string]string{}
		for _, tk := range m.Tasks(s.fwID) {
			out[tk.ID] = tk.State
		}
		return out
	}
	if st := states(); st["staged"] != "TASK_STAGING" || st["killed"] != "TASK_STAGING" {
		t.Fatalf("held tasks: %v", st)
	}
	s.mustCall(202, `{"framework_id": {"value": %q}, "type": "KILL", "kill": {"task_id": {"value": "killed"}, "agent_id": {"value": %q}}}`, s.fwID, agent)
	if st := s.update("killed"); st.GetState() != mesos.TASK_KILLED {
		t.Fatalf("kill of a staging task: %s", st.GetState())
	}
	m.ReleaseTasks()
	st := s.update("staged")
	if st.GetState() != mesos.TASK_STARTING {
		t.Fatalf("released task: %s", st.GetState())
	}
	s.ack(st)
	if st := s.update("staged"); st.GetState() != mesos.TASK_RUNNING {
		t.Fatalf("released task after ack: %s", st.GetState())
	}

	m.HoldTasks(mesos.TASK_STARTING)
	s.mustCall(202, `{"framework_id": {"value": %q}, "type": "REVIVE"}`, s.fwID)
	o2 := s.offers()[0]
	s.launch(o2.ID.Value, taskJSON("starting", agent, 0.5, 64, "team-a"))
	st = s.update("starting")
	if st.GetState() != mesos.TASK_STARTING {
		t.Fatalf("held at TASK_STARTING: %s", st.GetState())
	}
	s.ack(st)
	for _, rec := range s.barrier() {
		if rec.ev.Type == scheduler.Event_UPDATE && rec.ev.Update.Status.TaskID.Value == "starting" {
			t.Fatalf("update past TASK_STARTING while held: %s", rec.raw)
		}
	}
	m.ReleaseTasks()
	if st := s.update("starting"); st.GetState() != mesos.TASK_RUNNING {
		t.Fatalf("released: %s", st.GetState())
	}
}
