package offers

import (
	"testing"
	"time"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
)

// TestOfferScore: expected scores from the formula by hand, e.g. reserved,
// half expired: 34·2 + round(32·(0 + 0.5)/3) = 68 + round(5.33) = 73;
// unreserved, batching, fresh: 34 + round(32·2/3) = 34 + 21 = 55.
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
		{"reserved, fresh, never expires", offer.Reserved, false, time.Time{}, 68},
		{"reserved, half expired", offer.Reserved, false, now.Add(timeout / 2), 73},
		{"unreserved, batching, fresh", offer.Unreserved, true, now.Add(timeout), 55},
		{"unreserved, fresh", offer.Unreserved, false, now.Add(timeout), 34},
		{"revocable, batching, expired", offer.Revocable, true, now.Add(-time.Hour), 32},
		{"revocable, fresh", offer.Revocable, false, time.Time{}, 0},
		{"past expiry clamps", offer.Unreserved, false, now.Add(-time.Minute), 45},
		{"expiry beyond timeout clamps", offer.Unreserved, false, now.Add(time.Hour), 34},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := offerScore(tc.kind, tc.batching, tc.expires, now, timeout); got != tc.want {
				t.Errorf("offerScore = %d, want %d", got, tc.want)
			}
		})
	}
	// Kind dominates strictly: the best offer of a kind scores below the
	// worst of the kind above (no tie), and batching dominates expiry
	// within a kind.
	best := func(k offer.Kind) int64 { return offerScore(k, true, now, now, timeout) }
	worst := func(k offer.Kind) int64 { return offerScore(k, false, time.Time{}, now, timeout) }
	if best(offer.Unreserved) >= worst(offer.Reserved) {
		t.Errorf("the best unreserved offer scores %d, the worst reserved %d: want strictly below", best(offer.Unreserved), worst(offer.Reserved))
	}
	if best(offer.Revocable) >= worst(offer.Unreserved) {
		t.Errorf("the best revocable offer scores %d, the worst unreserved %d: want strictly below", best(offer.Revocable), worst(offer.Unreserved))
	}
	if offerScore(offer.Reserved, false, now, now, timeout) >= offerScore(offer.Reserved, true, time.Time{}, now, timeout) {
		t.Error("an expiring fresh offer outranks one being filled")
	}
}
