package mesosemulator

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	scheduler "github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// TestRoleLog: a SUBSCRIBE naming team-b in suppressed_roles gets offers
// for team-a only, and Suppressed reports team-b; SUPPRESS of team-a and
// REVIVE of team-b are recorded with their roles, the offers per role too
// (OffersSince), and the REVIVE makes team-b offered.
func TestRoleLog(t *testing.T) {
	m := startMaster(t, Config{})
	start := time.Now()
	body := subscribeBody("", fwInfo("fw", 60, []string{"team-a", "team-b"}, allCaps...))
	body = strings.Replace(body, `"subscribe": {`, `"subscribe": {"suppressed_roles": ["team-b"], `, 1)
	s := subscribe(t, m, body, jsonHeaders(""))
	if got := m.Suppressed(s.fwID); !slices.Equal(got, []string{"team-b"}) {
		t.Fatalf("Suppressed after SUBSCRIBE = %v, want [team-b]", got)
	}
	o := s.offers()[0]
	if role(t, o) != "team-a" {
		t.Fatalf("offer for %s, want team-a (team-b is suppressed)", role(t, o))
	}
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "SUPPRESS", "suppress": {"roles": ["team-a"]}}`, s.fwID)
	s.decline(0, o)
	s.barrier()
	if got := m.Suppressed(s.fwID); !slices.Equal(got, []string{"team-a", "team-b"}) {
		t.Fatalf("Suppressed after SUPPRESS team-a = %v, want both", got)
	}
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "REVIVE", "revive": {"roles": ["team-b"]}}`, s.fwID)
	if rec := s.nextNonHeartbeat(); rec.ev.Type != scheduler.Event_OFFERS || role(t, rec.ev.Offers.Offers[0]) != "team-b" {
		t.Fatalf("after REVIVE of team-b: %s", rec.raw)
	}
	var kinds []RoleEventKind
	var roles []string
	for _, e := range m.RoleEvents(start) {
		if e.FrameworkID != s.fwID {
			t.Errorf("event for framework %q, want %q", e.FrameworkID, s.fwID)
		}
		kinds = append(kinds, e.Kind)
		roles = append(roles, strings.Join(e.Roles, ","))
	}
	wantKinds := []RoleEventKind{RoleSubscribedSuppressed, RoleOffered, RoleSuppressed, RoleRevived, RoleOffered}
	wantRoles := []string{"team-b", "team-a", "team-a", "team-b", "team-b"}
	if !slices.Equal(kinds, wantKinds) || !slices.Equal(roles, wantRoles) {
		t.Errorf("recorded %v for roles %v, want %v for %v", kinds, roles, wantKinds, wantRoles)
	}
	if got := m.OffersSince(start, s.fwID); got["team-a"] != 1 || got["team-b"] != 1 || len(got) != 2 {
		t.Errorf("OffersSince = %v, want one offer per role", got)
	}
}
