package mesosemulator

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// round3 rounds to Mesos' fixed-point precision (three decimal places).
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// Add returns r + o.
func (r Resources) Add(o Resources) Resources {
	return Resources{
		CPUs:  round3(r.CPUs + o.CPUs),
		Mem:   round3(r.Mem + o.Mem),
		Disk:  round3(r.Disk + o.Disk),
		GPUs:  round3(r.GPUs + o.GPUs),
		Ports: normalizeRanges(append(append([]PortRange(nil), r.Ports...), o.Ports...)),
	}
}

// Sub returns r - o (scalars never go below zero).
func (r Resources) Sub(o Resources) Resources {
	sub := func(a, b float64) float64 { return math.Max(0, round3(a-b)) }
	return Resources{
		CPUs:  sub(r.CPUs, o.CPUs),
		Mem:   sub(r.Mem, o.Mem),
		Disk:  sub(r.Disk, o.Disk),
		GPUs:  sub(r.GPUs, o.GPUs),
		Ports: subtractRanges(r.Ports, o.Ports),
	}
}

// Contains reports whether o fits into r.
func (r Resources) Contains(o Resources) bool {
	return round3(r.CPUs-o.CPUs) >= 0 && round3(r.Mem-o.Mem) >= 0 &&
		round3(r.Disk-o.Disk) >= 0 && round3(r.GPUs-o.GPUs) >= 0 &&
		rangesContain(r.Ports, o.Ports)
}

// IsEmpty reports whether r holds nothing.
func (r Resources) IsEmpty() bool {
	return r.CPUs <= 0 && r.Mem <= 0 && r.Disk <= 0 && r.GPUs <= 0 && len(r.Ports) == 0
}

// allocatable mirrors the master's default --min_allocatable_resources
// ("cpus:0.01|mem:32").
func (r Resources) allocatable() bool { return r.CPUs >= 0.01 || r.Mem >= 32 }

// normalizeRanges sorts and merges overlapping or adjacent ranges.
func normalizeRanges(in []PortRange) []PortRange {
	if len(in) == 0 {
		return nil
	}
	rs := append([]PortRange(nil), in...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Begin < rs[j].Begin })
	out := []PortRange{rs[0]}
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.Begin <= last.End+1 {
			if r.End > last.End {
				last.End = r.End
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// subtractRanges returns a minus b.
func subtractRanges(a, b []PortRange) []PortRange {
	out := normalizeRanges(a)
	for _, cut := range normalizeRanges(b) {
		var next []PortRange
		for _, r := range out {
			if cut.End < r.Begin || cut.Begin > r.End {
				next = append(next, r)
				continue
			}
			if cut.Begin > r.Begin {
				next = append(next, PortRange{r.Begin, cut.Begin - 1})
			}
			if cut.End < r.End {
				next = append(next, PortRange{cut.End + 1, r.End})
			}
		}
		out = next
	}
	return out
}

// rangesContain reports whether every port of b is in a.
func rangesContain(a, b []PortRange) bool {
	return len(subtractRanges(b, a)) == 0
}

// formatRanges renders ranges the Mesos way: "[31000-31004, 31006-32000]".
func formatRanges(rs []PortRange) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%d-%d", r.Begin, r.End)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// formatScalar renders a scalar the Mesos way ("3", "0.5", "8064").
func formatScalar(v float64) string {
	return strconv.FormatFloat(round3(v), 'f', -1, 64)
}

// toMesos converts r into Resource messages in the order a real master lists
// them in offers (ports, cpus, mem, disk, gpus), omitting zero values. Every
// resource carries role "*" and, when role is non-empty, allocation_info.
func (r Resources) toMesos(role string) []mesos.Resource {
	var out []mesos.Resource
	if len(r.Ports) > 0 {
		ranges := make([]mesos.Value_Range, len(r.Ports))
		for i, p := range r.Ports {
			ranges[i] = mesos.Value_Range{Begin: p.Begin, End: p.End}
		}
		res := newResource("ports", mesos.RANGES, role)
		res.Ranges = &mesos.Value_Ranges{Range: ranges}
		out = append(out, res)
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"cpus", r.CPUs}, {"mem", r.Mem}, {"disk", r.Disk}, {"gpus", r.GPUs}} {
		if round3(s.v) <= 0 {
			continue
		}
		res := newResource(s.name, mesos.SCALAR, role)
		res.Scalar = &mesos.Value_Scalar{Value: round3(s.v)}
		out = append(out, res)
	}
	return out
}

// newResource returns an unreserved resource header with optional allocation role.
func newResource(name string, typ mesos.Value_Type, role string) mesos.Resource {
	res := mesos.Resource{Name: name, Type: typ.Enum(), Role: strPtr("*")}
	if role != "" {
		res.AllocationInfo = &mesos.Resource_AllocationInfo{Role: strPtr(role)}
	}
	return res
}

// fromMesos sums Resource messages; it fails for kinds the emulator does not
// model (anything but cpus/mem/disk/gpus scalars and ports ranges) and for
// reserved resources.
func fromMesos(list []mesos.Resource) (Resources, error) {
	var r Resources
	for _, res := range list {
		if res.Reservation != nil || len(res.Reservations) > 0 || (res.Role != nil && *res.Role != "*") {
			return r, fmt.Errorf("reserved resources are not supported: %s", formatResource(res))
		}
		switch {
		case res.Name == "ports" && res.Ranges != nil:
			var prs []PortRange
			for _, rg := range res.Ranges.Range {
				prs = append(prs, PortRange{rg.Begin, rg.End})
			}
			r.Ports = normalizeRanges(append(r.Ports, prs...))
		case res.Scalar != nil && res.Name != "ports":
			if err := r.set(res.Name, strconv.FormatFloat(res.Scalar.Value, 'f', -1, 64)); err != nil {
				return r, err
			}
		default:
			return r, fmt.Errorf("unsupported resource %q", res.Name)
		}
	}
	return r, nil
}

// formatResource renders one resource like the master's log and error texts:
// "cpus(allocated: team-b):100".
func formatResource(res mesos.Resource) string {
	var value string
	switch {
	case res.Scalar != nil:
		value = formatScalar(res.Scalar.Value)
	case res.Ranges != nil:
		var prs []PortRange
		for _, rg := range res.Ranges.Range {
			prs = append(prs, PortRange{rg.Begin, rg.End})
		}
		value = formatRanges(prs)
	case res.Set != nil:
		value = "{" + strings.Join(res.Set.Item, ", ") + "}"
	}
	var attrs []string
	if res.Role != nil && *res.Role != "*" {
		attrs = append(attrs, *res.Role)
	}
	if res.AllocationInfo != nil && res.AllocationInfo.Role != nil {
		attrs = append(attrs, "allocated: "+*res.AllocationInfo.Role)
	}
	if len(attrs) == 0 {
		return res.Name + ":" + value
	}
	return res.Name + "(" + strings.Join(attrs, ", ") + "):" + value
}

// formatResources joins formatted resources with "; ".
func formatResources(list []mesos.Resource) string {
	parts := make([]string, len(list))
	for i, res := range list {
		parts[i] = formatResource(res)
	}
	return strings.Join(parts, "; ")
}

// ResourceMap is the flat resource map of /master/state
// ({"disk":0.0,"mem":64.0,"gpus":0.0,"cpus":0.5,"ports":"[31000-32000]"}).
type ResourceMap struct {
	CPUs, Mem, Disk, GPUs float64
	// Ports is "[begin-end, ...]" or empty.
	Ports string
}

// resourceMap converts r for /master/state.
func resourceMap(r Resources) ResourceMap {
	m := ResourceMap{CPUs: r.CPUs, Mem: r.Mem, Disk: r.Disk, GPUs: r.GPUs}
	if len(r.Ports) > 0 {
		m.Ports = formatRanges(r.Ports)
	}
	return m
}

// MarshalJSON writes the keys in the order a real master does.
func (m ResourceMap) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `{"disk":%s,"mem":%s,"gpus":%s,"cpus":%s`,
		mesosFloat(m.Disk), mesosFloat(m.Mem), mesosFloat(m.GPUs), mesosFloat(m.CPUs))
	if m.Ports != "" {
		fmt.Fprintf(&b, `,"ports":%q`, m.Ports)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// strPtr returns a pointer to s.
func strPtr(s string) *string { return &s }
