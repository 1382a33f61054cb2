package hardware

import (
	"strconv"
	"strings"

	resourceapi "k8s.io/api/resource/v1"
)

// DeviceID names a DRA device: driver, pool and device name, as in a
// ResourceClaim's allocation result.
type DeviceID struct{ Driver, Pool, Device string }

// Device is one accelerator device published in a ResourceSlice.
type Device struct {
	ID DeviceID
	// Product is the productName attribute, e.g. "NVIDIA H100 80GB HBM3".
	Product string
	// Family is the architecture (or family) attribute, e.g. "Hopper".
	Family string
	// ComputeMajor is the major version of cudaComputeCapability.
	ComputeMajor int64
	// Memory is the memory capacity in bytes.
	Memory int64
}

// DRA attribute and capacity names read from devices. Names are looked up
// bare and qualified with the driver's domain ("gpu.nvidia.com/productName").
const (
	attrProduct      = "productName"
	attrModel        = "model"
	attrArchitecture = "architecture"
	attrFamily       = "family"
	attrCompute      = "cudaComputeCapability"
	attrType         = "type"
	capMemory        = "memory"
	// typePartition is the type attribute of MIG partitions, which are not
	// whole accelerators.
	typePartition = "mig"
)

// SliceDevices returns the node a ResourceSlice's devices are local to and
// its accelerator devices: those of a driver isAccelerator accepts, except
// partitions. Slices not local to one node yield node "".
func SliceDevices(s *resourceapi.ResourceSlice, isAccelerator func(driver string) bool) (string, []Device) {
	if s.Spec.NodeName == nil || *s.Spec.NodeName == "" || !isAccelerator(s.Spec.Driver) {
		return "", nil
	}
	driver := s.Spec.Driver
	var out []Device
	for i := range s.Spec.Devices {
		d := &s.Spec.Devices[i]
		if strings.EqualFold(stringAttr(d, driver, attrType), typePartition) {
			continue
		}
		dev := Device{
			ID:      DeviceID{Driver: driver, Pool: s.Spec.Pool.Name, Device: d.Name},
			Product: firstNonEmpty(stringAttr(d, driver, attrProduct), stringAttr(d, driver, attrModel)),
			Family:  firstNonEmpty(stringAttr(d, driver, attrArchitecture), stringAttr(d, driver, attrFamily)),
		}
		dev.ComputeMajor = major(d, driver)
		if c, ok := lookup(d.Capacity, driver, capMemory); ok && c.Value.Sign() > 0 {
			dev.Memory = c.Value.Value()
		}
		out = append(out, dev)
	}
	return *s.Spec.NodeName, out
}

func lookup[V any](m map[resourceapi.QualifiedName]V, driver, name string) (V, bool) {
	if v, ok := m[resourceapi.QualifiedName(name)]; ok {
		return v, true
	}
	v, ok := m[resourceapi.QualifiedName(driver+"/"+name)]
	return v, ok
}

func stringAttr(d *resourceapi.Device, driver, name string) string {
	if a, ok := lookup(d.Attributes, driver, name); ok && a.StringValue != nil {
		return *a.StringValue
	}
	return ""
}

// major reads the major version of the compute capability, a version
// ("9.0.0") or an integer attribute.
func major(d *resourceapi.Device, driver string) int64 {
	a, ok := lookup(d.Attributes, driver, attrCompute)
	switch {
	case !ok:
		return 0
	case a.IntValue != nil && *a.IntValue > 0:
		return *a.IntValue
	case a.VersionValue != nil:
		head, _, _ := strings.Cut(*a.VersionValue, ".")
		if v, err := strconv.ParseInt(head, 10, 64); err == nil && v > 0 {
			return v
		}
	}
	return 0
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// fromDRA fills a model from the node's accelerator devices: the most
// common product (ties: the smallest name) and its family, the smallest
// memory and compute capability of any device (a pod's minimum must hold
// for whichever device it gets).
func fromDRA(n *Node, devs []Device) {
	if len(devs) == 0 {
		return
	}
	n.DRADevices = int64(len(devs))
	count := map[string]int{}
	for _, d := range devs {
		count[d.Product]++
		if d.Memory > 0 && (n.Memory == 0 || d.Memory < n.Memory) {
			n.Memory = d.Memory
		}
		if d.ComputeMajor > 0 && (n.ComputeMajor == 0 || d.ComputeMajor < n.ComputeMajor) {
			n.ComputeMajor = d.ComputeMajor
		}
	}
	best := ""
	for p, c := range count {
		if p != "" && (best == "" || c > count[best] || c == count[best] && p < best) {
			best = p
		}
	}
	n.Product = best
	for _, d := range devs {
		if d.Product == best && d.Family != "" {
			n.Family = d.Family
			break
		}
	}
}
