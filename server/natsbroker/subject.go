package natsbroker

import (
	"errors"
	"strings"
)

const hexDigits = "0123456789ABCDEF"

// token maps a channel name to one NATS subject token. Letters, digits and
// '-' are kept; every other byte, '_' included, becomes '_' followed by two
// upper-case hex digits. The result never holds '.', '*', '>', whitespace
// or anything outside ASCII, so it is always exactly one literal token, and
// the mapping is injective: "resources/posts" → "resources_2Fposts".
func token(channel string) string {
	var b strings.Builder
	b.Grow(len(channel) + 8)
	for i := 0; i < len(channel); i++ {
		c := channel[i]
		if c == '-' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xF])
	}
	return b.String()
}

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

// subject is the channel's subject in the stream.
func (b *Broker) subject(channel string) string {
	return b.opts.SubjectPrefix + "." + token(channel)
}
