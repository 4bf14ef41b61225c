package protocol

import "bytes"

// BatchSeparator separates the messages of a batched frame. Compact JSON
// never holds a raw newline: inside strings it must be escaped, and the
// encoders write no whitespace, so a server only has to make sure the raw
// payloads it forwards hold none (OneLine).
const BatchSeparator = '\n'

// NextMessage splits the first message off a batched frame: msg is the
// bytes before the first separator (the whole frame when there is none)
// and rest what follows it. Both alias frame, so splitting allocates
// nothing. Empty messages (two separators in a row, a trailing one) come
// out as empty msg and are for the caller to skip.
func NextMessage(frame []byte) (msg, rest []byte) {
	i := bytes.IndexByte(frame, BatchSeparator)
	if i < 0 {
		return frame, nil
	}
	return frame[:i], frame[i+1:]
}

// OneLine returns raw JSON with every raw newline replaced by a space, so
// that it can be a member of a message in a batched frame. In valid JSON a
// raw newline can only be whitespace between tokens, so the value means the
// same. raw itself is returned, unchanged and not copied, when it holds no
// newline, which is the common case.
func OneLine(raw []byte) []byte {
	i := bytes.IndexByte(raw, BatchSeparator)
	if i < 0 {
		return raw
	}
	out := bytes.Clone(raw)
	for ; i >= 0; i = bytes.IndexByte(out, BatchSeparator) {
		out[i] = ' '
	}
	return out
}
