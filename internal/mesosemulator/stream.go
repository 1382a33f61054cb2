package mesosemulator

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// Media types of the scheduler API.
const (
	mediaJSON     = "application/json"
	mediaProtobuf = "application/x-protobuf"
)

// encodeEvent serializes an event for the given media type.
func encodeEvent(ev *scheduler.Event, media string) []byte {
	if media == mediaProtobuf {
		data, err := ev.Marshal()
		if err != nil {
			panic("emulator: cannot marshal event: " + err.Error())
		}
		return data
	}
	return marshalJSON(ev)
}

// recordIO frames one record: "<decimal length>\n<message>".
func recordIO(msg []byte) []byte {
	out := make([]byte, 0, len(msg)+12)
	out = strconv.AppendInt(out, int64(len(msg)), 10)
	out = append(out, '\n')
	return append(out, msg...)
}

// stream is one SUBSCRIBE response: an unbounded queue of encoded events
// written by the HTTP handler goroutine, so the master never blocks on a
// slow client while holding its lock.
type stream struct {
	id    string
	media string

	mu      sync.Mutex
	queue   [][]byte
	closing bool // finish writing the queue, then end the response cleanly
	abort   bool // drop the TCP connection without ending the chunked body
	wake    chan struct{}
}

// newStream returns a stream with the given id and media type.
func newStream(id, media string) *stream {
	return &stream{id: id, media: media, wake: make(chan struct{}, 1)}
}

// send queues one event; events sent after close are dropped.
func (s *stream) send(ev *scheduler.Event) {
	s.sendRaw(recordIO(encodeEvent(ev, s.media)))
}

// sendRaw queues one framed record.
func (s *stream) sendRaw(rec []byte) {
	s.mu.Lock()
	if !s.closing {
		s.queue = append(s.queue, rec)
	}
	s.mu.Unlock()
	s.signal()
}

// close ends the stream after the queued events (abort=false) or drops the
// connection abruptly (abort=true).
func (s *stream) close(abort bool) {
	s.mu.Lock()
	s.closing = true
	s.abort = s.abort || abort
	s.mu.Unlock()
	s.signal()
}

// signal wakes the writer without blocking.
func (s *stream) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take returns the queued records and the close state.
func (s *stream) take() ([][]byte, bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	return q, s.closing, s.abort
}

// streamEnd tells why a stream's writer returned.
type streamEnd int

const (
	endClosed       streamEnd = iota // the master closed the stream cleanly
	endAborted                       // the master dropped the connection
	endDisconnected                  // the client went away
)

// heartbeatSource decides, at every tick, whether to send a HEARTBEAT.
type heartbeatSource func() bool

// run writes queued records to w until the stream is closed, the client
// disconnects or stop is closed. It sends a HEARTBEAT every interval while
// beat returns true.
func (s *stream) run(ctx context.Context, w http.ResponseWriter, stop <-chan struct{}, interval time.Duration, beat heartbeatSource) streamEnd {
	flusher, _ := w.(http.Flusher)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	heartbeat := &scheduler.Event{Type: scheduler.Event_HEARTBEAT}
	for {
		select {
		case <-s.wake:
		case <-ticker.C:
			if beat() {
				s.send(heartbeat)
			}
			continue
		case <-ctx.Done():
			return endDisconnected
		case <-stop:
			return endAborted
		}
		records, closing, abort := s.take()
		if abort {
			return endAborted
		}
		for _, rec := range records {
			if _, err := w.Write(rec); err != nil {
				return endDisconnected
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		if closing {
			return endClosed
		}
	}
}

// negotiateAccept picks the response media type from an Accept header the
// way the master does (JSON preferred); ok is false when neither is allowed.
func negotiateAccept(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, true
	}
	allowed := map[string]bool{}
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		mt := strings.ToLower(strings.TrimSpace(fields[0]))
		q := 1.0
		for _, p := range fields[1:] {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.TrimSpace(k) == "q" {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		allowed[mt] = q > 0
	}
	accepts := func(mt string) bool {
		if v, ok := allowed[mt]; ok {
			return v
		}
		if v, ok := allowed["application/*"]; ok {
			return v
		}
		return allowed["*/*"]
	}
	switch {
	case accepts(mediaJSON):
		return mediaJSON, true
	case accepts(mediaProtobuf):
		return mediaProtobuf, true
	}
	return "", false
}
