//go:build !js

package jsbridge

import (
	"bufio"
	"go/build/constraint"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every file of jsbridge and wasm touches JavaScript, so each must build only
// for js/wasm: a file without the constraint would break the native build.
func TestEveryFileIsJSWasmOnly(t *testing.T) {
	for _, dir := range []string{".", "../wasm"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		for _, path := range files {
			if filepath.Base(path) == "buildtags_test.go" {
				continue
			}
			if !hasJSWasmConstraint(t, path) {
				t.Errorf("%s lacks a //go:build js && wasm line", path)
			}
		}
	}
}

func hasJSWasmConstraint(t *testing.T, path string) bool {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "//") {
			return false
		}
		expr, err := constraint.Parse(line)
		if err != nil {
			continue
		}
		js := expr.Eval(func(tag string) bool { return tag == "js" || tag == "wasm" })
		native := expr.Eval(func(tag string) bool { return tag == "linux" || tag == "amd64" })
		return js && !native
	}
	return false
}
