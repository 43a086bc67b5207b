package main

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/consul/api"
)

const catalogDatacentersHelp = `
Usage: consul catalog datacenters [options]

  Lists the known datacenters.

      $ consul catalog datacenters
`

// runCatalogDatacenters is `consul catalog datacenters`.
func runCatalogDatacenters(u *ui, args []string) int {
	c := newHTTPCommand("catalog datacenters", catalogDatacentersHelp, false)
	client, code, ok := c.start(u, args)
	if !ok {
		return code
	}
	dcs, err := client.Catalog().Datacenters()
	if err != nil {
		u.error("Error listing datacenters: %v", err)
		return 1
	}
	for _, dc := range dcs {
		u.info("%s", dc)
	}
	return 0
}

const catalogNodesHelp = `
Usage: consul catalog nodes [options]

  Lists the nodes of the catalog, optionally only those running a service
  or carrying node metadata.

      $ consul catalog nodes
      $ consul catalog nodes -service=web
      $ consul catalog nodes -node-meta=rack=r1 -detailed
`

// runCatalogNodes is `consul catalog nodes`.
func runCatalogNodes(u *ui, args []string) int {
	c := newHTTPCommand("catalog nodes", catalogNodesHelp, true)
	var service string
	var detailed bool
	meta := metaFlag{}
	c.fs.StringVar(&service, "service", "", "Only the nodes running the `service`.")
	c.fs.BoolVar(&detailed, "detailed", false, "Show tagged addresses and node metadata.")
	c.fs.Var(meta, "node-meta", "Only the nodes with this `key=value` metadata; repeatable.")
	client, code, ok := c.start(u, args)
	if !ok {
		return code
	}
	q := c.http.queryOptions()
	q.NodeMeta = meta
	var nodes []*api.Node
	if service != "" {
		instances, _, err := client.Catalog().Service(service, "", q)
		if err != nil {
			u.error("Error listing nodes for service: %v", err)
			return 1
		}
		seen := map[string]bool{}
		for _, s := range instances {
			if !seen[s.Node] {
				seen[s.Node] = true
				nodes = append(nodes, &api.Node{ID: s.ID, Node: s.Node, Address: s.Address, Datacenter: s.Datacenter,
					TaggedAddresses: s.TaggedAddresses, Meta: s.NodeMeta})
			}
		}
	} else {
		var err error
		if nodes, _, err = client.Catalog().Nodes(q); err != nil {
			u.error("Error listing nodes: %v", err)
			return 1
		}
	}
	if len(nodes) == 0 {
		u.error("No nodes match the given query.")
		return 0
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Node < nodes[j].Node })
	tw := tabwriter.NewWriter(u.out, 0, 4, 2, ' ', 0)
	header := "Node\tID\tAddress\tDC"
	if detailed {
		header += "\tTaggedAddresses\tMeta"
	}
	fmt.Fprintln(tw, header)
	for _, n := range nodes {
		line := fmt.Sprintf("%s\t%s\t%s\t%s", n.Node, shortID(n.ID), n.Address, n.Datacenter)
		if detailed {
			line += "\t" + joinPairs(n.TaggedAddresses) + "\t" + joinPairs(n.Meta)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	return 0
}

// shortID is the first 8 characters of a node ID, as Consul shows it.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// joinPairs prints a map as sorted key=value pairs.
func joinPairs(m map[string]string) string {
	pairs := make([]string, 0, len(m))
	for k, v := range m {
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ", ")
}

// metaFlag collects repeatable key=value flags.
type metaFlag map[string]string

func (m metaFlag) String() string { return joinPairs(m) }

func (m metaFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not key=value", v)
	}
	m[k] = val
	return nil
}

const catalogServicesHelp = `
Usage: consul catalog services [options]

  Lists the services of the catalog, or those of one node.

      $ consul catalog services
      $ consul catalog services -node=web-01 -tags
`

// runCatalogServices is `consul catalog services`.
func runCatalogServices(u *ui, args []string) int {
	c := newHTTPCommand("catalog services", catalogServicesHelp, true)
	var node string
	var tags bool
	c.fs.StringVar(&node, "node", "", "Only the services of the `node`.")
	c.fs.BoolVar(&tags, "tags", false, "Show each service's tags.")
	client, code, ok := c.start(u, args)
	if !ok {
		return code
	}
	services := map[string][]string{}
	if node != "" {
		n, _, err := client.Catalog().Node(node, c.http.queryOptions())
		if err != nil {
			u.error("Error listing services for node: %v", err)
			return 1
		}
		if n != nil {
			for _, s := range n.Services {
				services[s.Service] = append(services[s.Service], s.Tags...)
			}
		}
	} else {
		var err error
		if services, _, err = client.Catalog().Services(c.http.queryOptions()); err != nil {
			u.error("Error listing services: %v", err)
			return 1
		}
	}
	if len(services) == 0 {
		u.error("No services match the given query.")
		return 0
	}
	names := make([]string, 0, len(services))
	for name := range services {
		names = append(names, name)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(u.out, 0, 4, 2, ' ', 0)
	for _, name := range names {
		if tags {
			t := append([]string(nil), services[name]...)
			sort.Strings(t)
			fmt.Fprintf(tw, "%s\t%s\n", name, strings.Join(t, ","))
		} else {
			fmt.Fprintln(tw, name)
		}
	}
	tw.Flush()
	return 0
}
