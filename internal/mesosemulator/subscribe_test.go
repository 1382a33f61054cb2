package mesosemulator

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// Recorded bytes (internal/mesosemulator/testdata/mesos-1.12-recording.md §1), port 5050.
const (
	recordedSubscribed = `{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"c940f68f-7cf5-45de-9109-33b4aef36b23-0000"},"heartbeat_interval_seconds":15.0,"master_info":{"id":"c940f68f-7cf5-45de-9109-33b4aef36b23","ip":16777343,"port":5050,"pid":"master@127.0.0.1:5050","hostname":"localhost","version":"1.12.0","address":{"hostname":"localhost","ip":"127.0.0.1","port":5050},"capabilities":[{"type":"AGENT_UPDATE"},{"type":"AGENT_DRAINING"},{"type":"QUOTA_V2"}]}}}`
	recordedOffers     = `{"type":"OFFERS","offers":{"offers":[{"id":{"value":"c940f68f-7cf5-45de-9109-33b4aef36b23-O0"},"framework_id":{"value":"c940f68f-7cf5-45de-9109-33b4aef36b23-0000"},"agent_id":{"value":"c940f68f-7cf5-45de-9109-33b4aef36b23-S0"},"hostname":"node-1","url":{"scheme":"http","address":{"hostname":"node-1","ip":"127.0.0.1","port":5051},"path":"/slave(1)"},"resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":31000,"end":32000}]},"role":"*","allocation_info":{"role":"team-a"}},{"name":"cpus","type":"SCALAR","scalar":{"value":4.0},"role":"*","allocation_info":{"role":"team-a"}},{"name":"mem","type":"SCALAR","scalar":{"value":8192.0},"role":"*","allocation_info":{"role":"team-a"}},{"name":"disk","type":"SCALAR","scalar":{"value":10000.0},"role":"*","allocation_info":{"role":"team-a"}},{"name":"gpus","type":"SCALAR","scalar":{"value":2.0},"role":"*","allocation_info":{"role":"team-a"}}],"attributes":[{"name":"rack","type":"TEXT","text":{"value":"r1"}},{"name":"zone","type":"TEXT","text":{"value":"a"}}],"allocation_info":{"role":"team-a"}}]}}`
	recordedHeartbeat  = `{"type":"HEARTBEAT"}`
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestSubscribeSequenceJSON checks headers, the SUBSCRIBED, HEARTBEAT,
// OFFERS sequence and that the records are byte-identical to §1.
func TestSubscribeSequenceJSON(t *testing.T) {
	m := startMaster(t, Config{MasterID: recordedMasterID, AllocationInterval: time.Second})
	s := openStream(t, m, subscribeBody("", fwInfo("fw-gpu", 60, []string{"team-a", "team-b"}, allCaps...)), nil)
	h := s.resp.Header
	if s.resp.StatusCode != 200 || h.Get("Content-Type") != "application/json" || !uuidRE.MatchString(h.Get("Mesos-Stream-Id")) {
		t.Fatalf("status %d headers %v", s.resp.StatusCode, h)
	}
	if len(s.resp.TransferEncoding) == 0 || s.resp.TransferEncoding[0] != "chunked" || s.resp.ContentLength != -1 {
		t.Fatalf("want chunked without Content-Length, got %v %d", s.resp.TransferEncoding, s.resp.ContentLength)
	}
	port := strconv.Itoa(m.port)
	want := []string{strings.ReplaceAll(recordedSubscribed, "5050", port), recordedHeartbeat, recordedOffers}
	for i, w := range want {
		if got := string(s.next().raw); got != w {
			t.Fatalf("record %d:\n got %s\nwant %s", i, got, w)
		}
	}
}

// TestSubscribeProtobuf checks that the stream follows the Accept media type.
func TestSubscribeProtobuf(t *testing.T) {
	m := startMaster(t, Config{})
	info := &mesos.FrameworkInfo{User: "root", Name: "fw-pb", Roles: []string{"team-a"},
		Capabilities: []mesos.FrameworkInfo_Capability{{Type: mesos.FrameworkInfo_Capability_MULTI_ROLE}, {Type: mesos.FrameworkInfo_Capability_GPU_RESOURCES}}}
	call := &scheduler.Call{Type: scheduler.Call_SUBSCRIBE, Subscribe: &scheduler.Call_Subscribe{FrameworkInfo: info}}
	body, err := call.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s := openStream(t, m, string(body), map[string]string{"Content-Type": mediaProtobuf, "Accept": mediaProtobuf})
	if ct := s.resp.Header.Get("Content-Type"); ct != mediaProtobuf {
		t.Fatalf("Content-Type %q", ct)
	}
	var types []scheduler.Event_Type
	for range 3 {
		types = append(types, s.next().ev.Type)
	}
	if types[0] != scheduler.Event_SUBSCRIBED || types[1] != scheduler.Event_HEARTBEAT || types[2] != scheduler.Event_OFFERS {
		t.Fatalf("sequence %v", types)
	}
	// A protobuf call on the same framework is accepted too.
	revive := &scheduler.Call{Type: scheduler.Call_REVIVE, FrameworkID: &mesos.FrameworkID{Value: m.id + "-0000"}}
	rb, _ := revive.Marshal()
	r := post(t, http.MethodPost, m.SchedulerURL(), string(rb), map[string]string{"Content-Type": mediaProtobuf, "Mesos-Stream-Id": s.streamID})
	if r.status != http.StatusAccepted || r.body != "" || r.header.Get("Content-Length") != "0" {
		t.Fatalf("REVIVE: %d %q %v", r.status, r.body, r.header)
	}
}

// TestHeartbeats checks the periodic HEARTBEAT and StopHeartbeats.
func TestHeartbeats(t *testing.T) {
	m := startMaster(t, Config{HeartbeatInterval: 50 * time.Millisecond})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, allCaps...)), nil)
	if rec := s.next(); string(rec.raw) != recordedHeartbeat {
		t.Fatalf("second record %s, want the immediate HEARTBEAT", rec.raw)
	}
	for range 3 {
		s.waitFor(scheduler.Event_HEARTBEAT, nil)
	}
	m.StopHeartbeats(true)
	s.barrier() // anything queued before the stop has been read
	// No HEARTBEAT may arrive during several intervals.
	deadline := time.After(300 * time.Millisecond)
	for done := false; !done; {
		select {
		case rec := <-s.records:
			if rec.ev.Type == scheduler.Event_HEARTBEAT {
				t.Fatalf("HEARTBEAT after StopHeartbeats")
			}
		case <-deadline:
			done = true
		}
	}
	m.StopHeartbeats(false)
	s.waitFor(scheduler.Event_HEARTBEAT, nil)
}

// TestFailover checks §8a: a second SUBSCRIBE with the same id.
func TestFailover(t *testing.T) {
	m := startMaster(t, Config{})
	info := fwInfo("fw-kms2", 60, []string{"team-a"}, allCaps...)
	s1 := subscribe(t, m, subscribeBody("", info), nil)
	s2 := subscribe(t, m, subscribeBody(s1.fwID, info), nil)
	if s2.fwID != s1.fwID || s2.streamID == s1.streamID {
		t.Fatalf("failover: fw %s/%s stream %s/%s", s1.fwID, s2.fwID, s1.streamID, s2.streamID)
	}
	recs, err := s1.waitEnd()
	last := recs[len(recs)-1]
	if string(last.raw) != `{"type":"ERROR","error":{"message":"Framework failed over"}}` || len(last.raw) != 60 || !isCleanEOF(err) {
		t.Fatalf("old stream ended with %s (%v)", last.raw, err)
	}
	r := s1.call(`{"framework_id": {"value": "` + s1.fwID + `"}, "type": "REVIVE"}`)
	want := "The stream ID '" + s1.streamID + "' included in this request didn't match the stream ID currently associated with framework ID " + s1.fwID
	if r.status != 400 || r.body != want {
		t.Fatalf("old stream id: %d %q", r.status, r.body)
	}
	s2.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "REVIVE"}`, s2.fwID)
}

// TestResubscribeMismatchedIDs checks that framework_id and framework_info.id must match.
func TestResubscribeMismatchedIDs(t *testing.T) {
	m := startMaster(t, Config{})
	info := fwInfo("fw", 60, []string{"team-a"}, allCaps...)
	s := subscribe(t, m, subscribeBody("", info), nil)
	body := strings.Replace(subscribeBody(s.fwID, info), `"framework_id": {"value": "`+s.fwID+`"}, `, "", 1)
	r := post(t, http.MethodPost, m.SchedulerURL(), body, jsonHeaders(""))
	if r.status != 400 || r.body != "Failed to validate scheduler::Call: 'framework_id' differs from 'subscribe.framework_info.id'" {
		t.Fatalf("got %d %q", r.status, r.body)
	}
}

// TestDisconnectAndResubscribe checks §8b: a client disconnect leaves the
// framework inactive without offers but with its tasks; a re-SUBSCRIBE
// within failover_timeout gets the same id and the unacknowledged updates.
func TestDisconnectAndResubscribe(t *testing.T) {
	m := startMaster(t, Config{})
	info := fwInfo("fw", 60, []string{"team-a"}, allCaps...)
	s := subscribe(t, m, subscribeBody("", info), nil)
	o := s.offers()[0]
	s.launch(o.ID.Value, taskJSON("ta", o.AgentID.Value, 0.5, 64, "team-a"))
	starting := s.update("ta") // not acknowledged
	s.close()
	eventually(t, "framework disconnected", func() bool {
		fw, _ := m.Framework(s.fwID)
		return !fw.Active && !fw.Connected && len(fw.Offers) == 0
	})
	if tasks := m.Tasks(s.fwID); len(tasks) != 1 || tasks[0].State != "TASK_STARTING" {
		t.Fatalf("tasks after disconnect: %+v", tasks)
	}
	s2 := subscribe(t, m, subscribeBody(s.fwID, info), nil)
	if s2.fwID != s.fwID {
		t.Fatalf("resubscribed as %s", s2.fwID)
	}
	if rec := s2.next(); rec.ev.Type != scheduler.Event_HEARTBEAT {
		t.Fatalf("want immediate HEARTBEAT, got %s", rec.raw)
	}
	again := s2.update("ta")
	if again.GetState() != mesos.TASK_STARTING || string(again.UUID) != string(starting.UUID) {
		t.Fatalf("re-sent update %s uuid %x, want STARTING %x", again.GetState(), again.UUID, starting.UUID)
	}
}

// TestFailoverTimeoutRemovesFramework checks §8: after failover_timeout the
// framework is removed and SUBSCRIBE answers 200 + ERROR + EOF.
func TestFailoverTimeoutRemovesFramework(t *testing.T) {
	m := startMaster(t, Config{})
	info := fwInfo("fw-short", 0.1, []string{"team-a"}, allCaps...)
	s := subscribe(t, m, subscribeBody("", info), nil)
	o := s.offers()[0]
	s.runTask(o, "t1", 1, 64)
	s.close()
	eventually(t, "framework removed", func() bool { return len(m.CompletedFrameworks()) == 1 })
	done := m.CompletedFrameworks()[0]
	if done.Active || len(done.CompletedTasks) != 1 || done.CompletedTasks[0].State != "TASK_KILLED" {
		t.Fatalf("completed framework: %+v", done)
	}
	expectRemoved(t, m, s.fwID, info)
}

// expectRemoved re-subscribes a removed framework.
func expectRemoved(t *testing.T, m *Master, id, info string) {
	t.Helper()
	s := openStream(t, m, subscribeBody(id, info), nil)
	if s.resp.StatusCode != 200 || !uuidRE.MatchString(s.streamID) {
		t.Fatalf("status %d stream id %q", s.resp.StatusCode, s.streamID)
	}
	recs, err := s.waitEnd()
	if len(recs) != 1 || string(recs[0].raw) != `{"type":"ERROR","error":{"message":"Framework has been removed"}}` || len(recs[0].raw) != 65 || !isCleanEOF(err) {
		t.Fatalf("records %v end %v", recs, err)
	}
}

// TestTeardown checks §11.
func TestTeardown(t *testing.T) {
	m := startMaster(t, Config{})
	info := fwInfo("fw", 60, []string{"team-a"}, allCaps...)
	s := subscribe(t, m, subscribeBody("", info), nil)
	s.runTask(s.offers()[0], "ta", 0.5, 64)
	s.barrier()
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "TEARDOWN"}`, s.fwID)
	recs, err := s.waitEnd()
	for _, r := range recs {
		if r.ev.Type != scheduler.Event_HEARTBEAT && r.ev.Type != scheduler.Event_OFFERS {
			t.Fatalf("unexpected event before teardown EOF: %s", r.raw)
		}
	}
	if !isCleanEOF(err) {
		t.Fatalf("stream end %v", err)
	}
	r := s.call(`{"framework_id": {"value": "` + s.fwID + `"}, "type": "REVIVE"}`)
	if r.status != 400 || r.body != "Framework cannot be found" {
		t.Fatalf("after teardown: %d %q", r.status, r.body)
	}
	done := m.CompletedFrameworks()
	if len(done) != 1 || done[0].ID != s.fwID || done[0].CompletedTasks[0].State != "TASK_KILLED" {
		t.Fatalf("completed: %+v", done)
	}
	expectRemoved(t, m, s.fwID, info)
}
