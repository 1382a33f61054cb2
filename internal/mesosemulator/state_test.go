package mesosemulator

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// keys returns the sorted keys of a JSON object.
func keys(t *testing.T, v any) string {
	t.Helper()
	obj, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("not an object: %v", v)
	}
	var ks []string
	for k := range obj {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// TestMasterStateShape checks GET /master/state against §8.
func TestMasterStateShape(t *testing.T) {
	m := startMaster(t, Config{AllocationInterval: time.Hour})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw-kms2", 60, []string{"team-a", "team-b"}, allCaps...)), nil)
	o := s.offers()[0]
	s.runTask(o, "ta", 0.5, 64)
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "REVIVE"}`, s.fwID)
	s.offers()

	r := post(t, http.MethodGet, m.URL()+"/master/state", "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("state: %d %v", r.status, r.header)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(r.body), &st); err != nil {
		t.Fatal(err)
	}
	want := "activated_slaves,build_date,build_time,build_user,capabilities,completed_frameworks,deactivated_slaves,elected_time,flags,frameworks," +
		"git_branch,git_sha,hostname,id,leader,leader_info,log_dir,orphan_tasks,pid,recovered_slaves,slaves,start_time,unreachable_slaves,unregistered_frameworks,version"
	if got := keys(t, st); got != want {
		t.Fatalf("top-level keys\n got %s\nwant %s", got, want)
	}
	fw := st["frameworks"].([]any)[0]
	// reregistered_time appears once the framework has re-subscribed.
	want = "active,capabilities,checkpoint,completed_tasks,connected,executors,failover_timeout,hostname,id,name,offer_constraints,offered_resources," +
		"offers,principal,recovered,registered_time,resources,roles,tasks,unreachable_tasks,unregistered_time,used_resources,user,webui_url"
	if got := keys(t, fw); got != want {
		t.Fatalf("framework keys\n got %s\nwant %s", got, want)
	}
	task := fw.(map[string]any)["tasks"].([]any)[0]
	if got := keys(t, task); got != "executor_id,framework_id,id,name,resources,role,slave_id,state,statuses" {
		t.Fatalf("task keys %s", got)
	}
	offer := fw.(map[string]any)["offers"].([]any)[0]
	if got := keys(t, offer); got != "allocation_info,framework_id,id,resources,slave_id" {
		t.Fatalf("offer keys %s", got)
	}
	slave := st["slaves"].([]any)[0]
	for _, k := range []string{"id", "hostname", "port", "pid", "attributes", "resources", "used_resources", "offered_resources",
		"reserved_resources", "unreserved_resources", "active", "deactivated", "registered_time", "version", "capabilities"} {
		if _, ok := slave.(map[string]any)[k]; !ok {
			t.Fatalf("slave without %s", k)
		}
	}
	// Exact fragments: flat resource maps, ports as a string, "slave_id".
	for _, frag := range []string{
		`"resources":{"disk":0.0,"mem":64.0,"gpus":0.0,"cpus":0.5},"role":"team-`,
		`"used_resources":{"disk":0.0,"mem":64.0,"gpus":0.0,"cpus":0.5}`,
		`"offered_resources":{"disk":10000.0,"mem":8128.0,"gpus":2.0,"cpus":3.5,"ports":"[31000-32000]"}`,
		`"slave_id":"` + m.id + `-S0"`,
		`"attributes":{"rack":"r1","zone":"a"}`,
		`"capabilities":["MULTI_ROLE","GPU_RESOURCES","PARTITION_AWARE"]`,
		`"failover_timeout":60.0`,
		`"executor_id":""`,
		`"container_status":{"container_id":{"value":"`,
	} {
		if !strings.Contains(r.body, frag) {
			t.Fatalf("state lacks %s:\n%s", frag, r.body)
		}
	}
	for _, path := range []string{"/master/frameworks", "/master/slaves"} {
		if r := post(t, http.MethodGet, m.URL()+path, "", nil); r.status != 200 {
			t.Fatalf("%s: %d", path, r.status)
		}
	}
}

// TestMaintenance checks inverse offers, their answers, unavailability on
// offers and the rescind on cancellation.
func TestMaintenance(t *testing.T) {
	m := startMaster(t, Config{Agents: []Agent{plainAgent("node-1"), plainAgent("node-2")}})
	a := subscribe(t, m, subscribeBody("", fwInfo("fw-a", 60, []string{"r1"}, allCaps...)), nil)
	b := subscribe(t, m, subscribeBody("", fwInfo("fw-b", 60, []string{"r2"}, allCaps...)), nil)
	offers := a.offers()
	var node1 mesos.Offer
	for _, o := range offers {
		if o.Hostname == "node-1" {
			node1 = o
		}
	}
	a.runTask(node1, "t1", 1, 64)
	start := time.Now().Add(time.Hour)
	if err := m.ScheduleMaintenance("node-1", start, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	ios := a.waitFor(scheduler.Event_INVERSE_OFFERS, nil).ev.InverseOffers.InverseOffers
	io := ios[0]
	if len(ios) != 1 || io.FrameworkID.Value != a.fwID || io.AgentID.Value != node1.AgentID.Value ||
		io.Unavailability.Start.Nanoseconds != start.UnixNano() || io.Unavailability.Duration.Nanoseconds != int64(2*time.Hour) {
		t.Fatalf("inverse offer %+v", ios)
	}
	a.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "ACCEPT_INVERSE_OFFERS", "accept_inverse_offers": {"inverse_offer_ids": [{"value": %q}]}}`,
		a.fwID, io.OfferID.Value)
	if got := m.InverseOfferResponses(); len(got) != 1 || !got[0].Accepted || got[0].Hostname != "node-1" || got[0].FrameworkID != a.fwID {
		t.Fatalf("responses %+v", got)
	}
	// fw-b holds or gets an offer on node-1: it gets an inverse offer too,
	// and node-1 offers carry the unavailability.
	var bio mesos.InverseOffer
	for bio.OfferID.Value == "" {
		rec := b.nextNonHeartbeat()
		switch rec.ev.Type {
		case scheduler.Event_INVERSE_OFFERS:
			bio = rec.ev.InverseOffers.InverseOffers[0]
		case scheduler.Event_OFFERS:
			for _, o := range rec.ev.Offers.Offers {
				if o.Hostname == "node-1" && (o.Unavailability == nil || o.Unavailability.Start.Nanoseconds != start.UnixNano()) {
					t.Fatalf("node-1 offer without unavailability")
				}
			}
		}
	}
	if err := m.CancelMaintenance("node-1"); err != nil {
		t.Fatal(err)
	}
	r := b.waitFor(scheduler.Event_RESCIND_INVERSE_OFFER, nil)
	if r.ev.RescindInverseOffer.InverseOfferID.Value != bio.OfferID.Value {
		t.Fatalf("rescinded %s", r.raw)
	}
}

// TestCodecHelpers checks float formatting and the parsers.
func TestCodecHelpers(t *testing.T) {
	for in, want := range map[float64]string{15: "15.0", 0.5: "0.5", 1795269905.221356: "1795269905.221356", 0: "0.0", 8064: "8064.0"} {
		if got := mesosFloat(in); got != want {
			t.Errorf("mesosFloat(%v) = %s, want %s", in, got, want)
		}
	}
	a, err := ParseAgent("node-1=cpus:4;mem:8192;disk:10000;gpus:0;ports:[31000-32000,33000-33005]")
	if err != nil || a.Hostname != "node-1" || a.Resources.CPUs != 4 || len(a.Resources.Ports) != 2 {
		t.Fatalf("ParseAgent: %+v %v", a, err)
	}
	if _, err := ParseAgent("node-1=bogus:1"); err == nil {
		t.Fatalf("unknown resource accepted")
	}
	host, attrs, err := ParseAttributes("node-1=rack:r1;zone:a")
	if err != nil || host != "node-1" || attrs["zone"] != "a" {
		t.Fatalf("ParseAttributes: %s %v %v", host, attrs, err)
	}
	r := Resources{CPUs: 4, Ports: []PortRange{{31000, 32000}}}
	left := r.Sub(Resources{CPUs: 0.5, Ports: []PortRange{{31005, 31005}}})
	if left.CPUs != 3.5 || formatRanges(left.Ports) != "[31000-31004, 31006-32000]" || !r.Contains(left) || left.Contains(r) {
		t.Fatalf("Sub: %+v", left)
	}
	if got := left.Add(Resources{Ports: []PortRange{{31005, 31005}}}); formatRanges(got.Ports) != "[31000-32000]" {
		t.Fatalf("Add: %v", got.Ports)
	}
}
