package resources

import v1 "k8s.io/api/core/v1"

// Dims numbers a small set of resources — for one allocation cycle, those
// the pending pods ask for — so that hot loops work on dense vectors
// instead of maps. Only the resources that are dimensions decide fits.
type Dims struct {
	Names []v1.ResourceName
	Index map[v1.ResourceName]int
}

// NewDims returns an empty set of dimensions.
func NewDims() *Dims { return &Dims{Index: map[v1.ResourceName]int{}} }

// Add makes every resource v asks for (positive entry) a dimension.
func (d *Dims) Add(v Vector) {
	for k, n := range v {
		if n <= 0 {
			continue
		}
		if _, ok := d.Index[k]; !ok {
			d.Index[k] = len(d.Names)
			d.Names = append(d.Names, k)
		}
	}
}

// Len is the number of dimensions.
func (d *Dims) Len() int { return len(d.Names) }

// Dense converts v over the dimensions into out (len(out) == d.Len()) and
// returns it; resources that are not dimensions are ignored.
func (d *Dims) Dense(v Vector, out Dense) Dense {
	for i, k := range d.Names {
		out[i] = v[k]
	}
	return out
}

// SubVector subtracts v's entries over the dimensions from out (len(out)
// == d.Len()), saturating; resources that are not dimensions are ignored.
func (d *Dims) SubVector(out Dense, v Vector) {
	if len(v) == 0 {
		return
	}
	for i, k := range d.Names {
		out[i] = addSat(out[i], negSat(v[k]))
	}
}

// Vector converts x back to a Vector, dropping zero entries.
func (d *Dims) Vector(x Dense) Vector {
	out := make(Vector, len(d.Names))
	for i, n := range x {
		if n != 0 {
			out[d.Names[i]] = n
		}
	}
	return out
}

// Dense is a resource vector over some Dims. Arithmetic saturates, as
// Vector's does.
type Dense []int64

// Fits reports whether every positive entry of x is at most free's.
func (x Dense) Fits(free Dense) bool {
	for i, n := range x {
		if n > 0 && n > free[i] {
			return false
		}
	}
	return true
}

// Sub subtracts y from x in place.
func (x Dense) Sub(y Dense) {
	for i := range x {
		x[i] = addSat(x[i], negSat(y[i]))
	}
}

// Add adds y to x in place.
func (x Dense) Add(y Dense) {
	for i := range x {
		x[i] = addSat(x[i], y[i])
	}
}

// ClampZero raises negative entries to zero in place.
func (x Dense) ClampZero() {
	for i := range x {
		if x[i] < 0 {
			x[i] = 0
		}
	}
}

// AddScaled adds n·y to x in place.
func (x Dense) AddScaled(y Dense, n int64) {
	for i := range x {
		x[i] = addSat(x[i], mulSat(y[i], n))
	}
}
