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

// newZKFinder connects to "h1:2181,h2:2181/mesos" and starts watching;
// the leader's endpoint gets the given scheme.
func newZKFinder(ctx context.Context, spec, scheme string) (*zkFinder, error) {
	hosts, path, ok := strings.Cut(spec, "/")
	if !ok || path == "" {
		return nil, fmt.Errorf("zk://%s: no znode path", spec)
	}
	logger := klog.FromContext(ctx).WithName("zk")
	conn, _, err := zk.Connect(strings.Split(hosts, ","), zkSessionTimeout, zk.WithLogInfo(false), zk.WithLogger(zkLogger{logger}))
	if err != nil {
		return nil, fmt.Errorf("connecting to ZooKeeper %s: %w", hosts, err)
	}
	f := &zkFinder{conn: conn, path: "/" + path, changed: make(chan struct{}, 1), scheme: scheme}
	go f.watch(ctx, logger)
	return f, nil
}

// Changed is signalled when the leader changed since Leader last returned.
func (f *zkFinder) Changed() <-chan struct{} { return f.changed }

// Leader returns the current leader, reading ZooKeeper if none is known yet.
// A pending change signal is consumed: the caller now knows the leader, and
// a stale signal would end the subscription it is about to make to it.
func (f *zkFinder) Leader(context.Context) (string, error) {
	f.mu.Lock()
	l := f.leader
	f.drainLocked()
	f.mu.Unlock()
	if l != "" {
		return l, nil
	}
	l, _, err := f.read()
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	if f.leader == "" {
		f.leader = l
	}
	l = f.leader
	f.drainLocked()
	f.mu.Unlock()
	return l, nil
}

// watch re-reads the leader whenever the children of the path change (or,
// when reading failed, at the latest after a second).
func (f *zkFinder) watch(ctx context.Context, logger klog.Logger) {
	defer f.conn.Close()
	for ctx.Err() == nil {
		leader, events, err := f.read()
		if err != nil {
			logger.V(2).Info("Reading the leading master from ZooKeeper", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-events: // nil when the path could not be watched
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
	defer f.mu.Unlock()
	changed := leader != f.leader
	f.leader = leader
	if changed {
		select {
		case f.changed <- struct{}{}:
		default:
		}
	}
	return changed
}

// drainLocked consumes a pending change signal.
func (f *zkFinder) drainLocked() {
	select {
	case <-f.changed:
	default:
	}
}

// zkLogger sends the ZooKeeper client's messages (connection attempts,
// reconnections) to klog at V(4).
type zkLogger struct{ logger klog.Logger }

func (l zkLogger) Printf(format string, args ...any) {
	l.logger.V(4).Info(fmt.Sprintf(format, args...))
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
