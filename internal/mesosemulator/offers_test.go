package mesosemulator

import (
	"net/http"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// twoRoles subscribes the recorded MULTI_ROLE framework (team-a, team-b).
func twoRoles(t *testing.T, m *Master) *sub {
	t.Helper()
	return subscribe(t, m, subscribeBody("", fwInfo("fw", 60, []string{"team-a", "team-b"}, allCaps...)), nil)
}

// role returns an offer's allocation role, checking it is on every resource.
func role(t *testing.T, o mesos.Offer) string {
	t.Helper()
	r := o.AllocationInfo.GetRole()
	for _, res := range o.Resources {
		if res.AllocationInfo.GetRole() != r || res.GetRole() != "*" {
			t.Fatalf("resource %s has allocation role %q, offer %q", res.Name, res.AllocationInfo.GetRole(), r)
		}
	}
	return r
}

// TestDeclineRefuseZeroAlternatesRoles checks §3: refuse_seconds 0 re-offers
// at the next tick, the roles alternating.
func TestDeclineRefuseZeroAlternatesRoles(t *testing.T) {
	m := startMaster(t, Config{})
	s := twoRoles(t, m)
	var roles []string
	for range 6 {
		offers := s.offers()
		if len(offers) != 1 {
			t.Fatalf("one agent, got %d offers", len(offers))
		}
		roles = append(roles, role(t, offers[0]))
		s.decline(0, offers[0])
	}
	if got := strings.Join(roles, ","); got != "team-a,team-b,team-a,team-b,team-a,team-b" {
		t.Fatalf("roles %s", got)
	}
}

// TestDeclineFilter checks that a declined (framework, agent, role) is
// filtered while the other role gets the agent, and that REVIVE clears it.
func TestDeclineFilter(t *testing.T) {
	m := startMaster(t, Config{})
	s := twoRoles(t, m)
	first := s.offers()[0]
	if role(t, first) != "team-a" {
		t.Fatalf("first offer role %s", role(t, first))
	}
	s.decline(3600, first)
	for range 4 {
		o := s.offers()[0]
		if role(t, o) != "team-b" {
			t.Fatalf("team-a is filtered, got an offer for %s", role(t, o))
		}
		s.decline(0, o)
	}
	// REVIVE clears the filter and allocates at once.
	o := s.offers()[0] // team-b holds the agent
	s.decline(3600, o)
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "REVIVE"}`, s.fwID)
	if o := s.offers()[0]; role(t, o) != "team-a" {
		t.Fatalf("after REVIVE got role %s", role(t, o))
	}
}

// TestDeclineDefaultFilter checks that DECLINE without filters uses the
// default refuse (5 s, configurable) and that the filter expires.
func TestDeclineDefaultFilter(t *testing.T) {
	m := startMaster(t, Config{DefaultRefuse: 200 * time.Millisecond})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, allCaps...)), nil)
	o := s.offers()[0]
	s.decline(-1, o)
	m.mu.Lock()
	filters := len(m.frameworks[s.fwID].filters)
	m.mu.Unlock()
	if filters != 1 {
		t.Fatalf("want one filter, got %d", filters)
	}
	if o2 := s.offers()[0]; o2.ID.Value == o.ID.Value {
		t.Fatalf("offer id reused")
	}
}

// TestDeclineUnknownOffer checks that declining an invalid offer is a silent 202.
func TestDeclineUnknownOffer(t *testing.T) {
	m := startMaster(t, Config{})
	s := twoRoles(t, m)
	s.decline(-1, mesos.Offer{ID: mesos.OfferID{Value: m.id + "-O999"}})
}

// TestSuppressRevive checks §6: SUPPRESS keeps the outstanding offer, stops
// new ones for the role; REVIVE of the role offers at once.
func TestSuppressRevive(t *testing.T) {
	m := startMaster(t, Config{})
	s := twoRoles(t, m)
	a := s.offers()[0]
	s.decline(0, a)
	b := s.offers()[0]
	if role(t, b) != "team-b" {
		t.Fatalf("want team-b offer, got %s", role(t, b))
	}
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "SUPPRESS", "suppress": {"roles": ["team-b"]}}`, s.fwID)
	for _, rec := range s.barrier() {
		if rec.ev.Type == scheduler.Event_RESCIND {
			t.Fatalf("SUPPRESS rescinded %s", rec.raw)
		}
	}
	if offers := m.Offers(s.fwID); len(offers) != 1 || offers[0].ID != b.ID.Value {
		t.Fatalf("outstanding offers %+v", offers)
	}
	s.decline(0, b)
	for range 3 {
		o := s.offers()[0]
		if role(t, o) != "team-a" {
			t.Fatalf("suppressed team-b got an offer")
		}
		s.decline(0.3, o)
	}
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "REVIVE", "revive": {"roles": ["team-b"]}}`, s.fwID)
	if o := s.nextNonHeartbeat(); o.ev.Type != scheduler.Event_OFFERS || role(t, o.ev.Offers.Offers[0]) != "team-b" {
		t.Fatalf("after REVIVE: %s", o.raw)
	}
}

// TestUpdateFrameworkRescindsDroppedRole checks §6: dropping a role
// rescinds its offer, 200 OK, and a running task keeps its role.
func TestUpdateFrameworkRescindsDroppedRole(t *testing.T) {
	m := startMaster(t, Config{})
	s := twoRoles(t, m)
	a := s.offers()[0]
	s.decline(3600, a) // keep team-a away
	b := s.offers()[0]
	s.runTask(b, "ta", 0.5, 64) // task on team-b; the rest is filtered 5 s for team-b
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "REVIVE", "revive": {"roles": ["team-b"]}}`, s.fwID)
	held := s.offers()[0]
	if role(t, held) != "team-b" {
		t.Fatalf("REVIVE team-b: offer for %s", role(t, held))
	}
	info := strings.TrimSuffix(fwInfo("fw", 60, []string{"team-a"}, allCaps...), "}") + `, "id": {"value": "` + s.fwID + `"}}`
	r := s.call(`{"framework_id": {"value": "` + s.fwID + `"}, "type": "UPDATE_FRAMEWORK", "update_framework": {"framework_info": ` + info + `}}`)
	if r.status != 200 || r.body != "" {
		t.Fatalf("UPDATE_FRAMEWORK: %d %q", r.status, r.body)
	}
	rescind := s.waitFor(scheduler.Event_RESCIND, nil)
	if rescind.ev.Rescind.OfferID.Value != held.ID.Value {
		t.Fatalf("rescinded %s, want %s", rescind.ev.Rescind.OfferID.Value, held.ID.Value)
	}
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "REVIVE"}`, s.fwID)
	fw, _ := m.Framework(s.fwID)
	if strings.Join(fw.Roles, ",") != "team-a" || len(fw.Tasks) != 1 || fw.Tasks[0].Role != "team-b" || fw.Tasks[0].State != "TASK_RUNNING" {
		t.Fatalf("framework after update: roles %v tasks %+v", fw.Roles, fw.Tasks)
	}
	for range 3 {
		o := s.offers()[0]
		if role(t, o) != "team-a" {
			t.Fatalf("offer for dropped role %s", role(t, o))
		}
		s.decline(0, o)
	}
}

// TestOfferTimeout checks §7: unanswered offers are rescinded and re-offered;
// ACCEPT of a rescinded offer gives TASK_DROPPED, DECLINE is silent.
func TestOfferTimeout(t *testing.T) {
	m := startMaster(t, Config{OfferTimeout: 150 * time.Millisecond})
	s := twoRoles(t, m)
	o := s.offers()[0]
	rescind := s.waitFor(scheduler.Event_RESCIND, nil)
	if string(rescind.raw) != `{"type":"RESCIND","rescind":{"offer_id":{"value":"`+o.ID.Value+`"}}}` {
		t.Fatalf("rescind %s", rescind.raw)
	}
	o2 := s.offers()[0]
	if o2.ID.Value == o.ID.Value || role(t, o2) != "team-b" {
		t.Fatalf("re-offer %s role %s", o2.ID.Value, role(t, o2))
	}
	s.launch(o.ID.Value, taskJSON("late", o.AgentID.Value, 0.5, 64, "team-a"))
	st := s.update("late")
	if st.GetState() != mesos.TASK_DROPPED || st.GetMessage() != "Task launched with invalid offers: Offer "+o.ID.Value+" is no longer valid" {
		t.Fatalf("late launch: %s %q", st.GetState(), st.GetMessage())
	}
	s.decline(-1, o)
}

// TestGPUWithholding checks §1: a framework without GPU_RESOURCES gets no
// offer from a GPU agent; zero gpus are never listed.
func TestGPUWithholding(t *testing.T) {
	noGPU := plainAgent("node-2")
	noGPU.Resources.GPUs = 0
	m := startMaster(t, Config{Agents: []Agent{node1(), noGPU}})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw-nogpu", 60, []string{"team-a"}, "MULTI_ROLE", "PARTITION_AWARE")), nil)
	for range 5 {
		offers := s.offers()
		for _, o := range offers {
			if o.Hostname != "node-2" {
				t.Fatalf("offer from GPU agent %s", o.Hostname)
			}
			for _, r := range o.Resources {
				if r.Name == "gpus" {
					t.Fatalf("zero gpus listed")
				}
			}
		}
		s.decline(0, offers...)
	}
	// With the filter disabled the GPU agent is offered as well.
	m2 := startMaster(t, Config{Agents: []Agent{node1()}, FilterGPUResources: Bool(false)})
	s2 := subscribe(t, m2, subscribeBody("", fwInfo("fw-nogpu", 60, []string{"team-a"}, "MULTI_ROLE")), nil)
	if o := s2.offers()[0]; scalar(o.Resources, "gpus") != 2 {
		t.Fatalf("gpus %v", scalar(o.Resources, "gpus"))
	}
}

// TestTwoFrameworksShareAgents checks that resources are never offered
// twice and that resources used by tasks are not offered.
func TestTwoFrameworksShareAgents(t *testing.T) {
	m := startMaster(t, Config{Agents: []Agent{plainAgent("node-1"), plainAgent("node-2")}})
	a := subscribe(t, m, subscribeBody("", fwInfo("fw-a", 60, []string{"r1"}, allCaps...)), nil)
	offers := a.offers()
	if len(offers) != 2 {
		t.Fatalf("want both agents in one OFFERS event, got %d", len(offers))
	}
	var node1Offer mesos.Offer
	for _, o := range offers {
		if o.Hostname == "node-1" {
			node1Offer = o
		} else {
			a.decline(3600, o)
		}
	}
	a.runTask(node1Offer, "a1", 1, 1024) // remainder filtered 5 s for fw-a
	b := subscribe(t, m, subscribeBody("", fwInfo("fw-b", 60, []string{"r2"}, allCaps...)), nil)
	seen := map[string]bool{}
	for len(seen) < 2 {
		for _, o := range b.offers() {
			seen[o.Hostname] = true
			if o.Hostname == "node-1" && (scalar(o.Resources, "cpus") != 3 || scalar(o.Resources, "mem") != 7168) {
				t.Fatalf("node-1 offer to fw-b includes used resources: %v", formatResources(o.Resources))
			}
			b.decline(0, o)
		}
	}
	// Both frameworks decline with refuse 0 for a while: never two offers
	// on one agent, never more than the free resources.
	a.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "REVIVE"}`, a.fwID)
	stop := make(chan struct{})
	for _, s := range []*sub{a, b} {
		go func(s *sub) {
			for {
				select {
				case rec, ok := <-s.records:
					if !ok {
						return
					}
					if rec.ev.Type == scheduler.Event_OFFERS {
						declineQuietly(s, rec.ev.Offers.Offers)
					}
				case <-stop:
					return
				}
			}
		}(s)
	}
	defer close(stop)
	for range 200 {
		checkNoDoubleOffers(t, m)
		time.Sleep(2 * time.Millisecond)
	}
}

// declineQuietly declines offers with refuse 0 without failing the test
// from a background goroutine.
func declineQuietly(s *sub, offers []mesos.Offer) {
	var ids []string
	for _, o := range offers {
		ids = append(ids, `{"value": "`+o.ID.Value+`"}`)
	}
	body := `{"framework_id": {"value": "` + s.fwID + `"}, "type": "DECLINE", "decline": {"offer_ids": [` + strings.Join(ids, ",") + `], "filters": {"refuse_seconds": 0}}}`
	req, _ := http.NewRequest(http.MethodPost, s.m.SchedulerURL(), strings.NewReader(body))
	for k, v := range jsonHeaders(s.streamID) {
		req.Header.Set(k, v)
	}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// checkNoDoubleOffers verifies the master's invariants from one snapshot.
func checkNoDoubleOffers(t *testing.T, m *Master) {
	t.Helper()
	st := m.State()
	perAgent := map[string]int{}
	for _, fw := range st.Frameworks {
		for _, o := range fw.Offers {
			perAgent[o.SlaveID]++
		}
	}
	for _, ag := range st.Slaves {
		if perAgent[ag.ID] > 1 {
			t.Fatalf("agent %s has %d offers", ag.Hostname, perAgent[ag.ID])
		}
		if ag.UsedResources.CPUs+ag.OfferedResources.CPUs > ag.Resources.CPUs ||
			ag.UsedResources.Mem+ag.OfferedResources.Mem > ag.Resources.Mem {
			t.Fatalf("agent %s over-allocated: used %+v offered %+v", ag.Hostname, ag.UsedResources, ag.OfferedResources)
		}
	}
}

// TestWeightedDRF checks that the role with the lower weighted dominant
// share is offered first.
func TestWeightedDRF(t *testing.T) {
	for _, tc := range []struct {
		weights map[string]float64
		want    string
	}{
		{nil, "team-b"}, // shares: team-a 2/4, team-b 1/4
		{map[string]float64{"team-a": 10}, "team-a"}, // team-a 0.05, team-b 0.25
	} {
		m := startMaster(t, Config{Agents: []Agent{plainAgent("node-1")}, AllocationInterval: time.Hour, RoleWeights: tc.weights})
		s := twoRoles(t, m)
		revive := `{"framework_id": {"value": "` + s.fwID + `"}, "type": "REVIVE"}`
		s.runTask(s.offers()[0], "big", 2, 64) // team-a: tie broken by name
		s.mustCall(http.StatusAccepted, "%s", revive)
		o := s.offers()[0]
		if role(t, o) != "team-b" {
			t.Fatalf("team-b has the lower share, offer went to %s", role(t, o))
		}
		s.runTask(o, "small", 1, 64)
		s.mustCall(http.StatusAccepted, "%s", revive)
		if got := role(t, s.offers()[0]); got != tc.want {
			t.Fatalf("weights %v: offer went to %s, want %s", tc.weights, got, tc.want)
		}
	}
}
