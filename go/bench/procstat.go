package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc (USER_HZ): 100 per
// second on every Linux the project targets.
const clockTick = 10 * time.Millisecond

// processCPU is the user plus system CPU time pid has used so far, from
// /proc/<pid>/stat.
func processCPU(pid int) (time.Duration, error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	return ticks(f[11]) + ticks(f[12]), nil
}

// statFields returns the fields of /proc/<pid>/stat after the command
// name (which may hold spaces, so it is cut at its closing parenthesis).
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return nil, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return f, nil
}

func ticks(s string) time.Duration {
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.Duration(n) * clockTick
}

// childrenOf lists the processes whose parent is pid (nginx's workers).
func childrenOf(pid int) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	for _, d := range dirs {
		child, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if f, err := statFields(child); err == nil && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// cpuOf sums processCPU over pids; a process that is gone counts 0.
func cpuOf(pids []int) time.Duration {
	var sum time.Duration
	for _, p := range pids {
		if d, err := processCPU(p); err == nil {
			sum += d
		}
	}
	return sum
}

// machineBusy is the CPU time all cores spent outside idle and iowait so
// far, from the first line of /proc/stat.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected format")
	}
	// user nice system idle iowait irq softirq steal
	var busy time.Duration
	for i, v := range f[1:9] {
		if i != 3 && i != 4 {
			busy += ticks(v)
		}
	}
	return busy, nil
}
