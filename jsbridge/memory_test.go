//go:build js && wasm

package jsbridge

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// One test per rule of memory.go.

func TestTransientStringViewsTheBytes(t *testing.T) {
	b := []byte("frame")
	s := transientString(b)
	assert.Equal(t, "frame", s)
	b[0] = 'F' // a view, not a copy: why the string must not outlive the call
	assert.Equal(t, "Frame", s)
	assert.Equal(t, "", transientString(nil))
}

func TestSameStringIsIdentityNotContent(t *testing.T) {
	a := string([]byte("channel"))
	b := string([]byte("channel"))
	assert.True(t, sameString(a, a))
	assert.False(t, sameString(a, b), "equal content elsewhere is another string")
	assert.True(t, sameString("", string([]byte{})))
	assert.True(t, sameString(a[:3], a[:3]))
	assert.False(t, sameString(a[:3], a[1:4]))
}

func TestSameBytesIsIdentityNotContent(t *testing.T) {
	p := []byte(`{"ids":[1]}`)
	assert.True(t, sameBytes(p, p[:len(p):len(p)]))
	assert.False(t, sameBytes(p, append([]byte(nil), p...)))
	assert.True(t, sameBytes(nil, []byte{}))
	assert.False(t, sameBytes(p[:2], p[1:3]))
}

func TestAddressOfIsTheFirstByte(t *testing.T) {
	assert.Equal(t, uint32(0), addressOf(nil))
	b := make([]byte, 8, 16)
	assert.NotZero(t, addressOf(b))
	assert.Equal(t, addressOf(b)+3, addressOf(b[3:]))
	assert.Equal(t, addressOf(b), addressOf(b[:0]), "an empty slice with room still has its address")
}
