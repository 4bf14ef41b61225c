package wasmpack

import (
	"bytes"
	"errors"
)

// maxGap is the longest run of zeros written out; longer gaps keep separate
// segments, since merging across them no longer makes the compressed
// module smaller.
const maxGap = 64

var header = []byte("\x00asm\x01\x00\x00\x00")

type segment struct {
	offset uint32
	data   []byte
}

// Pack returns the module with its data segments merged. It accepts only
// what the Go linker writes: active segments for memory 0 at i32 offsets.
func Pack(in []byte) ([]byte, error) {
	if !bytes.HasPrefix(in, header) {
		return nil, errors.New("not a WebAssembly module")
	}
	out := append([]byte(nil), header...)
	r := reader{b: in, p: len(header)}
	for r.p < len(in) {
		start := r.p
		id := r.byte()
		size := int(r.uleb())
		if r.err != nil || size > len(in)-r.p {
			return nil, errors.New("truncated section")
		}
		body := in[r.p : r.p+size]
		r.p += size
		if id != 11 { // not the data section: copy verbatim
			out = append(out, in[start:r.p]...)
			continue
		}
		segs, err := readData(body)
		if err != nil {
			return nil, err
		}
		sec := writeData(merge(segs))
		out = append(out, 11)
		out = appendUleb(out, uint64(len(sec)))
		out = append(out, sec...)
	}
	return out, nil
}

// readData parses a data section of active segments for memory 0 with an
// i32.const offset, the only kind the Go linker writes.
func readData(b []byte) ([]segment, error) {
	r := reader{b: b}
	n := r.uleb()
	var segs []segment
	for i := uint64(0); i < n && r.err == nil; i++ {
		if r.uleb() != 0 || r.byte() != 0x41 { // memidx 0, i32.const
			return nil, errors.New("unexpected data segment kind")
		}
		off := uint32(r.sleb())
		if r.byte() != 0x0b { // end
			return nil, errors.New("unexpected data segment offset expression")
		}
		l := int(r.uleb())
		if r.err != nil || l > len(b)-r.p {
			break
		}
		segs = append(segs, segment{off, b[r.p : r.p+l]})
		r.p += l
	}
	if r.err != nil || r.p != len(b) || uint64(len(segs)) != n {
		return nil, errors.New("malformed data section")
	}
	return segs, nil
}

func merge(segs []segment) []segment {
	var out []segment
	for _, s := range segs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			end := last.offset + uint32(len(last.data))
			if s.offset >= end && s.offset-end <= maxGap {
				last.data = append(last.data, make([]byte, s.offset-end)...)
				last.data = append(last.data, s.data...)
				continue
			}
		}
		out = append(out, segment{s.offset, append([]byte(nil), s.data...)})
	}
	return out
}

func writeData(segs []segment) []byte {
	b := appendUleb(nil, uint64(len(segs)))
	for _, s := range segs {
		b = append(b, 0, 0x41)
		b = appendSleb(b, int64(int32(s.offset)))
		b = append(b, 0x0b)
		b = appendUleb(b, uint64(len(s.data)))
		b = append(b, s.data...)
	}
	return b
}

type reader struct {
	b   []byte
	p   int
	err error
}

func (r *reader) byte() byte {
	if r.p >= len(r.b) {
		r.err = errors.New("truncated")
		return 0
	}
	c := r.b[r.p]
	r.p++
	return c
}

func (r *reader) uleb() uint64 {
	var x uint64
	for s := uint(0); s < 64; s += 7 {
		c := r.byte()
		x |= uint64(c&0x7f) << s
		if c < 0x80 {
			return x
		}
	}
	r.err = errors.New("bad LEB128")
	return 0
}

func (r *reader) sleb() int64 {
	var x int64
	for s := uint(0); s < 64; {
		c := r.byte()
		x |= int64(c&0x7f) << s
		s += 7
		if c < 0x80 {
			if c&0x40 != 0 && s < 64 {
				x |= -1 << s
			}
			return x
		}
	}
	r.err = errors.New("bad LEB128")
	return 0
}

func appendUleb(b []byte, x uint64) []byte {
	for x >= 0x80 {
		b = append(b, byte(x)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}

func appendSleb(b []byte, x int64) []byte {
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if x == 0 && c&0x40 == 0 || x == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
