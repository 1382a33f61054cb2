package simulate

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTimelineRecord(t *testing.T) {
	tl := NewTimeline([]string{"a", "b"}, map[string]string{"a": "a (weight 2)"})
	tl.Record(0, map[string]float64{"a": 0, "b": 0, "ignored": 1})
	tl.Record(0.5, map[string]float64{"a": 0.25, "b": 0})
	tl.Record(1, map[string]float64{"a": 0.25, "b": 0.5})
	tl.Record(3, map[string]float64{"a": 0.25, "b": 0.5})
	want := []Series{
		{Key: "a", Label: "a (weight 2)", Points: []Point{{0, 0}, {0.5, 0.25}, {3, 0.25}}},
		{Key: "b", Label: "b", Points: []Point{{0, 0}, {1, 0.5}, {3, 0.5}}},
	}
	if diff := cmp.Diff(want, tl.Series()); diff != "" {
		t.Errorf("series: unchanged samples dropped, last value held to the end (-want +got):\n%s", diff)
	}
}

func TestNiceAxis(t *testing.T) {
	for _, tc := range []struct{ max, step, top float64 }{
		{1, 0.2, 1},
		{0.667, 0.2, 0.8},
		{0.1, 0.02, 0.1},
		{7.3, 2, 8},
		{42, 10, 50},
	} {
		step, top := niceAxis(tc.max)
		if diff := cmp.Diff([]float64{tc.step, tc.top}, []float64{step, top}, cmpApprox); diff != "" {
			t.Errorf("niceAxis(%v) (-want +got):\n%s", tc.max, diff)
		}
	}
}

var cmpApprox = cmp.Comparer(func(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 })

// TestWriteSVG: the chart is well-formed XML with one step line per
// series, the labels escaped, and the final values in the legend.
func TestWriteSVG(t *testing.T) {
	tl := NewTimeline([]string{"a", "b"}, map[string]string{"b": "b <w=1 & more>"})
	tl.Record(0, map[string]float64{"a": 0, "b": 0})
	tl.Record(2, map[string]float64{"a": 2.0 / 3, "b": 0.5})
	var b bytes.Buffer
	if err := tl.WriteSVG(&b, "Shares", "seconds", "dominant share"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	dec := xml.NewDecoder(strings.NewReader(out))
	polylines, texts := 0, []string{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, out)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			polylines++
		}
		if cd, ok := tok.(xml.CharData); ok && strings.TrimSpace(string(cd)) != "" {
			texts = append(texts, string(cd))
		}
	}
	if polylines != 2 {
		t.Errorf("%d polylines, want one per series", polylines)
	}
	for _, want := range []string{"Shares", "seconds", "dominant share", "a: 0.667", "b <w=1 & more>: 0.500"} {
		found := false
		for _, s := range texts {
			found = found || s == want
		}
		if !found {
			t.Errorf("no text %q in %q", want, texts)
		}
	}
}

// TestChartLegendFits: a long legend label widens the chart instead of
// running past its right edge, and many series make it taller. The check
// is on the SVG itself: every legend text starts at x and, at 12 px, takes
// at most 7.5 px per character (0.625 em: wider than the average advance
// of a sans-serif face), so x + 7.5 × characters must stay inside width;
// and every legend row's y inside height.
func TestChartLegendFits(t *testing.T) {
	var keys []string
	labels := map[string]string{}
	for i := 0; i < 30; i++ {
		k := fmt.Sprintf("tenant-%02d", i)
		keys = append(keys, k)
		labels[k] = k + " (weight 3, guaranteed cpu=12,memory=48Gi, limit nvidia.com/gpu=8)"
	}
	tl := NewTimeline(keys, labels)
	for i, k := range keys {
		tl.Record(float64(i), map[string]float64{k: 0.123})
	}
	var b bytes.Buffer
	if err := tl.WriteSVG(&b, "shares", "s", "share"); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	var w, h float64
	if _, err := fmt.Sscanf(svg[strings.Index(svg, `width="`):], `width="%g" height="%g"`, &w, &h); err != nil {
		t.Fatalf("no size in %.200s: %v", svg, err)
	}
	texts := regexp.MustCompile(`<text x="([0-9.]+)" y="([0-9.]+)">([^<]*)</text>`).FindAllStringSubmatch(svg, -1)
	legend := 0
	for _, m := range texts {
		if !strings.HasPrefix(m[3], "tenant-") {
			continue
		}
		legend++
		x, _ := strconv.ParseFloat(m[1], 64)
		y, _ := strconv.ParseFloat(m[2], 64)
		if right := x + 7.5*float64(len([]rune(html.UnescapeString(m[3])))); right > w {
			t.Errorf("legend %q ends at %.0f, past the chart's width %.0f", m[3], right, w)
		}
		if y > h {
			t.Errorf("legend %q at y %.0f, below the chart's height %.0f", m[3], y, h)
		}
	}
	if legend != len(keys) {
		t.Errorf("%d legend entries, want %d", legend, len(keys))
	}
}
