package consul

import (
	"fmt"
	"math"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/consulcompat/consul/structs"
)

// kvInput is one operation of the linearizability history.
type kvInput struct {
	put   bool
	key   string
	value string
}

// kvModel is a register per key: a put sets it, a get must see it.
var kvModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(kvInput).key
			byKey[k] = append(byKey[k], op)
		}
		var parts [][]porcupine.Operation
		for _, ops := range byKey {
			parts = append(parts, ops)
		}
		return parts
	},
	Init: func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		in := input.(kvInput)
		if in.put {
			return true, in.value
		}
		return output.(string) == state.(string), state
	},
	DescribeOperation: func(input, output interface{}) string {
		in := input.(kvInput)
		if in.put {
			return fmt.Sprintf("put(%s, %s)", in.key, in.value)
		}
		return fmt.Sprintf("get(%s) -> %v", in.key, output)
	},
}

// liveServers is the set of running servers, which the killer changes
// under the clients' feet.
type liveServers struct {
	mu      sync.Mutex
	servers []*Server
}

func (l *liveServers) pick(rng *rand.Rand) *Server {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.servers[rng.Intn(len(l.servers))]
}

// TestLinearizableUnderLeaderKills drives puts and consistent gets from
// several clients at random servers while the leader is repeatedly shut
// down and restarted, then checks the history with porcupine. A put whose
// answer was lost may or may not have happened; it is recorded as never
// returning, which allows both.
func TestLinearizableUnderLeaderKills(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for several seconds")
	}
	c, servers := formedCluster(t, 3)
	live := &liveServers{servers: servers}
	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	stop := make(chan struct{})

	var mu sync.Mutex
	var history []porcupine.Operation
	var wg sync.WaitGroup
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func(client int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(client)))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				in := kvInput{put: rng.Intn(2) == 0, key: fmt.Sprintf("lin/%d", rng.Intn(3))}
				s := live.pick(rng)
				op := porcupine.Operation{ClientId: client, Input: in, Call: now()}
				var err error
				if in.put {
					in.value = fmt.Sprintf("c%d-%d", client, n)
					op.Input = in
					var ok bool
					args := structs.KVSRequest{Op: structs.KVSet, DirEnt: structs.DirEntry{Key: in.key, Value: []byte(in.value)}}
					err = s.RPC("KVS.Apply", &args, &ok)
					op.Return = now()
					if err != nil {
						op.Return = math.MaxInt64
					}
				} else {
					var out structs.IndexedDirEntries
					args := structs.KeyRequest{Key: in.key, QueryOptions: structs.QueryOptions{RequireConsistent: true}}
					err = s.RPC("KVS.Get", &args, &out)
					op.Return = now()
					if err != nil {
						// A failed read changed nothing and told nothing.
						continue
					}
					value := ""
					if len(out.Entries) > 0 {
						value = string(out.Entries[0].Value)
					}
					op.Output = value
				}
				mu.Lock()
				history = append(history, op)
				mu.Unlock()
			}
		}(c)
	}

	// Kill the leader three times, restarting it from its data dir.
	for round := 0; round < 3; round++ {
		time.Sleep(400 * time.Millisecond)
		live.mu.Lock()
		var leader *Server
		idx := -1
		for i, s := range live.servers {
			if s.IsLeader() {
				leader, idx = s, i
			}
		}
		live.mu.Unlock()
		if leader == nil {
			continue
		}
		down := c.indexOf(leader)
		c.stop(down)
		time.Sleep(200 * time.Millisecond)
		restarted := c.start(down)
		live.mu.Lock()
		live.servers[idx] = restarted
		live.mu.Unlock()
	}
	time.Sleep(400 * time.Millisecond)
	close(stop)
	wg.Wait()

	completed := 0
	for _, op := range history {
		if op.Return != math.MaxInt64 {
			completed++
		}
	}
	if completed < 50 {
		t.Fatalf("only %d operations completed: the cluster did not serve through the kills", completed)
	}
	res, info := porcupine.CheckOperationsVerbose(kvModel, history, 60*time.Second)
	if res != porcupine.Ok {
		t.Fatalf("history of %d operations is %s; partial linearizations: %v", len(history), res, info.PartialLinearizationsOperations())
	}
	t.Logf("%d operations (%d completed) are linearizable", len(history), completed)
}
