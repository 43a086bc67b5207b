package consul

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// machineMemory is the memory this process may use, in bytes: the
// machine's (MemTotal in /proc/meminfo) or, if lower, its cgroup's limit,
// and which of the two it is. root is "/" but in tests. It is 0 where
// neither can be read, as on systems other than Linux.
func machineMemory(root string) (n int64, cgroup bool) {
	total := memTotal(filepath.Join(root, "proc/meminfo"))
	if limit := cgroupMemoryLimit(root); limit > 0 && (total == 0 || limit < total) {
		return limit, true
	}
	return total, false
}

// memTotal reads MemTotal from a /proc/meminfo; 0 if it cannot.
func memTotal(file string) int64 {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if f := strings.Fields(rest); ok && len(f) == 2 && f[1] == "kB" {
			if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// cgroupMemoryLimit is the lowest memory limit on this process's cgroup
// or any cgroup above it, since each of them binds: cgroup v2's
// memory.max and v1's memory.limit_in_bytes, where systemd and container
// runtimes mount them. 0 if there is none.
//
// A process in a container without its own cgroup namespace sees its
// host-side cgroup path, while the container mounts its own cgroup at the
// root of the hierarchy: the walk up to the root finds the limit there.
func cgroupMemoryLimit(root string) int64 {
	data, err := os.ReadFile(filepath.Join(root, "proc/self/cgroup"))
	if err != nil {
		return 0
	}
	var lowest int64
	for _, line := range strings.Split(string(data), "\n") {
		// hierarchy-ID:controllers:path
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		var dir, file string
		switch {
		case f[0] == "0" && f[1] == "":
			dir, file = "sys/fs/cgroup", "memory.max"
		case slices.Contains(strings.Split(f[1], ","), "memory"):
			dir, file = "sys/fs/cgroup/memory", "memory.limit_in_bytes"
		default:
			continue
		}
		for p := path.Clean("/" + f[2]); ; p = path.Dir(p) {
			if n := readCgroupLimit(filepath.Join(root, dir, p, file)); n > 0 && (lowest == 0 || n < lowest) {
				lowest = n
			}
			if p == "/" {
				break
			}
		}
	}
	return lowest
}

// readCgroupLimit reads a limit in bytes; 0 for none ("max" in v2) or
// if the file cannot be read. v1's "no limit" is a huge number, which
// the machine's own memory undercuts.
func readCgroupLimit(file string) int64 {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0
	}
	return n
}
