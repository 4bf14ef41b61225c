package protocol

import (
	"strconv"
	"time"
)

// CloseCode is a WebSocket close status. Codes 4000-4499 are retryable: the
// client reconnects with backoff. Codes 4500-4999 are terminal: the client
// stops and reports the reason (CloseTokenExpired is the one exception, see
// there). Standard codes keep their meaning; among them only
// CloseNormal sent by the client itself, 1002 and 1003 stop a client.
type CloseCode int

// Close codes used by refine-live servers and clients.
const (
	CloseNormal      CloseCode = 1000 // client or server closed on purpose
	CloseGoingAway   CloseCode = 1001 // server process or page going away
	CloseProtocolErr CloseCode = 1002 // WebSocket protocol violation
	CloseUnsupported CloseCode = 1003 // binary frame where text is expected
	CloseAbnormal    CloseCode = 1006 // connection lost without a close frame
	CloseTooBig      CloseCode = 1009 // frame above the server's read limit
	CloseInternalErr CloseCode = 1011 // server error
	CloseRestart     CloseCode = 1012 // service restart
	CloseTryLater    CloseCode = 1013 // try again later

	// CloseShutdown: the server is shutting down or draining; the reason
	// carries a retry hint spread across clients.
	CloseShutdown CloseCode = 4000
	// CloseHeartbeatTimeout: the peer sent nothing for longer than the
	// heartbeat interval plus grace.
	CloseHeartbeatTimeout CloseCode = 4001
	// CloseSlowConsumer: the client did not read fast enough and its send
	// queue overflowed.
	CloseSlowConsumer CloseCode = 4002
	// CloseRateLimited: the client sent more messages than its rate allows,
	// persistently.
	CloseRateLimited CloseCode = 4003

	// CloseUnauthorized: missing or invalid credentials. Terminal.
	CloseUnauthorized CloseCode = 4500
	// CloseTokenExpired: the token expired. Terminal for that token: a
	// client with a token source (getToken) fetches a fresh one and
	// reconnects; a client without one stops.
	CloseTokenExpired CloseCode = 4501
	// CloseForbidden: the credentials are valid but grant nothing here.
	// Terminal.
	CloseForbidden CloseCode = 4502
	// CloseBadRequest: the client keeps violating the protocol. Terminal.
	CloseBadRequest CloseCode = 4503
)

// Retryable reports whether a client should reconnect after this code.
func (c CloseCode) Retryable() bool {
	switch {
	case c == CloseProtocolErr, c == CloseUnsupported:
		return false
	case c >= 4500 && c <= 4999:
		return false
	}
	return true
}

// String returns the code's name, or its number when it has none.
func (c CloseCode) String() string {
	switch c {
	case CloseNormal:
		return "normal"
	case CloseGoingAway:
		return "going away"
	case CloseProtocolErr:
		return "protocol error"
	case CloseUnsupported:
		return "unsupported data"
	case CloseAbnormal:
		return "abnormal closure"
	case CloseTooBig:
		return "message too big"
	case CloseInternalErr:
		return "internal error"
	case CloseRestart:
		return "service restart"
	case CloseTryLater:
		return "try again later"
	case CloseShutdown:
		return "server shutdown"
	case CloseHeartbeatTimeout:
		return "heartbeat timeout"
	case CloseSlowConsumer:
		return "slow consumer"
	case CloseRateLimited:
		return "rate limited"
	case CloseUnauthorized:
		return "unauthorized"
	case CloseTokenExpired:
		return "token expired"
	case CloseForbidden:
		return "forbidden"
	case CloseBadRequest:
		return "bad request"
	}
	return "close code " + strconv.Itoa(int(c))
}

// CloseReason is the content of a close frame's reason. On the wire it is a
// small JSON object, {"message":"…","retryAfter":1500}, kept under the
// 123 bytes a close frame allows; a reason that is not such an object is
// taken as a plain message.
type CloseReason struct {
	Message string
	// RetryAfter is the server's hint for the next reconnect; zero means
	// none.
	RetryAfter time.Duration
}

// maxCloseReason is the longest reason a close frame can carry.
const maxCloseReason = 123

// Encode returns the wire form of r, shortening the message if needed.
func (r CloseReason) Encode() string {
	msg := r.Message
	for {
		dst := []byte(`{"message":`)
		dst = appendString(dst, msg)
		if r.RetryAfter > 0 {
			dst = append(dst, `,"retryAfter":`...)
			dst = strconv.AppendInt(dst, r.RetryAfter.Milliseconds(), 10)
		}
		dst = append(dst, '}')
		if len(dst) <= maxCloseReason || msg == "" {
			return string(dst)
		}
		msg = msg[:len(msg)/2]
	}
}

// ParseCloseReason reads a close frame's reason. It never fails: anything
// that is not the JSON form is returned as the message.
func ParseCloseReason(s string) CloseReason {
	if len(s) == 0 || s[0] != '{' {
		return CloseReason{Message: s}
	}
	var r CloseReason
	var retry int64
	err := parseObject([]byte(s), maxCloseReason, memberFunc(func(sc *scanner, key []byte) error {
		var err error
		switch string(key) {
		case "message":
			r.Message, err = sc.str("message")
		case "retryAfter":
			retry, err = sc.int("retryAfter")
		default:
			err = sc.skip(1)
		}
		return err
	}), nil)
	if err != nil || retry < 0 {
		return CloseReason{Message: s}
	}
	r.RetryAfter = time.Duration(retry) * time.Millisecond
	return r
}
