package mesosemulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// zkRegistration is the master's ZooKeeper membership.
type zkRegistration struct {
	conn    *zk.Conn
	servers []string
	path    string
	znode   string
	stop    chan struct{}
	wg      sync.WaitGroup
}

// close ends the ZooKeeper session (the ephemeral znode disappears).
func (z *zkRegistration) close() {
	close(z.stop)
	z.conn.Close()
	z.wg.Wait()
}

// zkInfoPrefix is the znode name prefix a Mesos master uses.
const zkInfoPrefix = "json.info_"

// RegisterInZooKeeper joins leader election like a real master: it creates
// the ephemeral sequential znode <path>/json.info_<seq> holding this master's
// MasterInfo as JSON (keys in alphabetical order) and from then on follows
// the election: the znode with the lowest sequence is the leader, every other
// master answers 307 pointing at it. It returns the created znode path.
func (m *Master) RegisterInZooKeeper(servers []string, path string) (string, error) {
	conn, _, err := zk.Connect(servers, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		return "", err
	}
	if err := ensurePath(conn, path); err != nil {
		conn.Close()
		return "", err
	}
	m.mu.Lock()
	data, err := zkMasterInfo(marshalJSON(m.masterInfo()))
	m.mu.Unlock()
	if err != nil {
		conn.Close()
		return "", err
	}
	znode, err := conn.Create(path+"/"+zkInfoPrefix, data, zk.FlagEphemeral|zk.FlagSequence, zk.WorldACL(zk.PermAll))
	if err != nil {
		conn.Close()
		return "", err
	}
	z := &zkRegistration{conn: conn, servers: servers, path: path, znode: znode, stop: make(chan struct{})}
	m.mu.Lock()
	if m.closed { // closed meanwhile (a lingering TakeOver's rejoin)
		m.mu.Unlock()
		conn.Close()
		return "", fmt.Errorf("master %s is closed", m.id)
	}
	old := m.zk
	m.zk = z
	m.mu.Unlock()
	if old != nil {
		old.close()
	}
	z.wg.Add(1)
	go func() { defer z.wg.Done(); m.followElection(z, path) }()
	return znode, nil
}

// LeaveZooKeeper closes the ZooKeeper session: the znode is deleted and
// another master takes over. This master keeps its current leadership
// setting (use SetLeader to change it).
func (m *Master) LeaveZooKeeper() {
	m.mu.Lock()
	z := m.zk
	m.zk = nil
	m.mu.Unlock()
	if z != nil {
		z.close()
	}
}

// ensurePath creates the persistent parents of path.
func ensurePath(conn *zk.Conn, path string) error {
	cur := ""
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		cur += "/" + part
		_, err := conn.Create(cur, nil, 0, zk.WorldACL(zk.PermAll))
		if err != nil && err != zk.ErrNodeExists {
			return fmt.Errorf("create %s: %w", cur, err)
		}
	}
	return nil
}

// zkMasterInfo re-encodes MasterInfo JSON with keys in alphabetical order.
func zkMasterInfo(info []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(info))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v) // maps marshal with sorted keys
}

// followElection watches the election znodes and updates leadership.
func (m *Master) followElection(z *zkRegistration, path string) {
	current := ""
	for {
		children, _, ch, err := z.conn.ChildrenW(path)
		if err == nil {
			if leader := lowestInfo(children); leader != "" && leader != current {
				current = leader
				m.applyElection(z, path, leader)
			}
		}
		if err != nil {
			ch = nil
		}
		select {
		case <-z.stop:
			return
		case <-ch:
		case <-time.After(time.Second):
		}
	}
}

// applyElection makes this master leader or follower of the given znode.
func (m *Master) applyElection(z *zkRegistration, path, leader string) {
	if path+"/"+leader == z.znode {
		m.SetLeader(true, "")
		return
	}
	data, _, err := z.conn.Get(path + "/" + leader)
	if err != nil {
		return
	}
	var info struct {
		Hostname string `json:"hostname"`
		Port     int    `json:"port"`
	}
	if json.Unmarshal(data, &info) == nil {
		m.SetLeader(false, fmt.Sprintf("%s:%d", info.Hostname, info.Port))
	}
}

// lowestInfo returns the json.info_ child with the lowest sequence number.
func lowestInfo(children []string) string {
	var infos []string
	for _, c := range children {
		if strings.HasPrefix(c, zkInfoPrefix) {
			infos = append(infos, c)
		}
	}
	if len(infos) == 0 {
		return ""
	}
	sort.Strings(infos) // sequence numbers are zero-padded to 10 digits
	return infos[0]
}
