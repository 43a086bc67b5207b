package consul

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMachineMemory reads the memory a process may use from a made-up
// /proc and /sys/fs/cgroup: the machine's, or its cgroup's limit when
// lower, the lowest along the cgroup's path, for cgroup v2 and v1.
func TestMachineMemory(t *testing.T) {
	const gib = 1 << 30
	meminfo := "MemTotal:       25165824 kB\nMemFree:        1000 kB\n" // 24 GiB
	for _, tc := range []struct {
		name   string
		files  map[string]string
		want   int64
		cgroup bool
	}{
		{"no cgroup", map[string]string{"proc/meminfo": meminfo}, 24 * gib, false},
		{"v2, no limit", map[string]string{
			"proc/meminfo": meminfo, "proc/self/cgroup": "0::/system.slice/consul.service\n",
			"sys/fs/cgroup/system.slice/consul.service/memory.max": "max\n",
		}, 24 * gib, false},
		{"v2, a limit on a parent", map[string]string{
			"proc/meminfo": meminfo, "proc/self/cgroup": "0::/kubepods/pod1/c1\n",
			"sys/fs/cgroup/kubepods/pod1/c1/memory.max": "max\n",
			"sys/fs/cgroup/kubepods/pod1/memory.max":    "3221225472\n",
			"sys/fs/cgroup/kubepods/memory.max":         "8589934592\n",
		}, 3 * gib, true},
		{"v2, in its own cgroup namespace", map[string]string{
			"proc/meminfo": meminfo, "proc/self/cgroup": "0::/\n",
			"sys/fs/cgroup/memory.max": "3221225472\n",
		}, 3 * gib, true},
		{"v1, limited", map[string]string{
			"proc/meminfo": meminfo, "proc/self/cgroup": "12:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n",
			"sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "3221225472\n",
		}, 3 * gib, true},
		{"v1, host path not mounted in the container", map[string]string{
			"proc/meminfo": meminfo, "proc/self/cgroup": "4:memory:/docker/abc\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "2147483648\n",
		}, 2 * gib, true},
		{"v1, unlimited", map[string]string{
			"proc/meminfo": meminfo, "proc/self/cgroup": "4:memory:/user.slice\n",
			"sys/fs/cgroup/memory/user.slice/memory.limit_in_bytes": "9223372036854771712\n",
		}, 24 * gib, false},
		{"a limit above the machine's memory", map[string]string{
			"proc/meminfo": meminfo, "proc/self/cgroup": "0::/big\n",
			"sys/fs/cgroup/big/memory.max": "68719476736\n",
		}, 24 * gib, false},
		{"nothing to read", map[string]string{}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, data := range tc.files {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if n, cgroup := machineMemory(root); n != tc.want || cgroup != tc.cgroup {
				t.Fatalf("got %d bytes (cgroup %v), want %d (cgroup %v)", n, cgroup, tc.want, tc.cgroup)
			}
		})
	}
}
