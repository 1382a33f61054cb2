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
	resp     *http.Response
	endpoint string
	streamID string
	idc      chan string // the framework ID, once SUBSCRIBED arrives
	id       string
	Offers   chan RawOffer
}

// RawOffer is what a test needs of an offer: agent, role and scalars.
type RawOffer struct {
	ID, AgentID, Hostname, Role string
	Scalars                     map[string]float64
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
	f := &RawFramework{resp: resp, endpoint: endpoint, streamID: resp.Header.Get("Mesos-Stream-Id"), idc: make(chan string, 1), Offers: make(chan RawOffer, 1024)}
	go f.read()
	select {
	case f.id = <-f.idc:
	case <-ctx.Done():
		resp.Body.Close()
		return nil, ctx.Err()
	}
	return f, nil
}

// call sends a call of the framework (JSON) and checks for 202.
func (f *RawFramework) call(ctx context.Context, body map[string]any) error {
	body["framework_id"] = map[string]string{"value": f.id}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.endpoint, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Mesos-Stream-Id", f.streamID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%v: %s: %s", body["type"], resp.Status, msg)
	}
	return nil
}

// Launch accepts an offer with one command task of the given size (cpus,
// mem in MB) in the offer's role; the rest of the offer goes back at once.
func (f *RawFramework) Launch(ctx context.Context, o RawOffer, taskID string, cpus, mem float64) error {
	alloc := map[string]string{"role": o.Role}
	scalar := func(name string, v float64) map[string]any {
		return map[string]any{"name": name, "type": "SCALAR", "scalar": map[string]float64{"value": v}, "allocation_info": alloc}
	}
	return f.call(ctx, map[string]any{"type": "ACCEPT", "accept": map[string]any{
		"offer_ids": []map[string]string{{"value": o.ID}},
		"operations": []map[string]any{{"type": "LAUNCH", "launch": map[string]any{"task_infos": []map[string]any{{
			"name": taskID, "task_id": map[string]string{"value": taskID}, "agent_id": map[string]string{"value": o.AgentID},
			"resources": []map[string]any{scalar("cpus", cpus), scalar("mem", mem)},
			"command":   map[string]any{"value": "sleep 3600"},
		}}}}},
		"filters": map[string]float64{"refuse_seconds": 0},
	}})
}

// Decline declines an offer with refuse_seconds.
func (f *RawFramework) Decline(ctx context.Context, o RawOffer, refuse float64) error {
	return f.call(ctx, map[string]any{"type": "DECLINE", "decline": map[string]any{
		"offer_ids": []map[string]string{{"value": o.ID}}, "filters": map[string]float64{"refuse_seconds": refuse},
	}})
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
			Type       string `json:"type"`
			Subscribed struct {
				FrameworkID struct{ Value string } `json:"framework_id"`
			} `json:"subscribed"`
			Offers struct {
				Offers []struct {
					ID             struct{ Value string } `json:"id"`
					AgentID        struct{ Value string } `json:"agent_id"`
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
		if json.Unmarshal(rec, &ev) != nil {
			continue
		}
		if ev.Type == "SUBSCRIBED" {
			select {
			case f.idc <- ev.Subscribed.FrameworkID.Value:
			default:
			}
		}
		if ev.Type != "OFFERS" {
			continue
		}
		for _, o := range ev.Offers.Offers {
			ro := RawOffer{ID: o.ID.Value, AgentID: o.AgentID.Value, Hostname: o.Hostname, Role: o.AllocationInfo.Role, Scalars: map[string]float64{}}
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
