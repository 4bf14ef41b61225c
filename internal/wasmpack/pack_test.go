package wasmpack

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// module builds a module with a custom section (copied as is) and a data
// section holding segs.
func module(segs []segment) []byte {
	m := append([]byte(nil), header...)
	custom := append([]byte{4}, "name"...)
	m = append(m, 0)
	m = appendUleb(m, uint64(len(custom)))
	m = append(m, custom...)
	data := writeData(segs)
	m = append(m, 11)
	m = appendUleb(m, uint64(len(data)))
	return append(m, data...)
}

// image is the memory a module's data segments initialise.
func image(t *testing.T, mod []byte) (mem []byte, segments int) {
	t.Helper()
	r := reader{b: mod, p: len(header)}
	for r.p < len(mod) {
		id := r.byte()
		size := int(r.uleb())
		body := mod[r.p : r.p+size]
		r.p += size
		if id != 11 {
			continue
		}
		segs, err := readData(body)
		require.NoError(t, err)
		for _, s := range segs {
			if end := int(s.offset) + len(s.data); end > len(mem) {
				mem = append(mem, make([]byte, end-len(mem))...)
			}
			copy(mem[s.offset:], s.data)
		}
		segments += len(segs)
	}
	return mem, segments
}

func TestPackMergesShortGapsAndKeepsTheImage(t *testing.T) {
	in := module([]segment{
		{offset: 0, data: []byte("ab")},
		{offset: 10, data: []byte("cd")},   // 8 zeros after "ab": merged
		{offset: 1000, data: []byte("ef")}, // far away: its own segment
		{offset: 1002, data: []byte("gh")}, // adjacent: merged
	})
	out, err := Pack(in)
	require.NoError(t, err)
	wantMem, wantSegs := image(t, in)
	gotMem, gotSegs := image(t, out)
	if !bytes.Equal(wantMem, gotMem) {
		t.Fatal("packing changed the memory image")
	}
	if wantSegs != 4 || gotSegs != 2 {
		t.Fatalf("segments %d → %d, want 4 → 2", wantSegs, gotSegs)
	}
	if !bytes.Contains(out, []byte("name")) {
		t.Fatal("the custom section was lost")
	}
}

func TestPackRejectsWhatItCannotRead(t *testing.T) {
	good := module([]segment{{offset: 0, data: []byte("ab")}})
	for name, in := range map[string][]byte{
		"empty":      nil,
		"not wasm":   []byte("hello world"),
		"truncated":  good[:len(good)-1],
		"bad length": append(append([]byte(nil), header...), 11, 0xff, 0xff, 0xff, 0xff, 0x0f),
	} {
		if _, err := Pack(in); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
