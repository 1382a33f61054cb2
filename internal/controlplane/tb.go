package controlplane

import (
	"fmt"
	"os"
	"sync"

	"k8s.io/klog/v2"
)

// ProcessTB lets the control plane, which the Kubernetes test helpers start
// with a testing.TB, run in a plain program (the demo and the simulator).
// Fatal panics with a fatalError that Start recovers into an error; Cleanup
// functions run, last first, when Close is called.
type ProcessTB struct {
	name     string
	mu       sync.Mutex
	cleanups []func()
	failed   bool
	tempDirs []string
}

// fatalError carries a Fatal call out of the helpers.
type fatalError struct{ msg string }

// NewProcessTB returns a TB for a program.
func NewProcessTB(name string) *ProcessTB { return &ProcessTB{name: name} }

// Close runs the cleanups and removes the temporary directories.
func (p *ProcessTB) Close() {
	p.mu.Lock()
	cleanups := p.cleanups
	p.cleanups = nil
	dirs := p.tempDirs
	p.tempDirs = nil
	p.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
}

func (p *ProcessTB) Attr(string, string) {}
func (p *ProcessTB) Chdir(dir string)    { _ = os.Chdir(dir) }
func (p *ProcessTB) Cleanup(f func())    { p.mu.Lock(); p.cleanups = append(p.cleanups, f); p.mu.Unlock() }
func (p *ProcessTB) Error(args ...any)   { p.Fail(); klog.Error(args...) }
func (p *ProcessTB) Errorf(f string, a ...any) {
	p.Fail()
	klog.Errorf(f, a...)
}
func (p *ProcessTB) Fail()                     { p.mu.Lock(); p.failed = true; p.mu.Unlock() }
func (p *ProcessTB) FailNow()                  { p.Fail(); panic(fatalError{"FailNow"}) }
func (p *ProcessTB) Failed() bool              { p.mu.Lock(); defer p.mu.Unlock(); return p.failed }
func (p *ProcessTB) Fatal(args ...any)         { p.Fail(); panic(fatalError{fmt.Sprint(args...)}) }
func (p *ProcessTB) Fatalf(f string, a ...any) { p.Fail(); panic(fatalError{fmt.Sprintf(f, a...)}) }
func (p *ProcessTB) Helper()                   {}
func (p *ProcessTB) Log(args ...any)           { klog.V(4).Info(fmt.Sprint(args...)) }
func (p *ProcessTB) Logf(f string, a ...any)   { klog.V(4).Infof(f, a...) }
func (p *ProcessTB) Name() string              { return p.name }
func (p *ProcessTB) Setenv(key, value string)  { _ = os.Setenv(key, value) }
func (p *ProcessTB) Skip(args ...any)          { p.Fatal(args...) }
func (p *ProcessTB) Skipf(f string, a ...any)  { p.Fatalf(f, a...) }
func (p *ProcessTB) SkipNow()                  { p.FailNow() }
func (p *ProcessTB) Skipped() bool             { return false }
func (p *ProcessTB) TempDir() string {
	d, err := os.MkdirTemp("", "kms-")
	if err != nil {
		p.Fatal(err)
	}
	p.mu.Lock()
	p.tempDirs = append(p.tempDirs, d)
	p.mu.Unlock()
	return d
}

// recoverFatal turns a fatalError panic into an error.
func recoverFatal(err *error) {
	if r := recover(); r != nil {
		f, ok := r.(fatalError)
		if !ok {
			panic(r)
		}
		*err = fmt.Errorf("%s", f.msg)
	}
}
