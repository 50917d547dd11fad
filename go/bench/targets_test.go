package bench

import (
	"syscall"
	"testing"
	"time"
)

// TestStopKillsTheChildren starts a shell that forks a child (as nginx's
// master forks workers) and checks that stop leaves neither running.
func TestStopKillsTheChildren(t *testing.T) {
	cmd := command("sh", "-c", "sleep 300 & wait")
	if err := cmd.Start(); err != nil {
		t.Skipf("no shell: %v", err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) }) // should stop fail
	p := &proc{name: "sh", cmd: cmd}
	var kids []int
	waitFor(t, func() bool { kids = childrenOf(cmd.Process.Pid); return len(kids) == 1 })
	p.stop()
	waitFor(t, func() bool { return !running(kids[0]) })
}

// running reports whether pid is a live process (not gone, not a zombie).
func running(pid int) bool {
	f, err := statFields(pid)
	return err == nil && f[0] != "Z"
}

// waitFor waits up to a generous deadline for cond.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
	}
}
