// Package roles maps Kubernetes namespaces to Mesos roles and holds the role
// tree: names, weights, guarantees and limits, and the hierarchical (H-DRF)
// ordering of roles by weighted dominant share.
package roles

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

const (
	// LabelRole on a namespace overrides its role (default: the namespace
	// name). Label values cannot hold "/", so "." separates the levels of a
	// hierarchical role there: "eng.ml" is the role "eng/ml".
	LabelRole = "kube-mesos.io/role"
	// AnnotationRole on a namespace gives its role verbatim ("eng/ml",
	// "dev.ops") and takes precedence over the label.
	AnnotationRole = "kube-mesos.io/role"
	// AnnotationWeight on a namespace sets its role's weight (a positive decimal).
	AnnotationWeight = "kube-mesos.io/weight"
	// Separator separates the levels of a hierarchical role.
	Separator = "/"
	// minWeight and maxWeight bound weights so that share/weight stays
	// finite and ordered, and so that no role's weight is a typo a billion
	// times another's: within the bounds the largest ratio is 1e9.
	minWeight = 1e-3
	maxWeight = 1e6
)

// invalidChars are the characters Mesos forbids in a role path component:
// tab, line feed, vertical tab, form feed, carriage return, space, DEL.
const invalidChars = "\x09\x0a\x0b\x0c\x0d\x20\x7f"

// ValidateName checks a role name against Mesos' rules (src/common/roles.cpp):
// not empty; no leading, trailing or doubled "/"; no component that is ".",
// "..", "*" or starts with "-"; no whitespace or DEL. Unlike Mesos, the
// unreserved role "*" itself is refused: a namespace cannot map to it.
func ValidateName(role string) error {
	switch {
	case role == "":
		return fmt.Errorf("empty role name is invalid")
	case role == "*":
		return fmt.Errorf("role %q is reserved for unreserved resources", role)
	case strings.HasPrefix(role, Separator):
		return fmt.Errorf("role %q cannot start with a slash", role)
	case strings.HasSuffix(role, Separator):
		return fmt.Errorf("role %q cannot end with a slash", role)
	case strings.Contains(role, "//"):
		return fmt.Errorf("role %q cannot contain two adjacent slashes", role)
	}
	for _, c := range strings.Split(role, Separator) {
		switch {
		case c == "." || c == ".." || c == "*":
			return fmt.Errorf("role %q cannot include %q as a path segment", role, c)
		case strings.HasPrefix(c, "-"):
			return fmt.Errorf("role component %q is invalid because it starts with a dash", c)
		case strings.ContainsAny(c, invalidChars):
			return fmt.Errorf("role component %q is invalid because it contains backspace or whitespace", c)
		}
	}
	return nil
}

// ReasonBadRole is the fixed reason a pod whose namespace maps to an
// invalid role waits for, whichever plugin finds it first.
const ReasonBadRole = "pod's namespace maps to an invalid Mesos role"

// BadRole is the message for a pod whose namespace's role is invalid: the
// fixed reason, then what is wrong.
func BadRole(err error) string { return ReasonBadRole + ": " + err.Error() }

// FromLabel turns a role label value into a role: "." separates levels.
func FromLabel(v string) string { return strings.ReplaceAll(v, ".", Separator) }

// ParseWeight parses a weight: a finite decimal from 0.001 to 1e6.
func ParseWeight(s string) (float64, error) {
	w, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if errors.Is(err, strconv.ErrRange) {
		err = nil // ±Inf or 0 from an out-of-range literal: the bounds below say why
	}
	if err != nil {
		return 0, fmt.Errorf("weight %q is not a decimal number", s)
	}
	if math.IsNaN(w) || math.IsInf(w, 0) || w < minWeight || w > maxWeight {
		return 0, fmt.Errorf("weight %q must be a decimal from %g to %g", s, minWeight, float64(maxWeight))
	}
	return w, nil
}

// Ancestors returns the proper ancestors of a valid role, nearest first:
// "a/b/c" gives ["a/b", "a"].
func Ancestors(role string) []string {
	var out []string
	for i := strings.LastIndex(role, Separator); i > 0; i = strings.LastIndex(role[:i], Separator) {
		out = append(out, role[:i])
	}
	return out
}

// OfNamespace returns the role of a namespace from its name, labels and
// annotations: the annotation kube-mesos.io/role verbatim, else the label of
// that name ("." for "/"), else the name. The error names the namespace and
// where the invalid role came from.
func OfNamespace(name string, labels, annotations map[string]string) (string, error) {
	role, source := name, "name"
	if v, ok := labels[LabelRole]; ok {
		role, source = FromLabel(v), fmt.Sprintf("label %s=%q", LabelRole, v)
	}
	if v, ok := annotations[AnnotationRole]; ok {
		role, source = v, fmt.Sprintf("annotation %s=%q", AnnotationRole, v)
	}
	if err := ValidateName(role); err != nil {
		return "", fmt.Errorf("namespace %q %s: %w", name, source, err)
	}
	return role, nil
}
