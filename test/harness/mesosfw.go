package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// RawFramework is a second Mesos framework for tests, speaking the v1
// scheduler API in JSON with nothing but net/http: it subscribes and
// collects the offers it gets, so tests can check what another framework
// on the same master is offered.
type RawFramework struct {
	resp   *http.Response
	Offers chan RawOffer
}

// RawOffer is what a test needs of an offer: agent, role and scalars.
type RawOffer struct {
	ID, Hostname, Role string
	Scalars            map[string]float64
}

// SubscribeRawFramework subscribes a framework with the given roles to the
// master's scheduler endpoint ("http://host:port/api/v1/scheduler").
func SubscribeRawFramework(ctx context.Context, endpoint, name string, roles []string, gpus bool) (*RawFramework, error) {
	caps := []map[string]string{{"type": "MULTI_ROLE"}}
	if gpus {
		caps = append(caps, map[string]string{"type": "GPU_RESOURCES"})
	}
	body, _ := json.Marshal(map[string]any{"type": "SUBSCRIBE", "subscribe": map[string]any{
		"framework_info": map[string]any{"user": "root", "name": name, "roles": roles, "capabilities": caps},
	}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("SUBSCRIBE: %s", resp.Status)
	}
	f := &RawFramework{resp: resp, Offers: make(chan RawOffer, 1024)}
	go f.read()
	return f, nil
}

// Close ends the subscription.
func (f *RawFramework) Close() { f.resp.Body.Close() }

// read decodes RecordIO records ("<length>\n<json>") and forwards offers.
func (f *RawFramework) read() {
	defer close(f.Offers)
	r := bufio.NewReader(f.resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			return
		}
		rec := make([]byte, n)
		if _, err := io.ReadFull(r, rec); err != nil {
			return
		}
		var ev struct {
			Type   string `json:"type"`
			Offers struct {
				Offers []struct {
					ID             struct{ Value string } `json:"id"`
					Hostname       string                 `json:"hostname"`
					AllocationInfo struct{ Role string }  `json:"allocation_info"`
					Resources      []struct {
						Name   string `json:"name"`
						Scalar struct {
							Value float64 `json:"value"`
						} `json:"scalar"`
					} `json:"resources"`
				} `json:"offers"`
			} `json:"offers"`
		}
		if json.Unmarshal(rec, &ev) != nil || ev.Type != "OFFERS" {
			continue
		}
		for _, o := range ev.Offers.Offers {
			ro := RawOffer{ID: o.ID.Value, Hostname: o.Hostname, Role: o.AllocationInfo.Role, Scalars: map[string]float64{}}
			for _, res := range o.Resources {
				ro.Scalars[res.Name] += res.Scalar.Value
			}
			select {
			case f.Offers <- ro:
			default:
			}
		}
	}
}
