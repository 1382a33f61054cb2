package mesosemulator

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// expectText checks a text/plain error reply.
func expectText(t *testing.T, what string, r reply, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body {
		t.Fatalf("%s: got %d %q, want %d %q", what, r.status, r.body, status, body)
	}
	if r.header.Get("Content-Type") != "text/plain; charset=utf-8" || r.header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Fatalf("%s: headers %v", what, r.header)
	}
}

// TestRequestErrors checks the error statuses and exact texts of §2.
func TestRequestErrors(t *testing.T) {
	m := startMaster(t, Config{})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw", 60, []string{"team-a", "team-b"}, allCaps...)), nil)
	url := m.SchedulerURL()
	revive := `{"framework_id": {"value": "` + s.fwID + `"}, "type": "REVIVE"}`

	expectText(t, "no stream id", post(t, "POST", url, revive, jsonHeaders("")), 400,
		"All non-subscribe calls should include the 'Mesos-Stream-Id' header")
	wrong := "00000000-1111-2222-3333-444444444444"
	expectText(t, "wrong stream id", post(t, "POST", url, revive, jsonHeaders(wrong)), 400,
		"The stream ID '"+wrong+"' included in this request didn't match the stream ID currently associated with framework ID "+s.fwID)
	expectText(t, "unknown framework", s.call(`{"framework_id": {"value": "no-such-framework"}, "type": "REVIVE"}`), 400,
		"Framework cannot be found")
	expectText(t, "no framework_id", s.call(`{"type": "REVIVE"}`), 400,
		"Failed to validate scheduler::Call: Expecting 'framework_id' to be present")
	r := post(t, "POST", url, revive, map[string]string{"Content-Type": "application/json", "Mesos-Stream-Id": s.streamID})
	if r.status != 202 || r.body != "" || r.header.Get("Content-Length") != "0" {
		t.Fatalf("without Accept: %d %q %v", r.status, r.body, r.header)
	}
	expectText(t, "text/plain", post(t, "POST", url, revive, map[string]string{"Content-Type": "text/plain", "Mesos-Stream-Id": s.streamID}), 415,
		"Expecting 'Content-Type' of application/json or application/x-protobuf")
	expectText(t, "malformed JSON", post(t, "POST", url, "{not json", jsonHeaders(s.streamID)), 400,
		"Failed to parse body into JSON: syntax error at line 1 near: not json")
	r = post(t, "GET", url, "", jsonHeaders(""))
	expectText(t, "GET", r, 405, "405 Method Not Allowed. Expecting one of { 'POST' }, but received 'GET'.")
	if r.header.Get("Allow") != "POST" {
		t.Fatalf("Allow: %q", r.header.Get("Allow"))
	}
}

// TestUpdateFrameworkErrors checks the UPDATE_FRAMEWORK error texts of §2/§6.
func TestUpdateFrameworkErrors(t *testing.T) {
	m := startMaster(t, Config{})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw-kms2", 60, []string{"team-a"}, allCaps...)), nil)
	info := func(principal, id string) string {
		i := strings.Replace(fwInfo("fw-kms2", 60, []string{"team-a"}, allCaps...), `"kms"`, `"`+principal+`"`, 1)
		if id != "" {
			i = strings.TrimSuffix(i, "}") + `, "id": {"value": "` + id + `"}}`
		}
		return i
	}
	upd := func(top, fi string) string {
		prefix := ""
		if top != "" {
			prefix = `"framework_id": {"value": "` + top + `"}, `
		}
		return `{` + prefix + `"type": "UPDATE_FRAMEWORK", "update_framework": {"framework_info": ` + fi + `}}`
	}
	expectText(t, "no framework_id", s.call(upd("", info("kms", s.fwID))), 400,
		"Failed to validate scheduler::Call: Expecting 'framework_id' to be present")
	expectText(t, "no info id", s.call(upd(s.fwID, info("kms", ""))), 400,
		"Failed to validate scheduler::Call: 'framework_id' differs from 'update_framework.framework_info.id'")
	expectText(t, "principal", s.call(upd(s.fwID, info("other", s.fwID))), 400,
		"FrameworkInfo update is not valid: Changing framework's principal is not allowed.")
	noUser := `{"principal": "kms", "roles": ["team-a"], "id": {"value": "` + s.fwID + `"}}`
	expectText(t, "missing user/name", s.call(upd(s.fwID, noUser)), 400,
		"Failed to convert JSON into Call protobuf: Missing required fields: update_framework.framework_info.user, update_framework.framework_info.name")
	r := s.call(upd(s.fwID, strings.Replace(info("kms", s.fwID), "fw-kms2", "renamed", 1)))
	if r.status != 200 || r.body != "" || r.header.Get("Content-Length") != "0" {
		t.Fatalf("UPDATE_FRAMEWORK: %d %q %v", r.status, r.body, r.header)
	}
	if fw, _ := m.Framework(s.fwID); fw.Name != "renamed" {
		t.Fatalf("name %q", fw.Name)
	}
}

// basic returns an Authorization header value.
func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestAuthentication checks §10.
func TestAuthentication(t *testing.T) {
	m := startMaster(t, Config{Credentials: map[string]string{"kms": "s3cret"}})
	body := subscribeBody("", fwInfo("fw-auth", 60, []string{"team-a"}, allCaps...))
	for name, auth := range map[string]string{"none": "", "wrong secret": basic("kms", "wrong"), "unknown principal": basic("nobody", "s3cret")} {
		h := jsonHeaders("")
		if auth != "" {
			h["Authorization"] = auth
		}
		r := post(t, "POST", m.SchedulerURL(), body, h)
		expectText(t, name, r, 401, "401 Unauthorized.")
		if got := r.header.Values("Www-Authenticate"); len(got) != 1 || got[0] != `Basic realm="mesos-master-scheduler"` {
			t.Fatalf("%s: WWW-Authenticate %v", name, got)
		}
	}
	h := jsonHeaders("")
	h["Authorization"] = basic("kms", "s3cret")
	other := strings.Replace(body, `"principal": "kms"`, `"principal": "other"`, 1)
	expectText(t, "principal mismatch", post(t, "POST", m.SchedulerURL(), other, h), 400,
		"Failed to validate scheduler::Call: Authenticated principal 'kms' does not match principal 'other' set in `FrameworkInfo`")
	noPrincipal := subscribe(t, m, strings.Replace(body, `"principal": "kms", `, "", 1), h)
	if noPrincipal.resp.StatusCode != 200 {
		t.Fatalf("no principal: %d", noPrincipal.resp.StatusCode)
	}
	s := subscribe(t, m, body, h)
	revive := `{"framework_id": {"value": "` + s.fwID + `"}, "type": "REVIVE"}`
	expectText(t, "REVIVE without auth", post(t, "POST", m.SchedulerURL(), revive, jsonHeaders(s.streamID)), 401, "401 Unauthorized.")
	h = jsonHeaders(s.streamID)
	h["Authorization"] = basic("kms", "s3cret")
	if r := post(t, "POST", m.SchedulerURL(), revive, h); r.status != 202 {
		t.Fatalf("REVIVE with auth: %d %q", r.status, r.body)
	}
}

// TestNonLeaderRedirects checks §9's 307 answers and leadership switching.
func TestNonLeaderRedirects(t *testing.T) {
	m := startMaster(t, Config{Leader: Bool(false), LeaderHostPort: "localhost:5060"})
	body := subscribeBody("", fwInfo("fw-ha", 120, []string{"team-a"}, allCaps...))
	expect307 := func(what string, r reply, loc string) {
		t.Helper()
		if r.status != 307 || r.header.Get("Location") != loc || r.body != "" || r.header.Get("Content-Length") != "0" {
			t.Fatalf("%s: %d %v %q", what, r.status, r.header, r.body)
		}
	}
	expect307("SUBSCRIBE", post(t, "POST", m.SchedulerURL(), body, jsonHeaders("")), "//localhost:5060/master/api/v1/scheduler")
	expect307("REVIVE", post(t, "POST", m.SchedulerURL(), `{"framework_id": {"value": "x"}, "type": "REVIVE"}`, jsonHeaders("abc")),
		"//localhost:5060/master/api/v1/scheduler")
	expect307("state", post(t, "GET", m.URL()+"/master/state", "", nil), "//localhost:5060/master/state")
	expect307("redirect", post(t, "GET", m.URL()+"/master/redirect", "", nil), "//localhost:5060")

	m.SetLeader(true, "")
	expect307("leader redirect", post(t, "GET", m.URL()+"/master/redirect", "", nil), "//localhost:"+strconv.Itoa(m.port))
	s := subscribe(t, m, body, nil)
	s.offers()

	// Losing leadership drops the stream mid-body, without an ERROR event.
	m.SetLeader(false, "localhost:5070")
	if _, err := s.waitEnd(); isCleanEOF(err) || err == nil {
		t.Fatalf("stream should end abruptly, got %v", err)
	}
	expect307("after demotion", post(t, "POST", m.SchedulerURL(), subscribeBody(s.fwID, fwInfo("fw-ha", 120, []string{"team-a"}, allCaps...)), jsonHeaders("")),
		"//localhost:5070/master/api/v1/scheduler")
	m.SetLeader(true, "")
	s2 := subscribe(t, m, subscribeBody(s.fwID, fwInfo("fw-ha", 120, []string{"team-a"}, allCaps...)), nil)
	if s2.fwID != s.fwID {
		t.Fatalf("re-subscribed as %s", s2.fwID)
	}
}

// TestNoLeader checks the 503 of a master that knows no leader.
func TestNoLeader(t *testing.T) {
	m := startMaster(t, Config{Leader: Bool(false)})
	expectText(t, "no leader", post(t, "POST", m.SchedulerURL(), "{}", jsonHeaders("")), 503, "No leader elected")
}

// TestJSONDecodeErrors checks JSON conversion errors.
func TestJSONDecodeErrors(t *testing.T) {
	cases := map[string]string{
		``:                                       "Failed to parse body into JSON: syntax error at line 1 near: ",
		"{\n\"type\": x}":                        "Failed to parse body into JSON: syntax error at line 2 near: x}",
		`[]`:                                     "Failed to convert JSON into Call protobuf: Expecting a JSON object",
		`{"type": 5.5}`:                          "Failed to convert JSON into Call protobuf: Failed to find enum for '5.5'",
		`{"type": "SUBSCRIBE", "subscribe": {}}`: "Failed to convert JSON into Call protobuf: Missing required fields: subscribe.framework_info",
		`{"type": "ACCEPT", "framework_id": {"value": "x"}, "accept": {"operations": [{"type": "LAUNCH", "launch": {"task_infos": [{"name": "t"}]}}]}}`: "Failed to convert JSON into Call protobuf: Missing required fields: " +
			"accept.operations[0].launch.task_infos[0].task_id, accept.operations[0].launch.task_infos[0].agent_id",
		`{"framework_id": "x"}`: "Failed to convert JSON into Call protobuf: Not expecting a JSON string for field 'framework_id'",
	}
	for body, want := range cases {
		var call scheduler.Call
		if got := parseJSONBody([]byte(body), &call); got != want {
			t.Errorf("%q:\n got %q\nwant %q", body, got, want)
		}
	}
}

// TestOtherCallsAccepted checks that calls without emulated effect are 202.
func TestOtherCallsAccepted(t *testing.T) {
	m := startMaster(t, Config{AllocationInterval: time.Hour})
	s := subscribe(t, m, subscribeBody("", fwInfo("fw", 60, []string{"team-a"}, allCaps...)), nil)
	for _, c := range []string{
		`"type": "MESSAGE", "message": {"agent_id": {"value": "a"}, "executor_id": {"value": "e"}, "data": "aGk="}`,
		`"type": "SHUTDOWN", "shutdown": {"executor_id": {"value": "e"}, "agent_id": {"value": "a"}}`,
		`"type": "REQUEST", "request": {"requests": []}`,
		`"type": "RECONCILE_OPERATIONS", "reconcile_operations": {}`,
	} {
		s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, %s}`, s.fwID, c)
	}
}
