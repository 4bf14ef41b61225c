// Package wstransport is a provider.Transport on github.com/coder/websocket,
// which makes provider a usable native Go client. It compiles for the
// browser too (coder/websocket wraps the browser WebSocket there), but the
// browser build uses jsbridge's transport instead.
package wstransport
