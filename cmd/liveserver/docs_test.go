package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Every flag, hence every limit the binary exposes, is documented in
// docs/server.md with its real default.
func TestEveryFlagDocumentedWithItsDefault(t *testing.T) {
	doc, err := os.ReadFile("../../docs/server.md")
	require.NoError(t, err)
	var usage bytes.Buffer
	if _, err := parseFlags([]string{"-h"}, &usage); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("want the usage, got %v", err)
	}
	// parseFlags keeps its FlagSet to itself: read the names and defaults
	// back from its usage text ("  -name type\n    \ttext (default x)").
	names := 0
	for _, block := range strings.Split(usage.String(), "\n  -")[1:] {
		name := strings.Fields(block)[0]
		def := ""
		if i := strings.LastIndex(block, "(default "); i >= 0 {
			def = strings.Trim(strings.TrimSuffix(strings.TrimSpace(block[i+len("(default "):]), ")"), `"`)
		}
		names++
		row := rowOf(string(doc), "`--"+name+"`")
		if row == "" {
			t.Errorf("--%s has no row in docs/server.md", name)
			continue
		}
		cell := strings.TrimSpace(strings.Split(row, "|")[2])
		if !sameDefault(def, cell) {
			t.Errorf("--%s: default %q, documented %q", name, def, cell)
		}
	}
	if names < 20 {
		t.Fatalf("read only %d flags from the usage text", names)
	}
}

func rowOf(doc, key string) string {
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "| "+key+" |") {
			return line
		}
	}
	return ""
}

// sameDefault compares a flag's default with its documented cell: "none",
// "false", "0" or an environment variable for an empty one, durations by
// value.
func sameDefault(def, cell string) bool {
	cell = strings.Trim(cell, "`")
	if def == "" || def == "false" {
		// The usage text omits zero defaults (0, 0s, false, "").
		return cell == "none" || cell == "false" || cell == "0" || strings.HasPrefix(cell, "env ")
	}
	if d, err := time.ParseDuration(def); err == nil {
		c, err := time.ParseDuration(cell)
		return err == nil && c == d
	}
	return cell == def
}
