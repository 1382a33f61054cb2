// Package zkserver runs a real ZooKeeper server (Debian's zookeeper 3.8
// package) standalone on a free loopback port, for tests of Mesos master
// detection. It depends on nothing but the ZooKeeper client, so the
// emulator's unit tests can use it without linking a control plane;
// test/harness.StartZooKeeper is the same function for integration tests.
package zkserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Paths of Debian's zookeeper package (and of the slf4j binding it pulls in).
const (
	Jar      = "/usr/share/java/zookeeper.jar"
	SLF4JJar = "/usr/share/java/slf4j-simple.jar"
	// InstallHint is how to get the jar.
	InstallHint = "apt-get install -y --no-install-recommends zookeeper"
)

// startTimeout bounds the wait for the server to answer (it is ready in
// ~0.6 s on an idle machine; a JVM on a loaded 2-core machine is slower).
const startTimeout = 60 * time.Second

// TB is the part of testing.TB the server needs.
type TB interface {
	Helper()
	TempDir() string
	Cleanup(func())
	Logf(format string, args ...any)
}

// Start launches ZooKeeper standalone (Debian's zookeeper 3.8 package):
//
//	java -cp CONF_DIR:zookeeper.jar:slf4j-simple.jar org.apache.zookeeper.server.ZooKeeperServerMain CONF_DIR/zoo.cfg
//
// with clientPortAddress=127.0.0.1, admin.enableServer=false, a free port and
// the data directory in a temporary directory. It returns once a client got a
// session, with the server's "127.0.0.1:port" and a stop function (also
// registered with tb.Cleanup) that kills the server.
func Start(tb TB) (hostPort string, stop func(), err error) {
	tb.Helper()
	if _, err := os.Stat(Jar); err != nil {
		return "", nil, fmt.Errorf("ZooKeeper is not installed (%s: %v): %s", Jar, err, InstallHint)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return "", nil, fmt.Errorf("no java for ZooKeeper (%v): %s", err, InstallHint)
	}
	// The port is picked free and released before the JVM binds it; another
	// process may take it in between, so a server that exits is retried.
	for attempt := 1; ; attempt++ {
		hostPort, stop, exited, err := launch(tb, java)
		if err == nil {
			return hostPort, stop, nil
		}
		if !exited || attempt == 3 {
			return "", nil, err
		}
		tb.Logf("ZooKeeper exited at start (attempt %d), retrying on another port: %v", attempt, err)
	}
}

// launch starts one server; exited tells whether it died by itself.
func launch(tb TB, java string) (hostPort string, stop func(), exited bool, err error) {
	dir := tb.TempDir()
	port, err := freePort()
	if err != nil {
		return "", nil, false, err
	}
	hostPort = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cfg := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfg, []byte(zooCfg(filepath.Join(dir, "data"), port)), 0o600); err != nil {
		return "", nil, false, err
	}
	logPath := filepath.Join(dir, "zookeeper.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", nil, false, err
	}
	defer logFile.Close()
	cmd := exec.Command(java,
		"-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-cp", strings.Join([]string{dir, Jar, SLF4JJar}, string(os.PathListSeparator)),
		"org.apache.zookeeper.server.ZooKeeperServerMain", cfg)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return "", nil, false, fmt.Errorf("starting ZooKeeper: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill() // the server we started, by its pid
			<-done
		})
	}
	tb.Cleanup(stop)
	if err := waitReady(hostPort, done); err != nil {
		stop()
		select {
		case <-done:
			exited = true
		default:
		}
		return "", nil, exited, fmt.Errorf("ZooKeeper on %s: %w; log:\n%s", hostPort, err, tail(logPath, 20))
	}
	tb.Logf("ZooKeeper %s serving on %s (log %s)", Jar, hostPort, logPath)
	return hostPort, stop, false, nil
}

// zooCfg is a standalone server's configuration.
func zooCfg(dataDir string, port int) string {
	return fmt.Sprintf(`tickTime=2000
dataDir=%s
clientPort=%d
clientPortAddress=127.0.0.1
admin.enableServer=false
maxClientCnxns=0
`, dataDir, port)
}

// waitReady polls until a ZooKeeper client has a session and can read "/",
// or the server process ends.
func waitReady(hostPort string, exited <-chan struct{}) error {
	conn, _, err := zk.Connect([]string{hostPort}, 10*time.Second, zk.WithLogInfo(false), zk.WithLogger(quiet{}))
	if err != nil {
		return err
	}
	defer conn.Close()
	errExited := errors.New("the server exited")
	err = wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, startTimeout, true, func(context.Context) (bool, error) {
		select {
		case <-exited:
			return false, errExited
		default:
		}
		if conn.State() != zk.StateHasSession {
			return false, nil
		}
		_, _, err := conn.Exists("/")
		return err == nil, nil
	})
	if err != nil && !errors.Is(err, errExited) {
		return fmt.Errorf("no session after %v: %w", startTimeout, err)
	}
	return err
}

// quiet drops the client's connection-retry logs while the server starts.
type quiet struct{}

func (quiet) Printf(string, ...any) {}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
