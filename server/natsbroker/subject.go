package natsbroker

import "strings"

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

// subject is the channel's subject in the stream.
func (b *Broker) subject(channel string) string {
	return b.opts.SubjectPrefix + "." + token(channel)
}
