package agentproc

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// RSS is a resident set size in KiB, as /proc/<pid>/status splits it.
type RSS struct {
	// Total is VmRSS, the sum of Anon, File and shared memory.
	Total int64
	// Anon is RssAnon: the heap and the stacks.
	Anon int64
	// File is RssFile: pages of mapped files, such as the binary and the
	// BoltDB file of the Raft log, which grows and shrinks with the log.
	File int64
	// Peak is VmHWM, the highest Total since the process started or
	// since ResetPeakRSS.
	Peak int64
}

// RSS reads the process's resident set size; it fails once the process
// has ended, or where there is no /proc.
func (p *Process) RSS() (RSS, error) {
	v, err := p.procValues("status", "VmRSS", "RssAnon", "RssFile", "VmHWM")
	if err != nil {
		return RSS{}, err
	}
	return RSS{Total: v["VmRSS"], Anon: v["RssAnon"], File: v["RssFile"], Peak: v["VmHWM"]}, nil
}

// ResetPeakRSS makes RSS's Peak start again from the current Total.
func (p *Process) ResetPeakRSS() error {
	return os.WriteFile(p.procPath("clear_refs"), []byte("5"), 0)
}

// DiskWritten is the number of bytes the process has caused to be
// written to storage (write_bytes in /proc/<pid>/io).
func (p *Process) DiskWritten() (int64, error) {
	v, err := p.procValues("io", "write_bytes")
	return v["write_bytes"], err
}

func (p *Process) procPath(name string) string {
	return fmt.Sprintf("/proc/%d/%s", p.PID(), name)
}

// procValues reads the `key: number [unit]` lines of /proc/<pid>/name;
// it fails unless each of want is there.
func (p *Process) procValues(name string, want ...string) (map[string]int64, error) {
	select {
	case <-p.exited:
		// Its id may be another's by now.
		return nil, errors.New("the process has ended")
	default:
	}
	buf, err := os.ReadFile(p.procPath(name))
	if err != nil {
		return nil, err
	}
	values := make(map[string]int64)
	for _, line := range strings.Split(string(buf), "\n") {
		key, rest, ok := strings.Cut(line, ":")
		if f := strings.Fields(rest); ok && len(f) > 0 {
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				values[key] = n
			}
		}
	}
	for _, w := range want {
		if _, ok := values[w]; !ok {
			return nil, fmt.Errorf("no %s in %s", w, p.procPath(name))
		}
	}
	return values, nil
}
