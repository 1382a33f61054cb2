package offers

import (
	"testing"
	"time"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
)

func TestOfferScore(t *testing.T) {
	now := time.Unix(1000, 0)
	timeout := 10 * time.Second
	cases := []struct {
		name     string
		kind     offer.Kind
		batching bool
		expires  time.Time
		want     int64
	}{
		{"reserved, batching, expiring now", offer.Reserved, true, now, 100},
		{"reserved, batching, fresh", offer.Reserved, true, now.Add(timeout), 89},
		{"reserved, fresh, never expires", offer.Reserved, false, time.Time{}, 67},
		{"reserved, half expired", offer.Reserved, false, now.Add(timeout / 2), 72},
		{"unreserved, batching, fresh", offer.Unreserved, true, now.Add(timeout), 56},
		{"unreserved, fresh", offer.Unreserved, false, now.Add(timeout), 33},
		{"revocable, batching, expired", offer.Revocable, true, now.Add(-time.Hour), 33},
		{"revocable, fresh", offer.Revocable, false, time.Time{}, 0},
		{"past expiry clamps", offer.Unreserved, false, now.Add(-time.Minute), 44},
		{"expiry beyond timeout clamps", offer.Unreserved, false, now.Add(time.Hour), 33},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := offerScore(tc.kind, tc.batching, tc.expires, now, timeout); got != tc.want {
				t.Errorf("offerScore = %d, want %d", got, tc.want)
			}
		})
	}
	// Kind dominates: the best unreserved offer scores below the worst
	// reserved one, and batching dominates expiry within a kind.
	if offerScore(offer.Unreserved, true, now, now, timeout) > offerScore(offer.Reserved, false, time.Time{}, now, timeout) {
		t.Error("an unreserved offer outranks a reserved one")
	}
	if offerScore(offer.Reserved, false, now, now, timeout) >= offerScore(offer.Reserved, true, time.Time{}, now, timeout) {
		t.Error("an expiring fresh offer outranks one being filled")
	}
}
