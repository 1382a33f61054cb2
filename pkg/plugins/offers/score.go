package offers

import (
	"math"
	"time"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
)

// offerScore scores the offer a pod would use on a node, in [0, 100]:
//
//	score = 34*kind + round(32 * (2*batching + urgency) / 3)
//	kind     = 2 reserved for the role, 1 unreserved, 0 revocable
//	batching = 1 when pods are already reserved on the offer, else 0
//	urgency  = 1 - remaining/timeout, clamped to [0, 1] (0 if the offer never expires)
//
// so each kind has its own band — reserved 68–100, unreserved 34–66,
// revocable 0–32 — and a reserved offer is always consumed before an
// unreserved one, before a revocable one (what Kubernetes issue #31068
// asked of the historic kubernetes-mesos): no tie between kinds. Within a
// kind, an offer already being filled comes first: it is accepted at the
// end of its batch window anyway, so another pod there rides in the same
// ACCEPT, while a pod on a fresh offer consumes all of it until the unused
// part comes back at the next allocation (Mesos accepts an offer once).
// Then the offer closest to expiry, before it is rescinded.
func offerScore(kind offer.Kind, batching bool, expires, now time.Time, timeout time.Duration) int64 {
	k := int64(0)
	switch kind {
	case offer.Reserved:
		k = 2
	case offer.Unreserved:
		k = 1
	}
	b := 0.0
	if batching {
		b = 1
	}
	u := 0.0
	if !expires.IsZero() && timeout > 0 {
		u = 1 - float64(expires.Sub(now))/float64(timeout)
		u = math.Min(1, math.Max(0, u))
	}
	return 34*k + int64(math.Round(32*(2*b+u)/3))
}
