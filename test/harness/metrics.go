package harness

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// ScrapeLines fetches a metrics URL and returns the lines that start with prefix.
func ScrapeLines(url, prefix string) ([]string, error) {
	resp, err := http.Get(url) //nolint:noctx // loopback test server
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out, nil
}

// ScrapeValue returns the value of one series, written as in the text
// exposition with labels in name order, e.g.
// kube_mesos_offers_total{event="made",role="a"}; a missing series is 0.
func ScrapeValue(url, series string) (float64, error) {
	lines, err := ScrapeLines(url, series+" ")
	if err != nil {
		return 0, err
	}
	if len(lines) == 0 {
		return 0, nil
	}
	return strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(lines[0], series)), 64)
}

// HistogramCount returns the _count of a histogram without labels.
func HistogramCount(url, name string) (float64, error) {
	return ScrapeValue(url, name+"_count")
}
