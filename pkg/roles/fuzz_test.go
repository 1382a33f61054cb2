package roles

import (
	"math"
	"strings"
	"testing"
)

// FuzzValidateName: never panics; accepted names obey Mesos' rules.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"eng/ml", "a", "", "*", "/a", "a/", "a//b", "-a", "a b", "a/./b", "a/../b", "\x7f", "é/ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateName(s)
		if err != nil {
			if !strings.Contains(err.Error(), "role") {
				t.Errorf("error %q does not say it is about a role", err)
			}
			return
		}
		if s == "" || s == "*" || strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") || strings.Contains(s, "//") ||
			strings.ContainsAny(s, invalidChars) {
			t.Errorf("accepted invalid role %q", s)
		}
		for _, c := range strings.Split(s, "/") {
			if c == "." || c == ".." || c == "*" || strings.HasPrefix(c, "-") {
				t.Errorf("accepted role %q with component %q", s, c)
			}
		}
		for _, a := range Ancestors(s) {
			if ValidateName(a) != nil {
				t.Errorf("ancestor %q of valid %q is invalid", a, s)
			}
		}
	})
}

// FuzzParseWeight: never panics; accepted weights are positive, finite, bounded.
func FuzzParseWeight(f *testing.F) {
	for _, s := range []string{"1", "2.5", "0", "-1", "NaN", "Inf", "1e309", "0x10", " 3 ", "1e-400", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWeight(s)
		if err != nil {
			if !strings.Contains(err.Error(), "weight") {
				t.Errorf("error %q does not name the weight", err)
			}
			return
		}
		if math.IsNaN(w) || math.IsInf(w, 0) || w < minWeight || w > maxWeight {
			t.Errorf("accepted weight %v from %q", w, s)
		}
	})
}
