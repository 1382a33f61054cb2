package mesos

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"k8s.io/klog/v2"
)

// zkSessionTimeout is the ZooKeeper session timeout (the Mesos masters' own
// default is 10 s).
const zkSessionTimeout = 10 * time.Second

// zkFinder reads the leading master from ZooKeeper, as Mesos' own detector
// does: the masters hold ephemeral sequential znodes "<path>/json.info_<seq>"
// with their MasterInfo in JSON; the lowest sequence leads. The children are
// watched, so a leader change is signalled at once.
type zkFinder struct {
	conn    *zk.Conn
	path    string
	changed chan struct{}
	scheme  string

	mu     sync.Mutex
	leader string
}

// newZKFinder connects to "h1:2181,h2:2181/mesos" and starts watching.
func newZKFinder(ctx context.Context, spec string) (*zkFinder, error) {
	hosts, path, ok := strings.Cut(spec, "/")
	if !ok || path == "" {
		return nil, fmt.Errorf("zk://%s: no znode path", spec)
	}
	conn, _, err := zk.Connect(strings.Split(hosts, ","), zkSessionTimeout, zk.WithLogInfo(false))
	if err != nil {
		return nil, fmt.Errorf("connecting to ZooKeeper %s: %w", hosts, err)
	}
	f := &zkFinder{conn: conn, path: "/" + path, changed: make(chan struct{}, 1), scheme: "http"}
	go f.watch(ctx)
	return f, nil
}

func (f *zkFinder) Changed() <-chan struct{} { return f.changed }

// Leader returns the current leader, reading ZooKeeper if none is known yet.
func (f *zkFinder) Leader(context.Context) (string, error) {
	f.mu.Lock()
	l := f.leader
	f.mu.Unlock()
	if l != "" {
		return l, nil
	}
	l, _, err := f.read()
	if err != nil {
		return "", err
	}
	f.set(l)
	return l, nil
}

// watch re-reads the leader whenever the children of the path change.
func (f *zkFinder) watch(ctx context.Context) {
	logger := klog.FromContext(ctx).WithName("zk")
	defer f.conn.Close()
	for ctx.Err() == nil {
		leader, events, err := f.read()
		if err != nil {
			logger.V(2).Info("Reading the leading master from ZooKeeper", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		if f.set(leader) {
			logger.V(2).Info("Leading master", "master", leader)
		}
		select {
		case <-ctx.Done():
			return
		case <-events:
		}
	}
}

// set records the leader and signals a change; it reports whether it changed.
func (f *zkFinder) set(leader string) bool {
	f.mu.Lock()
	changed := leader != f.leader
	f.leader = leader
	f.mu.Unlock()
	if changed {
		select {
		case f.changed <- struct{}{}:
		default:
		}
	}
	return changed
}

// read lists the json.info_ znodes, reads the one of lowest sequence, and
// returns the leader's endpoint with a watch on the children.
func (f *zkFinder) read() (string, <-chan zk.Event, error) {
	children, _, events, err := f.conn.ChildrenW(f.path)
	if err != nil {
		return "", nil, fmt.Errorf("listing %s: %w", f.path, err)
	}
	var infos []string
	for _, c := range children {
		if strings.HasPrefix(c, "json.info_") {
			infos = append(infos, c)
		}
	}
	if len(infos) == 0 {
		return "", events, fmt.Errorf("no master in %s", f.path)
	}
	sort.Slice(infos, func(i, j int) bool { return seq(infos[i]) < seq(infos[j]) })
	data, _, err := f.conn.Get(f.path + "/" + infos[0])
	if err != nil {
		return "", events, fmt.Errorf("reading %s/%s: %w", f.path, infos[0], err)
	}
	var info struct {
		Hostname string `json:"hostname"`
		Port     int    `json:"port"`
		Address  struct {
			Hostname string `json:"hostname"`
			IP       string `json:"ip"`
			Port     int    `json:"port"`
		} `json:"address"`
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return "", events, fmt.Errorf("%s/%s is not a MasterInfo: %w", f.path, infos[0], err)
	}
	host, port := info.Address.Hostname, info.Address.Port
	if host == "" {
		host = info.Address.IP
	}
	if host == "" {
		host = info.Hostname
	}
	if port == 0 {
		port = info.Port
	}
	if host == "" || port == 0 {
		return "", events, fmt.Errorf("%s/%s names no address", f.path, infos[0])
	}
	return f.scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)), events, nil
}

// seq returns the sequence number of a sequential znode name.
func seq(name string) int64 {
	n, _ := strconv.ParseInt(name[strings.LastIndex(name, "_")+1:], 10, 64)
	return n
}
