package resources

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Range is an inclusive range of ports, as in a Mesos RANGES resource.
type Range struct {
	Begin, End uint64
}

// Ranges is a set of port ranges kept sorted, disjoint and coalesced.
type Ranges []Range

// maxPort is the largest TCP/UDP port.
const maxPort = 65535

// ParseRanges parses "31000-32000,8080" (also Mesos' "[31000-32000, 8080-8080]").
func ParseRanges(s string) (Ranges, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	var out Ranges
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		b, err := parsePort(lo)
		if err != nil {
			return nil, fmt.Errorf("port range %q: %w", part, err)
		}
		e := b
		if isRange {
			if e, err = parsePort(hi); err != nil {
				return nil, fmt.Errorf("port range %q: %w", part, err)
			}
		}
		if e < b {
			return nil, fmt.Errorf("port range %q: end is before begin", part)
		}
		out = append(out, Range{Begin: b, End: e})
	}
	return out.normalize(), nil
}

func parsePort(s string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil || n == 0 || n > maxPort {
		return 0, fmt.Errorf("%q is not a port (1-%d)", strings.TrimSpace(s), maxPort)
	}
	return n, nil
}

// normalize sorts and coalesces overlapping or adjacent ranges in place.
// normalized reports whether r is sorted, disjoint and not adjacent: what
// normalize makes.
func (r Ranges) normalized() bool {
	for i := 1; i < len(r); i++ {
		if r[i].Begin <= r[i-1].End+1 {
			return false
		}
	}
	for _, x := range r {
		if x.End < x.Begin {
			return false
		}
	}
	return true
}

func (r Ranges) normalize() Ranges {
	if len(r) < 2 {
		return r
	}
	sort.Slice(r, func(i, j int) bool { return r[i].Begin < r[j].Begin })
	out := r[:1]
	for _, x := range r[1:] {
		last := &out[len(out)-1]
		if x.Begin <= last.End+1 {
			if x.End > last.End {
				last.End = x.End
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

// Contains reports whether port p lies in one of the ranges.
func (r Ranges) Contains(p uint64) bool {
	i := sort.Search(len(r), func(i int) bool { return r[i].End >= p })
	return i < len(r) && r[i].Begin <= p
}

// ContainsAll reports whether every port lies in the ranges, and returns the
// first one that does not.
func (r Ranges) ContainsAll(ports []int32) (int32, bool) {
	for _, p := range ports {
		if p <= 0 || !r.Contains(uint64(p)) {
			return p, false
		}
	}
	return 0, true
}

// Union returns r ∪ o.
func (r Ranges) Union(o Ranges) Ranges {
	switch { // ranges are never modified in place: share when one is empty
	case len(o) == 0 && r.normalized():
		return r
	case len(r) == 0 && o.normalized():
		return o
	}
	out := make(Ranges, 0, len(r)+len(o))
	out = append(out, r...)
	out = append(out, o...)
	return out.normalize()
}

// Without returns r minus the single ports given (r itself when there are
// none: ranges are never modified in place).
func (r Ranges) Without(ports []int32) Ranges {
	if len(ports) == 0 {
		return r
	}
	out := append(Ranges(nil), r...)
	for _, p := range ports {
		if p <= 0 {
			continue
		}
		out = out.minus(Range{Begin: uint64(p), End: uint64(p)})
	}
	return out
}

// Minus returns r minus o (r itself when o is empty).
func (r Ranges) Minus(o Ranges) Ranges {
	if len(o) == 0 {
		return r
	}
	out := append(Ranges(nil), r...)
	for _, x := range o {
		out = out.minus(x)
	}
	return out
}

func (r Ranges) minus(x Range) Ranges {
	out := make(Ranges, 0, len(r)+1)
	for _, y := range r {
		if x.End < y.Begin || x.Begin > y.End {
			out = append(out, y)
			continue
		}
		if y.Begin < x.Begin {
			out = append(out, Range{Begin: y.Begin, End: x.Begin - 1})
		}
		if y.End > x.End {
			out = append(out, Range{Begin: x.End + 1, End: y.End})
		}
	}
	return out
}

// FromPorts returns the ranges holding exactly the given ports.
func FromPorts(ports []int32) Ranges {
	var out Ranges
	for _, p := range ports {
		if p > 0 {
			out = append(out, Range{Begin: uint64(p), End: uint64(p)})
		}
	}
	return out.normalize()
}

// Size returns how many ports the ranges hold.
func (r Ranges) Size() uint64 {
	var n uint64
	for _, x := range r {
		n += x.End - x.Begin + 1
	}
	return n
}

// String renders the ranges as Mesos does: "[31000-32000, 8080-8080]".
func (r Ranges) String() string {
	parts := make([]string, len(r))
	for i, x := range r {
		parts[i] = fmt.Sprintf("%d-%d", x.Begin, x.End)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
