// Package livetest holds what the tests of the server, its brokers and
// sources, the binaries and the soak scenarios share: a server on
// loopback, a raw WebSocket client that reads frames with deadlines, the
// client engine over a transport a test can cut, and a recorder of the
// events it delivers.
//
// It does not import package server, so that the server's own tests can
// use it.
package livetest
