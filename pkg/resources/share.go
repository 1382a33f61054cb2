package resources

import (
	v1 "k8s.io/api/core/v1"
)

// DominantShare is max over the counted resources r of alloc[r] / total[r]:
// the share of the cluster held in the resource a role uses most of
// (Ghodsi et al., "Dominant Resource Fairness", NSDI 2011). A resource the
// cluster has none of contributes nothing: there is nothing to share.
func DominantShare(alloc, total Vector, counted []v1.ResourceName) float64 {
	share := 0.0
	for _, r := range counted {
		a, t := alloc[r], total[r]
		if a <= 0 || t <= 0 {
			continue
		}
		if s := float64(a) / float64(t); s > share {
			share = s
		}
	}
	return share
}

// DominantShareWith is DominantShare(alloc + extra, …) without building the
// sum (sums saturate, as Vector.Add does).
func DominantShareWith(alloc, extra, total Vector, counted []v1.ResourceName) float64 {
	share := 0.0
	for _, r := range counted {
		a, t := addSat(alloc[r], extra[r]), total[r]
		if a <= 0 || t <= 0 {
			continue
		}
		if s := float64(a) / float64(t); s > share {
			share = s
		}
	}
	return share
}

// DominantResource returns the counted resource behind DominantShare and its
// share ("" and 0 when nothing is held).
func DominantResource(alloc, total Vector, counted []v1.ResourceName) (v1.ResourceName, float64) {
	var name v1.ResourceName
	share := 0.0
	for _, r := range counted {
		a, t := alloc[r], total[r]
		if a <= 0 || t <= 0 {
			continue
		}
		if s := float64(a) / float64(t); s > share {
			share, name = s, r
		}
	}
	return name, share
}

// WeightedShare is the dominant share divided by the weight: the quantity
// weighted DRF equalises. A non-positive weight counts as 1.
func WeightedShare(dominant, weight float64) float64 {
	if weight <= 0 {
		weight = 1
	}
	return dominant / weight
}

// Counted returns the resources that count for the dominant share: the
// configured set minus the excluded names.
func Counted(all, excluded []v1.ResourceName) []v1.ResourceName {
	out := make([]v1.ResourceName, 0, len(all))
	for _, r := range all {
		skip := false
		for _, x := range excluded {
			if x == r {
				skip = true
				break
			}
		}
		if !skip {
			out = append(out, r)
		}
	}
	return out
}
