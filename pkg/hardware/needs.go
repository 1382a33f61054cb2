package hardware

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Pod annotations that state what hardware a pod needs.
const (
	// AnnotationGPUModels lists accelerator models in preference order: "H100,A100".
	AnnotationGPUModels = "kube-mesos.io/gpu-models"
	// AnnotationGPUMinMemory is the least memory per accelerator, a quantity: "40Gi".
	AnnotationGPUMinMemory = "kube-mesos.io/gpu-min-memory"
	// AnnotationArchitectures lists the CPU architectures the pod's images
	// exist for, in preference order: "arm64,amd64".
	AnnotationArchitectures = "kube-mesos.io/architectures"
	// AnnotationPolicy is "required" (the default: models and memory filter
	// nodes) or "preferred" (they only score nodes).
	AnnotationPolicy = "kube-mesos.io/hardware-policy"
)

// Policy says whether a pod's model and memory wishes filter or only score.
type Policy string

const (
	// PolicyRequired: nodes without a listed model or enough memory are filtered out.
	PolicyRequired Policy = "required"
	// PolicyPreferred: model and memory only score nodes.
	PolicyPreferred Policy = "preferred"
)

// Limits on annotation values, so that a hostile pod costs bounded work.
const (
	maxValueLength = 1024
	maxModels      = 16
	maxModelLength = 64
	// maxMemory bounds gpu-min-memory (1 PiB).
	maxMemory = int64(1) << 50
)

// Needs is what a pod asks of a node's hardware, computed once per
// scheduling cycle.
type Needs struct {
	// GPUs is the number of accelerators the pod asks for (extended
	// resources and ResourceClaims).
	GPUs int64
	// Models are acceptable accelerator models, best first; empty: any.
	Models []Model
	// MinMemory is the least memory per accelerator in bytes; 0: any.
	MinMemory int64
	// Archs are CPU architectures, best first: the pod's annotation, else
	// the cluster's preference; empty: no preference.
	Archs []string
	// ArchRequired: Archs came from the pod's annotation and filter nodes
	// (its images exist for no other architecture).
	ArchRequired bool
	// Policy applies to Models and MinMemory.
	Policy Policy
	// AvoidAccelerators: the pod asks for no accelerator and the
	// accelerator node policy is Strict, so nodes with accelerators are
	// filtered out.
	AvoidAccelerators bool
	// ScoreIdle: the pod asks for no accelerator and the policy is Prefer
	// or Strict, so nodes score lower the more accelerators they leave idle.
	ScoreIdle bool
}

// AnnotationError is a pod annotation with a value that cannot be used.
type AnnotationError struct {
	Annotation, Value, Reason string
}

func (e *AnnotationError) Error() string {
	v := e.Value
	if len(v) > 100 {
		v = v[:100] + "..."
	}
	return fmt.Sprintf("annotation %s=%q: %s", e.Annotation, v, e.Reason)
}

// ParseAnnotations reads a pod's hardware annotations into Needs (GPUs and
// the policy-dependent flags are left to the caller). An annotation with a
// bad value yields an *AnnotationError naming it.
func ParseAnnotations(annotations map[string]string) (Needs, error) {
	n := Needs{Policy: PolicyRequired}
	var err error
	if v, ok := annotations[AnnotationGPUModels]; ok {
		if n.Models, err = parseModels(v); err != nil {
			return Needs{}, err
		}
	}
	if v, ok := annotations[AnnotationGPUMinMemory]; ok {
		if n.MinMemory, err = parseMemory(v); err != nil {
			return Needs{}, err
		}
	}
	if v, ok := annotations[AnnotationArchitectures]; ok {
		if n.Archs, err = parseArchs(v); err != nil {
			return Needs{}, err
		}
		n.ArchRequired = true
	}
	if v, ok := annotations[AnnotationPolicy]; ok {
		switch p := Policy(v); p {
		case PolicyRequired, PolicyPreferred:
			n.Policy = p
		default:
			return Needs{}, bad(AnnotationPolicy, v, `must be "required" or "preferred"`)
		}
	}
	return n, nil
}

func bad(annotation, value, reason string) *AnnotationError {
	return &AnnotationError{Annotation: annotation, Value: value, Reason: reason}
}

// list splits a comma-separated value into trimmed entries, refusing empty
// entries and overlong values.
func list(annotation, v string) ([]string, error) {
	if len(v) > maxValueLength {
		return nil, bad(annotation, v, fmt.Sprintf("longer than %d characters", maxValueLength))
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
		if parts[i] == "" {
			return nil, bad(annotation, v, fmt.Sprintf("entry %d is empty", i+1))
		}
	}
	return parts, nil
}

func parseModels(v string) ([]Model, error) {
	parts, err := list(AnnotationGPUModels, v)
	if err != nil {
		return nil, err
	}
	if len(parts) > maxModels {
		return nil, bad(AnnotationGPUModels, v, fmt.Sprintf("more than %d models", maxModels))
	}
	out := make([]Model, 0, len(parts))
	seen := map[string]bool{}
	for _, p := range parts {
		if len(p) > maxModelLength {
			return nil, bad(AnnotationGPUModels, v, fmt.Sprintf("model %q is longer than %d characters", p[:maxModelLength], maxModelLength))
		}
		for _, r := range p {
			if !modelRune(r) {
				return nil, bad(AnnotationGPUModels, v, fmt.Sprintf("model %q has character %q; use letters, digits, '-', '_', '.' and spaces", p, r))
			}
		}
		m := words(p)
		key := strings.Join(m, "-")
		if len(m) == 0 {
			return nil, bad(AnnotationGPUModels, v, fmt.Sprintf("model %q has no letters or digits", p))
		}
		if seen[key] {
			return nil, bad(AnnotationGPUModels, v, fmt.Sprintf("model %q is listed twice", p))
		}
		seen[key] = true
		out = append(out, m)
	}
	return out, nil
}

func modelRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '-' || r == '_' || r == '.' || r == ' '
}

func parseMemory(v string) (int64, error) {
	if len(v) > maxValueLength {
		return 0, bad(AnnotationGPUMinMemory, v, fmt.Sprintf("longer than %d characters", maxValueLength))
	}
	t := strings.TrimSpace(v)
	if !smallExponent(t) {
		return 0, bad(AnnotationGPUMinMemory, v, "exponent out of range")
	}
	q, err := resource.ParseQuantity(t)
	if err != nil {
		return 0, bad(AnnotationGPUMinMemory, v, "not a quantity (e.g. 40Gi)")
	}
	if q.Sign() <= 0 {
		return 0, bad(AnnotationGPUMinMemory, v, "must be positive")
	}
	if q.CmpInt64(maxMemory) > 0 {
		return 0, bad(AnnotationGPUMinMemory, v, "must be at most 1Pi")
	}
	return q.Value(), nil
}

// maxExponent bounds the decimal exponent of a quantity ("4e9"): comparing
// quantities with huge exponents costs big-integer arithmetic, and no
// memory size needs one.
const maxExponent = 30

// smallExponent reports whether a quantity's decimal exponent, if it has
// one, is within ±maxExponent ("E" and "Ei" alone are suffixes, not exponents).
func smallExponent(v string) bool {
	i := strings.IndexAny(v, "eE")
	if i < 0 || v[i+1:] == "" || v[i+1:] == "i" {
		return true
	}
	exp, err := strconv.Atoi(v[i+1:])
	return err != nil || (exp <= maxExponent && exp >= -maxExponent)
}

func parseArchs(v string) ([]string, error) {
	parts, err := list(AnnotationArchitectures, v)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, a := range parts {
		if !IsKnownArchitecture(a) {
			return nil, bad(AnnotationArchitectures, v, fmt.Sprintf("unknown architecture %q; known: %s", a, strings.Join(KnownArchitectures(), ", ")))
		}
		if seen[a] {
			return nil, bad(AnnotationArchitectures, v, fmt.Sprintf("architecture %q is listed twice", a))
		}
		seen[a] = true
	}
	return parts, nil
}
