package resources

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRanges(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Ranges
		wantErr bool
	}{
		{"31000-32000", Ranges{{31000, 32000}}, false},
		{"[31000-32000, 8080-8080]", Ranges{{8080, 8080}, {31000, 32000}}, false},
		{"80,81,82,100-200,150-300", Ranges{{80, 82}, {100, 300}}, false},
		{"", nil, false},
		{"[]", nil, false},
		{"0-10", nil, true},
		{"10-5", nil, true},
		{"1-65536", nil, true},
		{"http", nil, true},
		{"5-", nil, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRanges(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); !tc.wantErr && diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRangeOps(t *testing.T) {
	r, _ := ParseRanges("31000-32000,8080")
	if !r.Contains(8080) || !r.Contains(31000) || !r.Contains(32000) || r.Contains(8081) || r.Contains(32001) {
		t.Error("Contains")
	}
	if p, ok := r.ContainsAll([]int32{8080, 31500}); !ok || p != 0 {
		t.Error("ContainsAll of offered ports")
	}
	if p, ok := r.ContainsAll([]int32{8080, 9090}); ok || p != 9090 {
		t.Errorf("ContainsAll = %d %v, want 9090 false", p, ok)
	}
	without := r.Without([]int32{31000, 31500, 8080})
	if diff := cmp.Diff(Ranges{{31001, 31499}, {31501, 32000}}, without); diff != "" {
		t.Errorf("Without (-want +got):\n%s", diff)
	}
	if got := r.Minus(Ranges{{1, 31999}}); !cmp.Equal(got, Ranges{{32000, 32000}}) {
		t.Errorf("Minus = %v", got)
	}
	if got := without.Union(FromPorts([]int32{31000, 31500})); !cmp.Equal(got, Ranges{{31000, 32000}}) {
		t.Errorf("Union = %v", got)
	}
	if r.Size() != 1002 || r.String() != "[8080-8080, 31000-32000]" {
		t.Errorf("Size %d String %s", r.Size(), r.String())
	}
}
