package roles

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		role string
		ok   bool
	}{
		{"team-a", true}, {"eng/ml", true}, {"a/b/c", true}, {"dev.ops", true}, {"a_b", true}, {"Ω", true},
		{"", false}, {"*", false}, {".", false}, {"..", false}, {"-a", false}, {"a/-b", false},
		{"/eng", false}, {"eng/", false}, {"eng//ml", false}, {"eng/./ml", false}, {"eng/../ml", false},
		{"eng/*", false}, {"a b", false}, {"a\tb", false}, {"a\x7fb", false}, {"a\nb", false},
	} {
		t.Run(tc.role, func(t *testing.T) {
			if err := ValidateName(tc.role); (err == nil) != tc.ok {
				t.Errorf("ValidateName(%q) = %v, want ok=%v", tc.role, err, tc.ok)
			}
		})
	}
}

func TestParseWeight(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1", 1, true}, {"2.5", 2.5, true}, {" 3 ", 3, true}, {"1e-3", 0.001, true}, {"1000000", 1e6, true},
		{"0", 0, false}, {"-1", 0, false}, {"NaN", 0, false}, {"Inf", 0, false}, {"1e7", 0, false}, {"two", 0, false}, {"", 0, false},
		{"0.0000001", 0, false}, {"0.000999", 0, false}, {"1e309", 0, false}, {"1e-400", 0, false},
	} {
		got, err := ParseWeight(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseWeight(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	// Out of range, a weight is named by its bounds, not as "not a number".
	for _, in := range []string{"1e309", "0.0000001"} {
		if _, err := ParseWeight(in); err == nil || !strings.Contains(err.Error(), "from 0.001 to 1e+06") {
			t.Errorf("ParseWeight(%q) error %v, want one giving the bounds", in, err)
		}
	}
}

func TestAncestors(t *testing.T) {
	if diff := cmp.Diff([]string{"a/b", "a"}, Ancestors("a/b/c")); diff != "" {
		t.Error(diff)
	}
	if got := Ancestors("a"); len(got) != 0 {
		t.Errorf("Ancestors(a) = %v", got)
	}
}
