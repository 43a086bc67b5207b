package e2e

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startOnSmallDisk starts a bootstrapped agent whose data dir is on a
// tmpfs of sizeMiB, mounted in a mount namespace of the agent's own
// (unshare: as root or in a user namespace, no privilege needed). The
// test reaches the tmpfs through /proc/<pid>/root; it returns the agent
// and that path of the tmpfs.
func startOnSmallDisk(t *testing.T, sizeMiB int) (*agentProc, string) {
	t.Helper()
	mnt := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(mnt, "data")
	args, httpPort := agentArgs(t, dataDir)
	script := `mount -t tmpfs -o size=` + itoa(sizeMiB) + `m tmpfs "$0" && exec "$@"`
	cmd := exec.Command("unshare", append([]string{"--user", "--map-root-user", "--mount", "sh", "-c", script, mnt, consulBin}, args...)...)
	a := spawnCmd(t, cmd, httpPort, "")
	a.waitForLeader()
	return a, filepath.Join("/proc", strconv.Itoa(a.PID()), "root", mnt)
}

// freeBytes is the space left on the file system holding path.
func freeBytes(t *testing.T, path string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// fillDisk writes a file into dir that leaves about leave bytes free.
func fillDisk(t *testing.T, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for freeBytes(t, dir) > leave+int64(len(chunk)) {
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// put sends a PUT and returns its status, its body and how long it took.
func put(t *testing.T, url string, body []byte) (int, string, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest("PUT", url, bytes.NewReader(body))
	start := time.Now()
	status, answer := send(t, req)
	return status, string(answer), time.Since(start)
}

// TestDiskFullRefusesWritesAndServesReads: when the disk holding Raft's
// data fills up, writes and restores get 507 at once, the leader stays leader, reads
// (default and consistent) go on, the log says so once and not per
// write, and once space is freed writes work again with nothing lost.
func TestDiskFullRefusesWritesAndServesReads(t *testing.T) {
	a, disk := startOnSmallDisk(t, 160)
	value := bytes.Repeat([]byte("v"), 4096)
	for i := 0; i < 20; i++ {
		if code, body, _ := put(t, a.URL("/v1/kv/before/"+itoa(i)), value); code != 200 {
			t.Fatalf("write %d on an empty disk: %d %s", i, code, body)
		}
	}

	archive, _ := saveArchive(t, a.client())
	logBefore := len(a.Output())
	filler := fillDisk(t, disk, 1<<20)
	t.Logf("free on the agent's disk: %d bytes", freeBytes(t, disk))
	var slowest time.Duration
	for i := 0; i < 50; i++ {
		url, body := a.URL("/v1/kv/full/"+itoa(i)), value
		if i%2 == 1 {
			url, body = a.URL("/v1/txn"), []byte(`[{"KV":{"Verb":"set","Key":"full/txn","Value":"eA=="}}]`)
		}
		code, answer, took := put(t, url, body)
		if code != http.StatusInsufficientStorage || !strings.Contains(answer, "no space left on device") {
			t.Fatalf("write %d on a full disk: %d %q, want 507 no space left on device", i, code, answer)
		}
		slowest = max(slowest, took)
	}
	t.Logf("slowest refused write: %v", slowest)

	// A restore must stage its dump first: it does not fit either.
	if code, answer := putSnapshot(t, a, archive); code != http.StatusInsufficientStorage || !strings.Contains(answer, "not enough disk space") {
		t.Fatalf("restore on a full disk: %d %q, want 507 not enough disk space", code, answer)
	}
	c := a.client()
	for _, q := range []string{"", "?consistent"} {
		resp, err := http.Get(a.URL("/v1/kv/before/3" + q))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Consul-KnownLeader") != "true" {
			t.Fatalf("read%s on a full disk: %d, known leader %q", q, resp.StatusCode, resp.Header.Get("X-Consul-KnownLeader"))
		}
	}
	if leader, err := c.Status().Leader(); err != nil || leader == "" {
		t.Fatalf("leader on a full disk: %q %v", leader, err)
	}
	log := a.Output()[logBefore:]
	if n := strings.Count(log, "refusing writes"); n != 1 {
		t.Errorf("the log says %d times that writes are refused, want once:\n%s", n, log)
	}
	if strings.Contains(log, "failed to commit logs") || strings.Contains(log, "entering follower state") {
		t.Errorf("a write reached Raft on a full disk:\n%s", log)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := put(t, a.URL("/v1/kv/after"), value); code != 200 {
		t.Fatalf("write once space is back: %d %s", code, body)
	}
	keys, _, err := c.KV().Keys("", "", nil)
	if err != nil || len(keys) != 21 {
		t.Fatalf("keys after the disk was full: %d %v, want the 20 written before and 1 after", len(keys), err)
	}
}
