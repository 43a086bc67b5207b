package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressDrawsOnlyOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	quiet := newProgress(&buf, "saved")
	quiet.Write(make([]byte, 1<<20))
	quiet.done()
	if buf.Len() != 0 || quiet.n != 1<<20 {
		t.Fatalf("not a terminal: wrote %q, counted %d", buf.String(), quiet.n)
	}

	loud := newProgress(&buf, "saved")
	loud.on = true
	loud.last = time.Now().Add(-time.Second)
	loud.Write(make([]byte, 3<<20))
	loud.done()
	out := buf.String()
	if !strings.HasPrefix(out, "\rsaved 3MB (") || !strings.HasSuffix(out, "\n") || strings.Count(out, "\r") != 2 {
		t.Fatalf("terminal output %q", out)
	}
}
