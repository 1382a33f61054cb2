package simulate

// The chart is drawn by the small SVG writer below rather than a charting
// library. The well-kept Go option, gonum.org/v1/plot (v0.16.0), would add
// about ten modules to go.mod (gonum, fonts, LaTeX and PDF backends, a
// raster canvas) for one line chart; github.com/wcharczuk/go-chart/v2 has
// had no release since v2.1.2 (2024) and pulls in the unmaintained
// golang/freetype. A step chart of a handful of series is ~150 lines of
// plain SVG.

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
)

// Point is one sample: seconds since the start and a value.
type Point struct {
	T, V float64
}

// Series is one line of the chart.
type Series struct {
	// Key identifies the series (a namespace); Label is shown in the legend.
	Key, Label string
	Points     []Point
}

// Timeline collects samples of several series over time. A sample equal
// to the series' last value is not stored: the chart draws steps.
type Timeline struct {
	series []*Series
	byKey  map[string]*Series
	end    float64
}

// NewTimeline returns an empty timeline with one series per key, in order;
// labels[key] is its legend (default: the key).
func NewTimeline(keys []string, labels map[string]string) *Timeline {
	t := &Timeline{byKey: map[string]*Series{}}
	for _, k := range keys {
		s := &Series{Key: k, Label: k}
		if l, ok := labels[k]; ok {
			s.Label = l
		}
		t.series = append(t.series, s)
		t.byKey[k] = s
	}
	return t
}

// Record adds the values sampled at time at (seconds); unknown keys are ignored.
func (t *Timeline) Record(at float64, values map[string]float64) {
	for k, v := range values {
		s, ok := t.byKey[k]
		if !ok {
			continue
		}
		if n := len(s.Points); n > 0 && s.Points[n-1].V == v {
			continue
		}
		s.Points = append(s.Points, Point{T: at, V: v})
	}
	t.end = math.Max(t.end, at)
}

// Series returns the series, each extended to the last sample time.
func (t *Timeline) Series() []Series {
	out := make([]Series, len(t.series))
	for i, s := range t.series {
		out[i] = Series{Key: s.Key, Label: s.Label, Points: append([]Point(nil), s.Points...)}
		if n := len(s.Points); n > 0 && s.Points[n-1].T < t.end {
			out[i].Points = append(out[i].Points, Point{T: t.end, V: s.Points[n-1].V})
		}
	}
	return out
}

// palette is Okabe and Ito's colour-blind-safe palette (yellow last: it
// is hard to read on white).
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"}

// Chart geometry, in SVG user units. The plot keeps its size; the legend
// right of it is as wide as its longest label and the chart as tall as the
// legend needs.
const (
	plotW, plotH              = 546.0, 316.0
	marginL, marginT, marginB = 64, 48, 56
	legendMinW                = 210
	legendRow                 = 22
	// charW is a generous average advance of a 12 px sans-serif character
	// (most are narrower), so a label never runs past the edge.
	charW = 7.5
)

// legendWidth is the width the legend needs for its labels.
func legendWidth(labels []string) float64 {
	longest := 0
	for _, l := range labels {
		longest = max(longest, len([]rune(l)))
	}
	return max(legendMinW, 16+30+charW*float64(longest)+12)
}

// WriteSVG draws the timeline as a step chart: x in seconds, y the value.
func (t *Timeline) WriteSVG(w io.Writer, title, xLabel, yLabel string) error {
	series := t.Series()
	xMax, yMax := 0.0, 0.0
	for _, s := range series {
		for _, p := range s.Points {
			xMax, yMax = math.Max(xMax, p.T), math.Max(yMax, p.V)
		}
	}
	xStep, xMax := niceAxis(math.Max(xMax, 1))
	yStep, yMax := niceAxis(math.Max(yMax, 0.1))
	labels := make([]string, len(series))
	for i, s := range series {
		labels[i] = s.Label
		if n := len(s.Points); n > 0 {
			labels[i] += fmt.Sprintf(": %.3f", s.Points[n-1].V)
		}
	}
	chartW := int(math.Ceil(marginL + plotW + legendWidth(labels)))
	chartH := int(math.Max(marginT+plotH+marginB, marginT+10+legendRow*float64(len(series))+12))
	x := func(v float64) float64 { return marginL + v/xMax*plotW }
	y := func(v float64) float64 { return marginT + plotH - v/yMax*plotH }

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartW, chartH)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", marginL, esc(title))
	for v := 0.0; v <= yMax+yStep/2; v += yStep {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", x(0), y(v), x(xMax), y(v))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", x(0)-6, y(v)+4, trimFloat(v))
	}
	for v := 0.0; v <= xMax+xStep/2; v += xStep {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", x(v), y(0), x(v), y(yMax))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x(v), y(0)+18, trimFloat(v))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#555"/>`+"\n", marginL, marginT, plotW, plotH)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", marginL+plotW/2, marginT+plotH+marginB-12, esc(xLabel))
	fmt.Fprintf(&b, `<text transform="translate(16 %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", marginT+plotH/2, esc(yLabel))
	for i, s := range series {
		color := palette[i%len(palette)]
		if len(s.Points) > 0 {
			// Earlier lines are wider, so that equal shares stay visible.
			width := 2 + 1.5*float64(len(series)-1-i)
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="%.1f" stroke-linejoin="round" points="%s"/>`+"\n",
				color, width, stepPoints(s.Points, x, y))
		}
		ly := float64(marginT+10) + legendRow*float64(i)
		lx := marginL + plotW + 16
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="4"/>`+"\n", lx, ly, lx+22, ly, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", lx+30, ly+4, esc(labels[i]))
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// stepPoints renders points as a step line: a value holds until the next sample.
func stepPoints(ps []Point, x, y func(float64) float64) string {
	var parts []string
	for i, p := range ps {
		if i > 0 {
			parts = append(parts, fmt.Sprintf("%.1f,%.1f", x(p.T), y(ps[i-1].V)))
		}
		parts = append(parts, fmt.Sprintf("%.1f,%.1f", x(p.T), y(p.V)))
	}
	return strings.Join(parts, " ")
}

// niceAxis returns a tick step of 1, 2 or 5 × 10^k giving at most about
// six ticks, and the axis maximum rounded up to a whole step.
func niceAxis(max float64) (step, top float64) {
	raw := max / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	return step, math.Ceil(max/step-1e-9) * step
}

// trimFloat renders a tick value without trailing zeros.
func trimFloat(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
