package mesosemulator

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// Test helpers drive the emulator with plain net/http, like the Python
// client used to record internal/mesosemulator/testdata/mesos-1.12-recording.md.

const (
	recordedMasterID = "c940f68f-7cf5-45de-9109-33b4aef36b23"
	waitTimeout      = 10 * time.Second
)

// node1 is the recorded agent: gpus:2, attributes rack:r1, zone:a.
func node1() Agent {
	return Agent{
		Hostname:   "node-1",
		Resources:  Resources{CPUs: 4, Mem: 8192, Disk: 10000, GPUs: 2, Ports: []PortRange{{31000, 32000}}},
		Attributes: map[string]string{"rack": "r1", "zone": "a"},
	}
}

// plainAgent is an agent without GPUs.
func plainAgent(host string) Agent {
	return Agent{Hostname: host, Resources: Resources{CPUs: 4, Mem: 8192, Disk: 10000, Ports: []PortRange{{31000, 32000}}}}
}

// startMaster starts an emulator with fast timers unless cfg overrides them.
func startMaster(t *testing.T, cfg Config) *Master {
	t.Helper()
	if cfg.AllocationInterval == 0 {
		cfg.AllocationInterval = 50 * time.Millisecond
	}
	if len(cfg.Agents) == 0 {
		cfg.Agents = []Agent{node1()}
	}
	var logMu sync.Mutex
	done := false
	cfg.Logf = func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		if !done { // t.Logf panics once the test has completed
			t.Logf(format, args...)
		}
	}
	m, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		m.Close()
		logMu.Lock()
		done = true
		logMu.Unlock()
	})
	return m
}

// noRedirect is an HTTP client that returns 307s instead of following them.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       waitTimeout,
}

// reply is a complete non-streaming HTTP response.
type reply struct {
	status int
	header http.Header
	body   string
}

// post sends a request and reads the whole response.
func post(t *testing.T, method, url, body string, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(data)}
}

// jsonHeaders are the headers of the recorded client.
func jsonHeaders(streamID string) map[string]string {
	h := map[string]string{"Content-Type": "application/json", "Accept": "application/json"}
	if streamID != "" {
		h["Mesos-Stream-Id"] = streamID
	}
	return h
}

// record is one RecordIO record of a subscription stream.
type record struct {
	raw []byte
	ev  scheduler.Event
}

// sub is an open subscription stream.
type sub struct {
	t        *testing.T
	m        *Master
	resp     *http.Response
	streamID string
	fwID     string
	records  chan record
	end      chan error // the error that ended the stream (io.EOF when clean)
	cancel   context.CancelFunc
	protobuf bool
}

// fwInfo builds a FrameworkInfo JSON object.
func fwInfo(name string, failover float64, roles []string, caps ...string) string {
	var cs []string
	for _, c := range caps {
		cs = append(cs, fmt.Sprintf(`{"type": %q}`, c))
	}
	rs, _ := json.Marshal(roles)
	return fmt.Sprintf(`{"user": "root", "name": %q, "principal": "kms", "failover_timeout": %v, "roles": %s, "capabilities": [%s]}`,
		name, failover, rs, strings.Join(cs, ", "))
}

// allCaps are the capabilities of the recorded frameworks.
var allCaps = []string{"MULTI_ROLE", "GPU_RESOURCES", "PARTITION_AWARE"}

// subscribeBody builds a SUBSCRIBE call (re-subscribing when id != "").
func subscribeBody(id, info string) string {
	if id == "" {
		return fmt.Sprintf(`{"type": "SUBSCRIBE", "subscribe": {"framework_info": %s}}`, info)
	}
	info = strings.TrimSuffix(info, "}") + fmt.Sprintf(`, "id": {"value": %q}}`, id)
	return fmt.Sprintf(`{"framework_id": {"value": %q}, "type": "SUBSCRIBE", "subscribe": {"framework_info": %s}}`, id, info)
}

// subscribe opens a JSON stream and waits for SUBSCRIBED.
func subscribe(t *testing.T, m *Master, body string, header map[string]string) *sub {
	t.Helper()
	s := openStream(t, m, body, header)
	if s.resp.StatusCode != http.StatusOK {
		t.Fatalf("SUBSCRIBE: status %d", s.resp.StatusCode)
	}
	ev := s.next()
	if ev.ev.Type != scheduler.Event_SUBSCRIBED {
		t.Fatalf("first event %s, want SUBSCRIBED: %s", ev.ev.Type, ev.raw)
	}
	s.fwID = ev.ev.Subscribed.FrameworkID.Value
	return s
}

// openStream posts SUBSCRIBE and starts reading records.
func openStream(t *testing.T, m *Master, body string, header map[string]string) *sub {
	t.Helper()
	if header == nil {
		header = jsonHeaders("")
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.SchedulerURL(), strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		cancel()
		t.Fatalf("SUBSCRIBE: %v", err)
	}
	s := &sub{t: t, m: m, resp: resp, streamID: resp.Header.Get("Mesos-Stream-Id"),
		records: make(chan record, 1000), end: make(chan error, 1), cancel: cancel,
		protobuf: header["Accept"] == mediaProtobuf}
	t.Cleanup(s.close)
	go s.read()
	return s
}

// read decodes RecordIO records until the stream ends.
func (s *sub) read() {
	r := bufio.NewReader(s.resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			s.end <- err
			close(s.records)
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			s.end <- fmt.Errorf("bad record length %q", line)
			close(s.records)
			return
		}
		raw := make([]byte, n)
		if _, err := io.ReadFull(r, raw); err != nil {
			s.end <- err
			close(s.records)
			return
		}
		rec := record{raw: raw}
		if s.protobuf {
			err = rec.ev.Unmarshal(raw)
		} else {
			// mesos-go's own JSON decoder rejects the QUOTA_V2 master
			// capability a 1.12 master sends, so use the emulator's decoder.
			if msg := parseJSONBody(raw, &rec.ev); msg != "" {
				err = errors.New(msg)
			}
		}
		if err != nil {
			s.end <- fmt.Errorf("decode %q: %v", raw, err)
			close(s.records)
			return
		}
		s.records <- rec
	}
}

// close closes the client side of the stream.
func (s *sub) close() {
	s.cancel()
	s.resp.Body.Close()
}

// next returns the next record, failing on timeout or end of stream.
func (s *sub) next() record {
	s.t.Helper()
	select {
	case rec, ok := <-s.records:
		if !ok {
			s.t.Fatalf("stream ended: %v", <-s.end)
		}
		return rec
	case <-time.After(waitTimeout):
		s.t.Fatalf("timed out waiting for an event")
	}
	return record{}
}

// waitFor skips records until one of type typ satisfies pred.
func (s *sub) waitFor(typ scheduler.Event_Type, pred func(*scheduler.Event) bool) record {
	s.t.Helper()
	for {
		rec := s.next()
		if rec.ev.Type == typ && (pred == nil || pred(&rec.ev)) {
			return rec
		}
	}
}

// nextNonHeartbeat returns the next record that is not a HEARTBEAT.
func (s *sub) nextNonHeartbeat() record {
	s.t.Helper()
	for {
		if rec := s.next(); rec.ev.Type != scheduler.Event_HEARTBEAT {
			return rec
		}
	}
}

// offers waits for the next OFFERS event and returns its offers.
func (s *sub) offers() []mesos.Offer {
	s.t.Helper()
	return s.waitFor(scheduler.Event_OFFERS, nil).ev.Offers.Offers
}

// update waits for the next UPDATE of a task.
func (s *sub) update(taskID string) mesos.TaskStatus {
	s.t.Helper()
	return s.waitFor(scheduler.Event_UPDATE, func(ev *scheduler.Event) bool {
		return ev.Update.Status.TaskID.Value == taskID
	}).ev.Update.Status
}

// waitEnd waits for the end of the stream, skipping records, and returns
// the ending error (io.EOF for a clean end).
func (s *sub) waitEnd() ([]record, error) {
	s.t.Helper()
	var recs []record
	deadline := time.After(waitTimeout)
	for {
		select {
		case rec, ok := <-s.records:
			if !ok {
				return recs, <-s.end
			}
			recs = append(recs, rec)
		case <-deadline:
			s.t.Fatalf("stream did not end")
		}
	}
}

// call posts a call with the stream's id and returns the reply.
func (s *sub) call(body string) reply {
	s.t.Helper()
	return post(s.t, http.MethodPost, s.m.SchedulerURL(), body, jsonHeaders(s.streamID))
}

// mustCall posts a call and requires the given status.
func (s *sub) mustCall(status int, format string, args ...any) {
	s.t.Helper()
	if r := s.call(fmt.Sprintf(format, args...)); r.status != status {
		s.t.Fatalf("call %s: status %d %q, want %d", fmt.Sprintf(format, args...), r.status, r.body, status)
	}
}

// decline declines offers with the given refuse seconds (<0: no filters).
func (s *sub) decline(refuse float64, offers ...mesos.Offer) {
	s.t.Helper()
	var ids []string
	for _, o := range offers {
		ids = append(ids, fmt.Sprintf(`{"value": %q}`, o.ID.Value))
	}
	filters := ""
	if refuse >= 0 {
		filters = fmt.Sprintf(`, "filters": {"refuse_seconds": %v}`, refuse)
	}
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "DECLINE", "decline": {"offer_ids": [%s]%s}}`,
		s.fwID, strings.Join(ids, ", "), filters)
}

// ack acknowledges a status update.
func (s *sub) ack(st mesos.TaskStatus) {
	s.t.Helper()
	uuid, _ := json.Marshal(st.UUID)
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "ACKNOWLEDGE", "acknowledge": {"agent_id": {"value": %q}, "task_id": {"value": %q}, "uuid": %s}}`,
		s.fwID, st.AgentID.Value, st.TaskID.Value, uuid)
}

// barrier sends a KILL for an unknown task and waits for its TASK_UNKNOWN
// or TASK_LOST answer: every event queued before the call has been read
// once it returns. It returns the records seen before the answer.
func (s *sub) barrier() []record {
	s.t.Helper()
	id := fmt.Sprintf("barrier-%d", time.Now().UnixNano())
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "KILL", "kill": {"task_id": {"value": %q}}}`, s.fwID, id)
	var seen []record
	for {
		rec := s.next()
		if rec.ev.Type == scheduler.Event_UPDATE && rec.ev.Update.Status.TaskID.Value == id {
			return seen
		}
		seen = append(seen, rec)
	}
}

// taskJSON builds a TaskInfo with cpus/mem (role "" omits allocation_info).
func taskJSON(id, agentID string, cpus, mem float64, role string) string {
	alloc := ""
	if role != "" {
		alloc = fmt.Sprintf(`, "allocation_info": {"role": %q}`, role)
	}
	return fmt.Sprintf(`{"name": %q, "task_id": {"value": %q}, "agent_id": {"value": %q}, "resources": [`+
		`{"name": "cpus", "type": "SCALAR", "scalar": {"value": %v}, "role": "*"%s}, `+
		`{"name": "mem", "type": "SCALAR", "scalar": {"value": %v}, "role": "*"%s}], "command": {"value": "sleep 30", "shell": true}}`,
		id, id, agentID, cpus, alloc, mem, alloc)
}

// launch accepts an offer with one LAUNCH operation per task JSON.
func (s *sub) launch(offerID string, tasks ...string) {
	s.t.Helper()
	var ops []string
	for _, task := range tasks {
		ops = append(ops, fmt.Sprintf(`{"type": "LAUNCH", "launch": {"task_infos": [%s]}}`, task))
	}
	s.mustCall(http.StatusAccepted, `{"framework_id": {"value": %q}, "type": "ACCEPT", "accept": {"offer_ids": [{"value": %q}], "operations": [%s]}}`,
		s.fwID, offerID, strings.Join(ops, ", "))
}

// runTask launches one task on the offer and acks STARTING and RUNNING.
func (s *sub) runTask(o mesos.Offer, id string, cpus, mem float64) {
	s.t.Helper()
	s.launch(o.ID.Value, taskJSON(id, o.AgentID.Value, cpus, mem, o.AllocationInfo.GetRole()))
	for _, want := range []mesos.TaskState{mesos.TASK_STARTING, mesos.TASK_RUNNING} {
		st := s.update(id)
		if st.GetState() != want {
			s.t.Fatalf("task %s: got %s, want %s", id, st.GetState(), want)
		}
		s.ack(st)
	}
}

// eventually polls cond until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// isCleanEOF reports whether a stream ended with a complete chunked body.
func isCleanEOF(err error) bool { return errors.Is(err, io.EOF) }

// scalar returns the value of a named scalar resource (0 if absent).
func scalar(res []mesos.Resource, name string) float64 {
	for _, r := range res {
		if r.Name == name && r.Scalar != nil {
			return r.Scalar.Value
		}
	}
	return 0
}
