package hardware

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParseAnnotations(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      map[string]string
		want    Needs
		wantErr string // substring; the annotation's name must be in it too
	}{
		{name: "none", in: nil, want: Needs{Policy: PolicyRequired}},
		{
			name: "all",
			in: map[string]string{
				AnnotationGPUModels: "H100, A100-80GB", AnnotationGPUMinMemory: "40Gi",
				AnnotationArchitectures: "arm64,amd64", AnnotationPolicy: "preferred",
			},
			want: Needs{
				Models: []Model{{"H100"}, {"A100", "80GB"}}, MinMemory: 40 << 30,
				Archs: []string{"arm64", "amd64"}, ArchRequired: true, Policy: PolicyPreferred,
			},
		},
		{name: "memory in decimal units", in: map[string]string{AnnotationGPUMinMemory: "16G"}, want: Needs{MinMemory: 16e9, Policy: PolicyRequired}},
		{name: "model with spaces", in: map[string]string{AnnotationGPUModels: "NVIDIA H100"}, want: Needs{Models: []Model{{"NVIDIA", "H100"}}, Policy: PolicyRequired}},
		{name: "empty models", in: map[string]string{AnnotationGPUModels: ""}, wantErr: "entry 1 is empty"},
		{name: "empty model entry", in: map[string]string{AnnotationGPUModels: "H100,,A100"}, wantErr: "entry 2 is empty"},
		{name: "model twice", in: map[string]string{AnnotationGPUModels: "H100,h100"}, wantErr: "listed twice"},
		{name: "model punctuation only", in: map[string]string{AnnotationGPUModels: "--"}, wantErr: "no letters or digits"},
		{name: "model bad character", in: map[string]string{AnnotationGPUModels: "H100;rm"}, wantErr: `character ';'`},
		{name: "model too long", in: map[string]string{AnnotationGPUModels: strings.Repeat("A", 65)}, wantErr: "longer than 64"},
		{name: "too many models", in: map[string]string{AnnotationGPUModels: strings.Repeat("A,", 16) + "B"}, wantErr: "more than 16"},
		{name: "value too long", in: map[string]string{AnnotationGPUModels: strings.Repeat("A", 1025)}, wantErr: "longer than 1024"},
		{name: "memory not a quantity", in: map[string]string{AnnotationGPUMinMemory: "lots"}, wantErr: `"lots": not a quantity`},
		{name: "memory zero", in: map[string]string{AnnotationGPUMinMemory: "0"}, wantErr: "must be positive"},
		{name: "memory negative", in: map[string]string{AnnotationGPUMinMemory: "-1Gi"}, wantErr: "must be positive"},
		{name: "memory huge", in: map[string]string{AnnotationGPUMinMemory: "1e30"}, wantErr: "at most 1Pi"},
		{name: "memory exponent too large", in: map[string]string{AnnotationGPUMinMemory: "1e999999"}, wantErr: "exponent out of range"},
		{name: "memory exponent too small", in: map[string]string{AnnotationGPUMinMemory: "9e-999999999"}, wantErr: "exponent out of range"},
		{name: "memory in exabytes", in: map[string]string{AnnotationGPUMinMemory: "2E"}, wantErr: "at most 1Pi"},
		{name: "unknown arch", in: map[string]string{AnnotationArchitectures: "x86_64"}, wantErr: `unknown architecture "x86_64"`},
		{name: "arch twice", in: map[string]string{AnnotationArchitectures: "amd64,amd64"}, wantErr: "listed twice"},
		{name: "arch empty", in: map[string]string{AnnotationArchitectures: ""}, wantErr: "entry 1 is empty"},
		{name: "bad policy", in: map[string]string{AnnotationPolicy: "Required"}, wantErr: `must be "required" or "preferred"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAnnotations(tc.in)
			if tc.wantErr != "" {
				var bad *AnnotationError
				if !errors.As(err, &bad) {
					t.Fatalf("error %v, want an *AnnotationError", err)
				}
				if msg := err.Error(); !strings.Contains(msg, tc.wantErr) || !strings.Contains(msg, bad.Annotation) || bad.Value != tc.in[bad.Annotation] {
					t.Errorf("error %q does not name the annotation and %q", msg, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("needs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnnotationErrorTruncatesValue(t *testing.T) {
	err := bad(AnnotationGPUModels, strings.Repeat("x", 500), "reason")
	if n := len(err.Error()); n > 200 {
		t.Errorf("message of %d characters for a long value", n)
	}
}

// FuzzParseAnnotations: any annotation values either parse into needs that
// respect the limits or yield an *AnnotationError naming the annotation;
// nothing panics.
func FuzzParseAnnotations(f *testing.F) {
	f.Add("H100,A100", "40Gi", "amd64,arm64", "required")
	f.Add("", "lots", "x86_64", "Preferred")
	f.Add("A100-80GB , NVIDIA L40S", "1e30", "ppc64le", "preferred")
	f.Add(",", "-1", ",,", "")
	f.Add("\xff\xfe", "0.5Mi", "arm64,arm64", "required")
	f.Add("H100", "1e99999", "amd64", "required")
	f.Add("H100", "1Ei", "amd64", "required")
	f.Fuzz(func(t *testing.T, models, memory, archs, policy string) {
		in := map[string]string{AnnotationGPUModels: models, AnnotationGPUMinMemory: memory, AnnotationArchitectures: archs, AnnotationPolicy: policy}
		need, err := ParseAnnotations(in)
		if err != nil {
			var bad *AnnotationError
			if !errors.As(err, &bad) || in[bad.Annotation] != bad.Value || !strings.Contains(err.Error(), bad.Annotation) {
				t.Fatalf("error %v does not name an annotation with its value", err)
			}
			if !utf8.ValidString(err.Error()) {
				t.Fatalf("message %q is not valid UTF-8 (it goes into events)", err)
			}
			return
		}
		if len(need.Models) == 0 || len(need.Models) > maxModels || need.MinMemory <= 0 || need.MinMemory > maxMemory ||
			len(need.Archs) == 0 || !need.ArchRequired || (need.Policy != PolicyRequired && need.Policy != PolicyPreferred) {
			t.Fatalf("accepted needs out of bounds: %+v", need)
		}
		for _, a := range need.Archs {
			if !IsKnownArchitecture(a) {
				t.Fatalf("accepted unknown architecture %q", a)
			}
		}
		node := Build(Sources{Node: kubeNode("n", map[string]string{LabelGPUProduct: models})})
		need.GPUs = 1
		if s := Score(&need, node, Usage{Capacity: 8, Used: 3}, defaultWeights); s < 0 || s > MaxScore {
			t.Fatalf("score %d out of range", s)
		}
	})
}
