package mesos

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
)

// TestAckerSendsEachOnceWithFewCalls: 500 acknowledgements queued in a
// burst are each sent exactly once, never more than the workers at a time
// (the point: not one connection per update), and a failed one is
// reported; after the subscription's context ends, nothing more is sent.
func TestAckerSendsEachOnceWithFewCalls(t *testing.T) {
	const n, workers = 500, 4
	ctx, cancel := context.WithCancel(context.Background())
	a := newAcker()
	var mu sync.Mutex
	sent := map[string]int{}
	var inFlight, most atomic.Int32
	var failed atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.run(ctx, workers, func(_ context.Context, c *scheduler.Call) error {
			now := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
			}
			time.Sleep(100 * time.Microsecond)
			id := c.GetAcknowledge().GetTaskID().Value
			mu.Lock()
			sent[id]++
			mu.Unlock()
			if id == "t-7" {
				return errors.New("refused")
			}
			return nil
		}, func(*scheduler.Call, error) { failed.Add(1) })
	}()
	for i := range n {
		a.add(calls.Acknowledge("agent", fmt.Sprintf("t-%d", i), []byte{byte(i)}))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		got := len(sent)
		mu.Unlock()
		if got == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	for i := range n {
		if c := sent[fmt.Sprintf("t-%d", i)]; c != 1 {
			t.Errorf("t-%d sent %d times, want once", i, c)
		}
	}
	if m := most.Load(); m > workers || m < 1 {
		t.Errorf("%d acknowledgements in flight at once, want 1..%d", m, workers)
	}
	if f := failed.Load(); f != 1 {
		t.Errorf("%d failures reported, want 1 (t-7)", f)
	}
	a.add(calls.Acknowledge("agent", "late", nil))
	time.Sleep(10 * time.Millisecond)
	if sent["late"] != 0 {
		t.Error("an acknowledgement was sent after the subscription ended")
	}
}
