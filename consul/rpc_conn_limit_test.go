package consul

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/consulcompat/consul/internal/testutil"
)

// loopback is the IP every server of a test cluster connects from.
var loopback = net.IPv4(127, 0, 0, 1)

// inboundFrom is how many connections from ip hold a slot of s's limit.
func inboundFrom(s *Server, ip net.IP) int {
	return s.inboundLimit.limiter.NumOpen(&net.TCPAddr{IP: ip})
}

// peakInbound samples how many connections from loopback each server
// holds until stop is closed, and returns the highest count seen on any.
func peakInbound(servers []*Server, stop <-chan struct{}) <-chan int {
	out := make(chan int, 1)
	go func() {
		peak := 0
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, s := range servers {
				peak = max(peak, inboundFrom(s, loopback))
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// TestClusterServerConnsStayFarBelowTheLimit counts the connections the
// servers of a cluster on one IP open to each other, through forwarded
// writes from many goroutines, a save and a restore through a follower,
// and a server restarted after it missed writes: they are a small
// fraction of rpc_max_conns_per_client's default of 100, so servers never
// refuse each other.
func TestClusterServerConnsStayFarBelowTheLimit(t *testing.T) {
	c, servers := formedCluster(t, 3)
	leader, follower := servers[0], servers[1]
	stop := make(chan struct{})
	peak := peakInbound([]*Server{leader, follower}, stop)

	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				kvPut(t, servers[1+i%2], fmt.Sprintf("w/%d/%d", g, i), "v")
			}
		}()
	}
	wg.Wait()
	archive, _ := save(t, follower, false)
	if err := restore(follower, archive); err != nil {
		t.Fatal(err)
	}
	down := c.indexOf(servers[2])
	c.stop(down)
	for i := 0; i < 50; i++ {
		kvPut(t, leader, fmt.Sprintf("missed/%d", i), "v")
	}
	back := c.start(down)
	testutil.Retry(t, 15*time.Second, "the restarted server catches up", hasValue(back, "missed/49", "v"))
	close(stop)

	got := <-peak
	t.Logf("peak connections from the other servers: %d", got)
	if limit := DefaultConfig().RPCMaxConnsPerClient; got > limit/4 {
		t.Fatalf("servers held %d connections from one another, more than a quarter of the default limit %d", got, limit)
	}
}
