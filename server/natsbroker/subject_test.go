package natsbroker

import (
	"errors"
	"strings"
)

// The subject token must be reversible, so that two channels never share a
// subject: the tests prove it with this inverse, which the broker itself
// never needs.

var errBadToken = errors.New("not an escaped channel token")

// channelOf reverses token.
func channelOf(tok string) (string, error) {
	var b strings.Builder
	b.Grow(len(tok))
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c != '_' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(tok) {
			return "", errBadToken
		}
		hi, lo := strings.IndexByte(hexDigits, tok[i+1]), strings.IndexByte(hexDigits, tok[i+2])
		if hi < 0 || lo < 0 {
			return "", errBadToken
		}
		b.WriteByte(byte(hi<<4 | lo))
		i += 2
	}
	return b.String(), nil
}
