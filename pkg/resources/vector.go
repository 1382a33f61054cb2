// Package resources is the one owner of resource vectors: pod requests, node
// capacity, vector arithmetic, fit checks, port ranges and dominant shares.
// Every other package does its resource maths through it.
package resources

import (
	"math"
	"sort"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Vector maps a resource name to an amount in integer base units:
// millicores for cpu, bytes for memory and storage, a count for the rest.
// A missing entry is zero. Arithmetic saturates instead of overflowing.
type Vector map[v1.ResourceName]int64

// FromList converts a ResourceList into a Vector. Zero quantities are dropped.
func FromList(list v1.ResourceList) Vector {
	out := make(Vector, len(list))
	for name, q := range list {
		if n := toUnits(name, q); n != 0 {
			out[name] = n
		}
	}
	return out
}

// ToList converts the Vector back into a ResourceList.
func (v Vector) ToList() v1.ResourceList {
	out := make(v1.ResourceList, len(v))
	for name, n := range v {
		out[name] = Quantity(name, n)
	}
	return out
}

// Quantity returns n units of the named resource as a Quantity.
func Quantity(name v1.ResourceName, n int64) resource.Quantity {
	switch {
	case name == v1.ResourceCPU:
		return *resource.NewMilliQuantity(n, resource.DecimalSI)
	case isBinary(name):
		return *resource.NewQuantity(n, resource.BinarySI)
	default:
		return *resource.NewQuantity(n, resource.DecimalSI)
	}
}

// Format renders n units of a resource for people: "1500m", "4Gi", "2".
// Counts (GPUs, pods, extended resources) and whole CPUs are plain
// integers — 1000 GPUs is "1000", not the Quantity's "1k" — and bytes keep
// their Quantity form ("4Gi").
func Format(name v1.ResourceName, n int64) string {
	switch {
	case name == v1.ResourceCPU && n%1000 == 0:
		return strconv.FormatInt(n/1000, 10)
	case name == v1.ResourceCPU:
		return strconv.FormatInt(n, 10) + "m"
	case isBinary(name):
		q := Quantity(name, n)
		return q.String()
	default:
		return strconv.FormatInt(n, 10)
	}
}

func isBinary(name v1.ResourceName) bool {
	return name == v1.ResourceMemory || name == v1.ResourceEphemeralStorage ||
		strings.HasPrefix(string(name), v1.ResourceHugePagesPrefix)
}

func toUnits(name v1.ResourceName, q resource.Quantity) int64 {
	if name == v1.ResourceCPU {
		return q.MilliValue()
	}
	return q.Value()
}

// Clone returns a copy of v.
func (v Vector) Clone() Vector {
	out := make(Vector, len(v))
	for k, n := range v {
		out[k] = n
	}
	return out
}

// Get returns the amount of a resource (zero if missing).
func (v Vector) Get(name v1.ResourceName) int64 { return v[name] }

// Add adds o into v, saturating at the int64 limits.
func (v Vector) Add(o Vector) {
	for k, n := range o {
		v[k] = addSat(v[k], n)
	}
}

// AddScaled adds n·o into v, saturating at the int64 limits.
func (v Vector) AddScaled(o Vector, n int64) {
	for k, x := range o {
		v[k] = addSat(v[k], mulSat(x, n))
	}
}

// Sub subtracts o from v, saturating at the int64 limits. Entries may go
// negative; callers that need a floor use ClampZero.
func (v Vector) Sub(o Vector) {
	for k, n := range o {
		v[k] = addSat(v[k], negSat(n))
	}
}

// Plus returns v + o as a new vector.
func (v Vector) Plus(o Vector) Vector {
	out := v.Clone()
	out.Add(o)
	return out
}

// Minus returns v - o as a new vector.
func (v Vector) Minus(o Vector) Vector {
	out := v.Clone()
	out.Sub(o)
	return out
}

// ClampZero raises every negative entry to zero and drops zero entries.
func (v Vector) ClampZero() Vector {
	for k, n := range v {
		if n <= 0 {
			delete(v, k)
		}
	}
	return v
}

// Fits reports whether every positive entry of v is at most the same entry
// of capacity: the request v fits in capacity.
func (v Vector) Fits(capacity Vector) bool {
	for k, n := range v {
		if n > 0 && n > capacity[k] {
			return false
		}
	}
	return true
}

// FitsFree reports whether v fits in capacity minus used, without
// allocating: the hot-path form of v.Fits(capacity.Minus(used)).
func (v Vector) FitsFree(capacity, used Vector) bool {
	for k, n := range v {
		if n > 0 && n > addSat(capacity[k], negSat(used[k])) {
			return false
		}
	}
	return true
}

// FitsPlus reports whether v fits in capacity plus extra, without
// allocating.
func (v Vector) FitsPlus(capacity, extra Vector) bool {
	for k, n := range v {
		if n > 0 && n > addSat(capacity[k], extra[k]) {
			return false
		}
	}
	return true
}

// Insufficient returns the resources of request that capacity cannot cover,
// sorted by name.
func (v Vector) Insufficient(capacity Vector) []v1.ResourceName {
	var out []v1.ResourceName
	for k, n := range v {
		if n > 0 && n > capacity[k] {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// IsZero reports whether no entry is positive.
func (v Vector) IsZero() bool {
	for _, n := range v {
		if n > 0 {
			return false
		}
	}
	return true
}

// Min returns the entry-wise minimum of v and o over the names of v.
func (v Vector) Min(o Vector) Vector {
	out := make(Vector, len(v))
	for k, n := range v {
		if m := o[k]; m < n {
			n = m
		}
		if n != 0 {
			out[k] = n
		}
	}
	return out
}

// Max returns the entry-wise maximum of v and o.
func (v Vector) Max(o Vector) Vector {
	out := v.Clone()
	for k, n := range o {
		if n > out[k] {
			out[k] = n
		}
	}
	return out
}

// Only returns the entries of v whose names are in names.
func (v Vector) Only(names []v1.ResourceName) Vector {
	out := make(Vector, len(names))
	for _, k := range names {
		if n, ok := v[k]; ok && n != 0 {
			out[k] = n
		}
	}
	return out
}

// Equal reports whether v and o hold the same non-zero entries.
func (v Vector) Equal(o Vector) bool {
	for k, n := range v {
		if o[k] != n {
			return false
		}
	}
	for k, n := range o {
		if v[k] != n {
			return false
		}
	}
	return true
}

// String renders the vector as "cpu=1500m,memory=4Gi", sorted by name.
func (v Vector) String() string {
	names := make([]string, 0, len(v))
	for k, n := range v {
		if n != 0 {
			names = append(names, string(k))
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(Format(v1.ResourceName(k), v[v1.ResourceName(k)]))
	}
	return b.String()
}

func addSat(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}

func negSat(n int64) int64 {
	if n == math.MinInt64 {
		return math.MaxInt64
	}
	return -n
}

// AddSat returns a + b, saturating at the int64 limits.
func AddSat(a, b int64) int64 { return addSat(a, b) }

func mulSat(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		if (a > 0) == (b > 0) {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return p
}
