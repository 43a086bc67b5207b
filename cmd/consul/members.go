package main

import (
	"bytes"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/consul/api"
)

const membersHelp = `
Usage: consul members [options]

  Lists the members of the agent's LAN gossip pool, with their state:
  alive, leaving, left or failed.

      $ consul members
      $ consul members -detailed
      $ consul members -status=alive

  Exits with 2 when no member matches -status.
`

// runMembers is `consul members`.
func runMembers(u *ui, args []string) int {
	var (
		detailed, wan     bool
		statusRe, segment string
	)
	c := newHTTPCommand("members", membersHelp, false)
	fs := c.fs
	fs.BoolVar(&detailed, "detailed", false, "Show every tag of each member instead of the summary columns.")
	fs.StringVar(&statusRe, "status", ".*", "Show only the members whose status matches this `regexp`.")
	fs.BoolVar(&wan, "wan", false, "List the WAN pool instead (this agent has none: the agent refuses).")
	fs.StringVar(&segment, "segment", api.AllSegments, "Show only the members of this network `segment`.")
	if code, done := c.parse(u, args); done {
		return code
	}
	if !noArgs(u, fs.Args()) {
		return 1
	}
	re, err := regexp.Compile(statusRe)
	if err != nil {
		u.error("Failed to compile status regexp: %v", err)
		return 1
	}
	client, ok := c.client(u)
	if !ok {
		return 1
	}
	members, err := client.Agent().MembersOpts(api.MembersOpts{WAN: wan, Segment: segment})
	if err != nil {
		u.error("Error retrieving members: %v", err)
		return 1
	}

	var shown []*api.AgentMember
	for _, m := range members {
		if m.Tags == nil {
			m.Tags = map[string]string{}
		}
		fillDisplayTags(m, segment)
		if re.MatchString(memberStatus(m.Status)) {
			shown = append(shown, m)
		}
	}
	if len(shown) == 0 {
		return 2
	}
	sort.SliceStable(shown, func(i, j int) bool { return memberLess(shown[i], shown[j]) })

	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	if detailed {
		fmt.Fprintln(tw, "Node\tAddress\tStatus\tTags")
		for _, m := range shown {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, memberAddr(m), memberStatus(m.Status), joinTags(m.Tags))
		}
	} else {
		fmt.Fprintln(tw, "Node\tAddress\tStatus\tType\tBuild\tProtocol\tDC\tPartition\tSegment")
		for _, m := range shown {
			typ := memberType(m)
			if typ == "unknown" {
				fmt.Fprintf(tw, "%s\t%s\t%s\tunknown\t\t\t\t\t\n", m.Name, memberAddr(m), memberStatus(m.Status))
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, memberAddr(m), memberStatus(m.Status),
				typ, memberBuild(m), m.Tags["vsn"], m.Tags[api.MemberTagKeyDatacenter],
				m.Tags[api.MemberTagKeyPartition], m.Tags[api.MemberTagKeySegment])
		}
	}
	tw.Flush()
	// Empty last cells would leave trailing blanks.
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line != "" {
			fmt.Fprintln(u.out, strings.TrimRight(line, " \n"))
		}
	}
	return 0
}

// fillDisplayTags sets the partition and segment tags as Consul's CLI
// shows them: partition "default" when unset; in the default partition,
// segment "<all>" for a server when listing all segments and
// "<default>" when unset.
func fillDisplayTags(m *api.AgentMember, segment string) {
	if m.Tags[api.MemberTagKeyPartition] == "" {
		m.Tags[api.MemberTagKeyPartition] = "default"
	}
	if m.Tags[api.MemberTagKeyPartition] != "default" {
		m.Tags[api.MemberTagKeySegment] = ""
		return
	}
	switch {
	case segment == api.AllSegments && m.Tags[api.MemberTagKeyRole] == api.MemberTagValueRoleServer:
		m.Tags[api.MemberTagKeySegment] = "<all>"
	case m.Tags[api.MemberTagKeySegment] == "":
		m.Tags[api.MemberTagKeySegment] = "<default>"
	}
}

// memberLess orders servers first, then the default partition's members,
// then by segment, partition and name, as Consul's CLI does.
func memberLess(a, b *api.AgentMember) bool {
	as, bs := a.Tags[api.MemberTagKeyRole] == api.MemberTagValueRoleServer, b.Tags[api.MemberTagKeyRole] == api.MemberTagValueRoleServer
	if as != bs {
		return as
	}
	ap, bp := a.Tags[api.MemberTagKeyPartition], b.Tags[api.MemberTagKeyPartition]
	if ad, bd := ap == "default", bp == "default"; ad != bd {
		return ad
	}
	if as, bs := a.Tags[api.MemberTagKeySegment], b.Tags[api.MemberTagKeySegment]; as != bs {
		return as < bs
	}
	if ap != bp {
		return ap < bp
	}
	return a.Name < b.Name
}

// memberStatus names a Serf member status.
func memberStatus(s int) string {
	switch s {
	case 0:
		return "none"
	case 1:
		return "alive"
	case 2:
		return "leaving"
	case 3:
		return "left"
	case 4:
		return "failed"
	}
	return fmt.Sprintf("unknown(%d)", s)
}

// memberType is "server", "client" or "unknown", from the role tag.
func memberType(m *api.AgentMember) string {
	switch m.Tags[api.MemberTagKeyRole] {
	case api.MemberTagValueRoleServer:
		return "server"
	case api.MemberTagValueRoleClient:
		return "client"
	}
	return "unknown"
}

// memberBuild is the version from the build tag, without the revision
// Consul appends after a colon.
func memberBuild(m *api.AgentMember) string {
	b := m.Tags["build"]
	if b == "" {
		return "< 0.3"
	}
	v, _, _ := strings.Cut(b, ":")
	return v
}

func memberAddr(m *api.AgentMember) string {
	return (&net.TCPAddr{IP: net.ParseIP(m.Addr), Port: int(m.Port)}).String()
}

// joinTags writes tags as k1=v1,k2=v2, sorted by key.
func joinTags(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = k + "=" + tags[k]
	}
	return strings.Join(pairs, ",")
}
