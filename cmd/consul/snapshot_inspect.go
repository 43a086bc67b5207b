package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/consulcompat/consul/snapshot"
	"github.com/hashicorp/raft"
)

const snapshotInspectHelp = `
Usage: consul snapshot inspect [options] FILE

  Verifies a snapshot file on disk and prints its metadata and a count of
  its records by type. It needs no agent.

      $ consul snapshot inspect backup.snap
`

// Output formats of snapshot inspect.
const (
	formatPretty = "pretty"
	formatJSON   = "json"
)

// inspectOutput is snapshot inspect's JSON, with the field names of
// Consul's `snapshot inspect -format=json`.
type inspectOutput struct {
	Meta      inspectMeta
	Stats     []inspectStat
	TotalSize int64
}

// inspectMeta is the snapshot's Raft metadata.
type inspectMeta struct {
	ID      string
	Size    int64
	Index   uint64
	Term    uint64
	Version raft.SnapshotVersion
}

// inspectStat counts the records of one type; Sum is their size in bytes.
type inspectStat struct {
	Name  string
	Sum   int64
	Count int
}

// runSnapshotInspect is `consul snapshot inspect`.
func runSnapshotInspect(u *ui, args []string) int {
	var format string
	fs := newFlagSet("snapshot inspect")
	fs.StringVar(&format, "format", formatPretty, "Output `format`: pretty or json.")
	if code, done := parseFlags(u, fs, snapshotInspectHelp, args); done {
		return code
	}
	if format != formatPretty && format != formatJSON {
		u.error("Unknown format: %s (use %s or %s)", format, formatPretty, formatJSON)
		return 1
	}
	file, ok := oneArg(u, fs.Args(), "FILE")
	if !ok {
		return 1
	}

	f, ok := openSnapshotFile(u, file)
	if !ok {
		return 1
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		u.error("Error opening snapshot file: %v", err)
		return 1
	}
	info, err := snapshot.Inspect(f, fi.Size())
	if err != nil {
		u.error("Error reading snapshot: %v", err)
		return 1
	}

	out := newInspectOutput(info)
	if format == formatJSON {
		b, err := json.MarshalIndent(out, "", "   ")
		if err != nil {
			u.error("Error encoding output: %v", err)
			return 1
		}
		u.info("%s", b)
		return 0
	}
	writeInspectPretty(u.out, out)
	return 0
}

// newInspectOutput arranges info for printing: record types by size,
// largest first, then by name.
func newInspectOutput(info *snapshot.Info) *inspectOutput {
	out := &inspectOutput{
		Meta: inspectMeta{
			ID:      info.Meta.ID,
			Size:    info.Meta.Size,
			Index:   info.Meta.Index,
			Term:    info.Meta.Term,
			Version: info.Meta.Version,
		},
		Stats: make([]inspectStat, 0, len(info.Records)),
	}
	for _, r := range info.Records {
		name := r.Name
		if name == "" {
			name = r.Type.String()
		}
		out.Stats = append(out.Stats, inspectStat{Name: name, Sum: r.Size, Count: r.Count})
		out.TotalSize += r.Size
	}
	sort.Slice(out.Stats, func(i, j int) bool {
		a, b := out.Stats[i], out.Stats[j]
		if a.Sum != b.Sum {
			return a.Sum > b.Sum
		}
		return a.Name < b.Name
	})
	return out
}

// writeInspectPretty prints the metadata block and the table of record
// types, laid out as Consul's snapshot inspect lays them out.
func writeInspectPretty(w io.Writer, out *inspectOutput) {
	tw := tabwriter.NewWriter(w, 8, 8, 6, ' ', 0)
	fmt.Fprintf(tw, " ID\t%s\n", out.Meta.ID)
	fmt.Fprintf(tw, " Size\t%d\n", out.Meta.Size)
	fmt.Fprintf(tw, " Index\t%d\n", out.Meta.Index)
	fmt.Fprintf(tw, " Term\t%d\n", out.Meta.Term)
	fmt.Fprintf(tw, " Version\t%d\n", out.Meta.Version)
	// The blank line ends the first block of columns, so the table below
	// is aligned on its own.
	fmt.Fprintf(tw, "\n")
	fmt.Fprintf(tw, " Type\tCount\tSize\t\n")
	fmt.Fprintf(tw, " ----\t----\t----\t\n")
	for _, s := range out.Stats {
		fmt.Fprintf(tw, " %s\t%d\t%s\t\n", s.Name, s.Count, humanBytes(s.Sum))
	}
	fmt.Fprintf(tw, " ----\t----\t----\t\n")
	fmt.Fprintf(tw, " Total\t\t%s\t\n", humanBytes(out.TotalSize))
	// A write to the command's output stream failing leaves nothing to
	// report it to.
	_ = tw.Flush()
}

// humanBytes renders a size with binary units and one decimal, without a
// trailing ".0": 0, 512B, 1.5KB, 3MB.
func humanBytes(n int64) string {
	if n <= 0 {
		return "0"
	}
	units := []string{"B", "KB", "MB", "GB", "TB"}
	v := float64(n)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + units[i]
}
