package provider

import (
	"errors"
	"strconv"
	"time"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// Sentinel errors. Every error the package returns or reports matches one of
// them with errors.Is.
var (
	// ErrClosed: the client was closed, by Close or by a terminal close code.
	ErrClosed = errors.New("client closed")
	// ErrInvalidConfig: New was given an unusable Config.
	ErrInvalidConfig = errors.New("invalid config")
	// ErrInvalidOptions: Subscribe or Publish was given unusable options.
	ErrInvalidOptions = errors.New("invalid options")
	// ErrTooLarge: a publish is larger than the server accepts.
	ErrTooLarge = errors.New("message too large")
	// ErrQueueFull: a queued publish was dropped to make room (the oldest
	// goes first).
	ErrQueueFull = errors.New("publish queue full")
	// ErrTerminal: the server closed the connection with a code that forbids
	// reconnecting; the error also matches the *CloseError.
	ErrTerminal = errors.New("server refused the connection for good")
	// ErrConnect: a dial failed or an open connection was lost; the client
	// retries on its own.
	ErrConnect = errors.New("connection failed")
	// ErrHandshake: a server did not complete the extended handshake.
	ErrHandshake = errors.New("handshake failed")
	// ErrHeartbeatTimeout: the server went silent for longer than its
	// heartbeat interval plus grace, or did not answer a probe.
	ErrHeartbeatTimeout = errors.New("heartbeat timeout")
	// ErrServer: the server answered with an error message; see *ServerError.
	ErrServer = errors.New("server error")
	// ErrCallbackPanic: a user callback panicked; the panic was recovered.
	ErrCallbackPanic = errors.New("callback panicked")
)

// CloseError is a close frame received from the peer. Transports return an
// error wrapping it from Conn.Read.
type CloseError struct {
	Code   protocol.CloseCode
	Reason string
}

func (e *CloseError) Error() string {
	s := "connection closed: " + strconv.Itoa(int(e.Code)) + " " + e.Code.String()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// ServerError is an error message sent by an extended server. Channel is set
// when it refuses a subscription, Ref when it refuses a publish.
type ServerError struct {
	Code       string
	Message    string
	Channel    string
	Ref        string
	RetryAfter time.Duration
}

func (e *ServerError) Error() string {
	s := "server error " + e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Channel != "" {
		s += " (channel " + e.Channel + ")"
	}
	return s
}

// Unwrap lets errors.Is match ErrServer.
func (e *ServerError) Unwrap() error { return ErrServer }

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
