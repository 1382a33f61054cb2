package mesos

import (
	"context"
	"sync"

	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

const (
	// maxMasterConns bounds the connections to the master (the
	// subscription's stream included) and is also how many are kept open
	// between calls: a burst of calls reuses them instead of opening (and
	// leaving in TIME_WAIT) one connection per call. With one connection and
	// one goroutine per call, 5,000 tasks starting on 1,000 agents of the
	// emulator had up to 1,600 calls in flight at once and 9,000 closed
	// connections in TIME_WAIT; now at most 16 are open and about 70 wait.
	maxMasterConns = 16
	// ackWorkers is how many of them acknowledge status updates.
	ackWorkers = 4
)

// acker acknowledges the status updates of one subscription from a few
// goroutines, oldest first: an update is acknowledged
// once, after it was handled, and a burst of them (several per task when
// many tasks start at once) waits in this queue rather than in calls of
// its own, so it never holds up the calls pods wait for (ACCEPT, DECLINE),
// which have the other connections. Updates not acknowledged when the
// subscription ends are sent again by the master to the next one.
type acker struct {
	mu    sync.Mutex
	queue []*scheduler.Call
	wake  chan struct{}
}

func newAcker() *acker { return &acker{wake: make(chan struct{}, 1)} }

// add queues an ACKNOWLEDGE call.
func (a *acker) add(c *scheduler.Call) {
	a.mu.Lock()
	a.queue = append(a.queue, c)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// next takes the oldest queued call, if any.
func (a *acker) next() (*scheduler.Call, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.queue) == 0 {
		return nil, false
	}
	c := a.queue[0]
	a.queue[0] = nil
	a.queue = a.queue[1:]
	if len(a.queue) == 0 {
		a.queue = nil // let the grown array go
	}
	return c, true
}

// run sends the queued calls with workers goroutines until ctx (the
// subscription's) ends.
func (a *acker) run(ctx context.Context, workers int, send func(context.Context, *scheduler.Call) error, failed func(*scheduler.Call, error)) {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-a.wake:
				}
				// Pass the wake-up on: the other workers share the queue.
				select {
				case a.wake <- struct{}{}:
				default:
				}
				for ctx.Err() == nil {
					c, ok := a.next()
					if !ok {
						break
					}
					if err := send(ctx, c); err != nil {
						failed(c, err)
					}
				}
			}
		})
	}
	wg.Wait()
}
