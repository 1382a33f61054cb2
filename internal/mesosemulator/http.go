package mesosemulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// routes returns the master's HTTP handler.
func (m *Master) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/scheduler", m.handleScheduler)
	mux.HandleFunc("/master/api/v1/scheduler", m.handleScheduler)
	mux.HandleFunc("/master/state", m.handleState)
	mux.HandleFunc("/master/state.json", m.handleState)
	mux.HandleFunc("/master/frameworks", m.handleFrameworks)
	mux.HandleFunc("/master/slaves", m.handleSlaves)
	mux.HandleFunc("/master/redirect", m.handleRedirect)
	return mux
}

// textError writes a text/plain error response like the master's.
func textError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

// redirect writes a 307 with a scheme-relative Location and no body.
func redirect(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusTemporaryRedirect)
}

// leaderLocation returns "//<leader host:port><path>" when this master is not
// the leader. ok is false when it is the leader; location is empty when no
// leader is known.
func (m *Master) leaderLocation(path string) (location string, notLeader bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leader {
		return "", false
	}
	if m.leaderHostPort == "" {
		return "", true
	}
	return "//" + m.leaderHostPort + path, true
}

// redirectIfNotLeader answers 307 (or 503 without a known leader) on a
// non-leading master and reports whether it did.
func (m *Master) redirectIfNotLeader(w http.ResponseWriter, path string) bool {
	loc, notLeader := m.leaderLocation(path)
	if !notLeader {
		return false
	}
	if loc == "" {
		textError(w, http.StatusServiceUnavailable, "No leader elected")
		return true
	}
	redirect(w, loc)
	return true
}

// authenticate checks HTTP basic auth when credentials are configured. It
// returns the authenticated principal ("" without credentials).
func (m *Master) authenticate(r *http.Request) (string, bool) {
	if len(m.cfg.Credentials) == 0 {
		return "", true
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return "", false
	}
	secret, known := m.cfg.Credentials[user]
	return user, known && secret == pass
}

// unauthorized writes the master's 401 response.
func unauthorized(w http.ResponseWriter) {
	// Set the map directly to keep the master's header spelling.
	w.Header()["WWW-Authenticate"] = []string{`Basic realm="mesos-master-scheduler"`}
	textError(w, http.StatusUnauthorized, "401 Unauthorized.")
}

// handleScheduler serves POST /api/v1/scheduler.
func (m *Master) handleScheduler(w http.ResponseWriter, r *http.Request) {
	principal, ok := m.authenticate(r)
	if !ok {
		m.logf("call rejected: 401 Unauthorized")
		m.count(func(s *CallStats) { s.Unauthorized++ })
		unauthorized(w)
		return
	}
	if m.redirectIfNotLeader(w, "/master/api/v1/scheduler") {
		m.logf("call redirected: not the leader")
		m.count(func(s *CallStats) { s.Redirected++ })
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		textError(w, http.StatusMethodNotAllowed,
			fmt.Sprintf("405 Method Not Allowed. Expecting one of { 'POST' }, but received '%s'.", r.Method))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	call, status, msg := decodeCall(r.Header.Get("Content-Type"), body)
	if call != nil {
		m.count(func(s *CallStats) { s.Handled[call.Type.String()]++ })
	}
	if msg == "" {
		if v := validateCall(call, principal); v != "" {
			status, msg = http.StatusBadRequest, "Failed to validate scheduler::Call: "+v
		}
	}
	if msg == "" && call.Type == scheduler.Call_SUBSCRIBE {
		m.serveSubscribe(w, r, call)
		return
	}
	if msg == "" && len(r.Header.Values("Mesos-Stream-Id")) == 0 {
		status, msg = http.StatusBadRequest, "All non-subscribe calls should include the 'Mesos-Stream-Id' header"
	}
	if msg == "" {
		m.waitIfHeld(r.Context(), call.Type.String())
		status, msg = m.dispatch(call, principal, r.Header.Get("Mesos-Stream-Id"))
	}
	m.logCall(call, status, msg)
	if msg != "" {
		textError(w, status, msg)
		return
	}
	w.WriteHeader(status)
}

// logCall logs one scheduler call and its answer.
func (m *Master) logCall(call *scheduler.Call, status int, msg string) {
	if call == nil {
		m.logf("call <undecodable> -> %d %s", status, msg)
		return
	}
	m.logf("call %s framework=%s -> %d %s", call.Type, call.FrameworkID.GetValue(), status, msg)
}

// decodeCall parses the body according to Content-Type, returning the
// master's status and error text on failure.
func decodeCall(contentType string, body []byte) (*scheduler.Call, int, string) {
	call := &scheduler.Call{}
	switch contentType {
	case "":
		return nil, http.StatusBadRequest, "Expecting 'Content-Type' to be present"
	case mediaProtobuf:
		if err := call.Unmarshal(body); err != nil {
			return nil, http.StatusBadRequest, "Failed to parse body into Call protobuf"
		}
	case mediaJSON:
		if msg := parseJSONBody(body, call); msg != "" {
			return nil, http.StatusBadRequest, msg
		}
	default:
		return nil, http.StatusUnsupportedMediaType,
			"Expecting 'Content-Type' of " + mediaJSON + " or " + mediaProtobuf
	}
	return call, 0, ""
}

// serveSubscribe answers SUBSCRIBE with a RecordIO event stream.
func (m *Master) serveSubscribe(w http.ResponseWriter, r *http.Request, call *scheduler.Call) {
	media, ok := negotiateAccept(r.Header.Get("Accept"))
	if !ok {
		textError(w, http.StatusNotAcceptable,
			"Expecting 'Accept' to allow '"+mediaProtobuf+"' or '"+mediaJSON+"'")
		return
	}
	s := newStream(newStreamID(), media)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		panic(http.ErrAbortHandler)
	}
	if id, msg := m.subscribe(call, s); msg != "" {
		m.logf("call SUBSCRIBE framework=%s -> 200 + ERROR %s", id, msg)
		s.send(errorEvent(msg))
		s.close(false)
	} else {
		m.logf("call SUBSCRIBE framework=%s -> 200 stream %s", id, s.id)
	}
	m.mu.Unlock()
	w.Header().Set("Content-Type", media)
	w.Header().Set("Mesos-Stream-Id", s.id)
	w.WriteHeader(http.StatusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	end := s.run(r.Context(), w, m.done, m.cfg.HeartbeatInterval, func() bool { return !m.heartbeatsOff.Load() })
	m.streamEnded(s)
	if end == endAborted {
		panic(http.ErrAbortHandler) // drop the connection mid-stream
	}
}

// dispatch runs a non-SUBSCRIBE call against its framework.
func (m *Master) dispatch(call *scheduler.Call, principal, streamID string) (int, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fw := m.frameworks[call.FrameworkID.GetValue()]
	if fw == nil {
		return http.StatusBadRequest, "Framework cannot be found"
	}
	if p := fw.info.GetPrincipal(); principal != "" && p != "" && p != principal {
		return http.StatusBadRequest, fmt.Sprintf(
			"Authenticated principal '%s' does not match principal '%s' set in `FrameworkInfo`", principal, p)
	}
	if !fw.connected() {
		return http.StatusForbidden, "Framework is not subscribed"
	}
	if streamID != fw.stream.id {
		return http.StatusBadRequest, fmt.Sprintf("The stream ID '%s' included in this request didn't match "+
			"the stream ID currently associated with framework ID %s", streamID, fw.id)
	}
	return m.handleCall(fw, call)
}

// handleCall executes a validated call for a connected framework.
func (m *Master) handleCall(fw *framework, call *scheduler.Call) (int, string) {
	switch call.Type {
	case scheduler.Call_TEARDOWN:
		m.removeFramework(fw)
	case scheduler.Call_ACCEPT:
		m.accept(fw, call.Accept)
	case scheduler.Call_DECLINE:
		m.decline(fw, call.Decline)
	case scheduler.Call_ACCEPT_INVERSE_OFFERS:
		m.answerInverseOffers(fw, call.AcceptInverseOffers.InverseOfferIDs, true)
	case scheduler.Call_DECLINE_INVERSE_OFFERS:
		m.answerInverseOffers(fw, call.DeclineInverseOffers.InverseOfferIDs, false)
	case scheduler.Call_REVIVE:
		m.revive(fw, call.Revive.GetRoles())
	case scheduler.Call_SUPPRESS:
		m.suppress(fw, call.Suppress.GetRoles())
	case scheduler.Call_KILL:
		m.kill(fw, call.Kill)
	case scheduler.Call_ACKNOWLEDGE:
		m.acknowledge(fw, call.Acknowledge)
	case scheduler.Call_RECONCILE:
		m.reconcile(fw, call.Reconcile)
	case scheduler.Call_UPDATE_FRAMEWORK:
		if msg := m.updateFramework(fw, call.UpdateFramework); msg != "" {
			return http.StatusBadRequest, msg
		}
		return http.StatusOK, ""
	default:
		// SHUTDOWN, MESSAGE, REQUEST and the operation calls are accepted
		// and have no emulated effect.
	}
	return http.StatusAccepted, ""
}

// validateCall mirrors the master's scheduler::Call validation.
func validateCall(call *scheduler.Call, principal string) string {
	if call.Type == scheduler.Call_UNKNOWN {
		return "Expecting 'type' to be present"
	}
	if call.Type == scheduler.Call_SUBSCRIBE {
		return validateSubscribe(call, principal)
	}
	if call.FrameworkID == nil {
		return "Expecting 'framework_id' to be present"
	}
	required := map[scheduler.Call_Type]struct {
		present bool
		name    string
	}{
		scheduler.Call_ACCEPT:                 {call.Accept != nil, "accept"},
		scheduler.Call_DECLINE:                {call.Decline != nil, "decline"},
		scheduler.Call_ACCEPT_INVERSE_OFFERS:  {call.AcceptInverseOffers != nil, "accept_inverse_offers"},
		scheduler.Call_DECLINE_INVERSE_OFFERS: {call.DeclineInverseOffers != nil, "decline_inverse_offers"},
		scheduler.Call_KILL:                   {call.Kill != nil, "kill"},
		scheduler.Call_SHUTDOWN:               {call.Shutdown != nil, "shutdown"},
		scheduler.Call_ACKNOWLEDGE:            {call.Acknowledge != nil, "acknowledge"},
		scheduler.Call_RECONCILE:              {call.Reconcile != nil, "reconcile"},
		scheduler.Call_MESSAGE:                {call.Message != nil, "message"},
		scheduler.Call_REQUEST:                {call.Request != nil, "request"},
		scheduler.Call_UPDATE_FRAMEWORK:       {call.UpdateFramework != nil, "update_framework"},
	}
	if r, ok := required[call.Type]; ok && !r.present {
		return "Expecting '" + r.name + "' to be present"
	}
	if call.Type == scheduler.Call_UPDATE_FRAMEWORK &&
		call.UpdateFramework.FrameworkInfo.GetID().GetValue() != call.FrameworkID.Value {
		return "'framework_id' differs from 'update_framework.framework_info.id'"
	}
	return ""
}

// validateSubscribe validates SUBSCRIBE.
func validateSubscribe(call *scheduler.Call, principal string) string {
	if call.Subscribe == nil || call.Subscribe.FrameworkInfo == nil {
		return "Expecting 'subscribe' to be present"
	}
	info := call.Subscribe.FrameworkInfo
	if info.GetID().GetValue() != call.FrameworkID.GetValue() {
		return "'framework_id' differs from 'subscribe.framework_info.id'"
	}
	if principal != "" && info.Principal != nil && *info.Principal != principal {
		return fmt.Sprintf("Authenticated principal '%s' does not match principal '%s' set in `FrameworkInfo`",
			principal, *info.Principal)
	}
	return ""
}

// handleState serves GET /master/state.
func (m *Master) handleState(w http.ResponseWriter, r *http.Request) {
	if m.redirectIfNotLeader(w, r.URL.Path) {
		return
	}
	writeJSON(w, m.State())
}

// handleFrameworks serves GET /master/frameworks.
func (m *Master) handleFrameworks(w http.ResponseWriter, r *http.Request) {
	if m.redirectIfNotLeader(w, r.URL.Path) {
		return
	}
	st := m.State()
	writeJSON(w, map[string]any{
		"frameworks":              st.Frameworks,
		"completed_frameworks":    st.CompletedFrameworks,
		"unregistered_frameworks": st.UnregisteredFrameworks,
	})
}

// handleSlaves serves GET /master/slaves.
func (m *Master) handleSlaves(w http.ResponseWriter, r *http.Request) {
	if m.redirectIfNotLeader(w, r.URL.Path) {
		return
	}
	st := m.State()
	writeJSON(w, map[string]any{"slaves": st.Slaves, "recovered_slaves": []any{}})
}

// handleRedirect serves GET /master/redirect: 307 to the leader (itself
// when leading), "//<host>:<port>".
func (m *Master) handleRedirect(w http.ResponseWriter, _ *http.Request) {
	loc, notLeader := m.leaderLocation("")
	if !notLeader {
		loc = "//" + m.HostPort()
	}
	if loc == "" {
		textError(w, http.StatusServiceUnavailable, "No leader elected")
		return
	}
	redirect(w, loc)
}

// writeJSON writes v as an application/json response.
func writeJSON(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		textError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// CallStats counts the scheduler calls (POST /api/v1/scheduler) a master
// received.
type CallStats struct {
	// Handled counts the calls this master answered itself (as leader, with
	// any status but 307 and 401), by call type ("SUBSCRIBE", "ACCEPT", ...).
	Handled map[string]int
	// Redirected counts calls answered 307 (not the leader) or 503.
	Redirected int
	// Unauthorized counts calls answered 401.
	Unauthorized int
}

// CallStats returns the counts so far.
func (m *Master) CallStats() CallStats {
	m.statsMu.Lock()
	defer m.statsMu.Unlock()
	out := m.stats
	out.Handled = map[string]int{}
	for k, v := range m.stats.Handled {
		out.Handled[k] = v
	}
	return out
}

// count updates the call counts.
func (m *Master) count(f func(*CallStats)) {
	m.statsMu.Lock()
	defer m.statsMu.Unlock()
	if m.stats.Handled == nil {
		m.stats.Handled = map[string]int{}
	}
	f(&m.stats)
}
