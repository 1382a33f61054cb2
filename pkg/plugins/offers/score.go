package offers

import (
	"math"
	"time"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
)

// offerScore scores the offer a pod would use on a node, in [0, 100]:
//
//	score = 100 * (2*kind + urgency) / 5
//	kind    = 2 reserved for the role, 1 unreserved, 0 revocable
//	urgency = 1 - remaining/timeout, clamped to [0, 1] (0 if the offer never expires)
//
// so reserved offers (80–100) are consumed before unreserved ones (40–60)
// before revocable ones (0–20) — what Kubernetes issue #31068 asked of the
// historic kubernetes-mesos — and, within a kind, the offer closest to
// expiry first, before it is rescinded.
func offerScore(kind offer.Kind, expires, now time.Time, timeout time.Duration) int64 {
	k := 0.0
	switch kind {
	case offer.Reserved:
		k = 2
	case offer.Unreserved:
		k = 1
	}
	u := 0.0
	if !expires.IsZero() && timeout > 0 {
		u = 1 - float64(expires.Sub(now))/float64(timeout)
		u = math.Min(1, math.Max(0, u))
	}
	return int64(math.Round(100 * (2*k + u) / 5))
}
