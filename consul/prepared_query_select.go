package consul

import (
	"math/rand"
	"slices"
	"strings"

	"github.com/consulcompat/consul/acl"
	"github.com/consulcompat/consul/structs"
)

// selectInstances keeps the instances a query returns: healthy (no
// critical check, and no warning with OnlyPassing, both ignoring
// IgnoreCheckIDs), with the query's tags and metadata, and readable by
// the token.
func selectInstances(z acl.Authorizer, sq *structs.ServiceQuery, all []structs.CheckServiceNode, meta *structs.QueryMeta) []structs.CheckServiceNode {
	out := []structs.CheckServiceNode{}
	for _, csn := range all {
		switch {
		case !healthyFor(sq, csn.Checks):
		case !queryTagsMatch(csn.Service.Tags, sq.Tags):
		case !matchesMeta(csn.Node.Meta, sq.NodeMeta) || !matchesMeta(csn.Service.Meta, sq.ServiceMeta):
		case !z.ServiceRead(csn.Service.Service) || !z.NodeRead(csn.Node.Node):
			meta.ResultsFilteredByACLs = true
		default:
			csn.Checks = filterChecks(z, csn.Checks, meta, nil)
			out = append(out, csn)
		}
	}
	return out
}

// healthyFor applies a query's health rule to an instance's checks.
func healthyFor(sq *structs.ServiceQuery, checks structs.HealthChecks) bool {
	for _, c := range checks {
		if slices.Contains(sq.IgnoreCheckIDs, c.CheckID) {
			continue
		}
		if c.Status == structs.HealthCritical || (sq.OnlyPassing && c.Status == structs.HealthWarning) {
			return false
		}
	}
	return true
}

// queryTagsMatch is a query's tag rule, case-insensitive as in Consul:
// every tag is required, and every "!tag" forbidden.
func queryTagsMatch(have, want []string) bool {
	set := make(map[string]bool, len(have))
	for _, t := range have {
		set[strings.ToLower(t)] = true
	}
	for _, t := range want {
		t = strings.ToLower(t)
		if forbidden, ok := strings.CutPrefix(t, "!"); ok {
			if set[forbidden] {
				return false
			}
		} else if !set[t] {
			return false
		}
	}
	return true
}

// orderInstances shuffles the instances, for load balancing, and puts an
// instance on the node near first. Consul sorts by network coordinates,
// which this server does not keep; nearest is the named node itself.
func orderInstances(nodes []structs.CheckServiceNode, near string) {
	rand.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	if near == "" {
		return
	}
	for i := range nodes {
		if strings.EqualFold(nodes[i].Node.Node, near) {
			nodes[0], nodes[i] = nodes[i], nodes[0]
			return
		}
	}
}
