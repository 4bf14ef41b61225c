package server

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/refine-live-wasm/refine-live-wasm/protocol"
)

// Identity is who a connection authenticated as.
type Identity struct {
	// Subject names the client, for logs.
	Subject string
	// Expires is when the credentials stop being valid; the connection is
	// closed with 4501 then unless it re-authenticated. Zero: never.
	Expires time.Time
	// Subscribe and Publish list the channel patterns the identity may use
	// with ChannelAuthorizer (see MatchChannel). Nil grants nothing.
	Subscribe, Publish []string
	// Claims holds whatever else the Authenticator wants an Authorizer to
	// see.
	Claims map[string]any
}

// Errors an Authenticator returns; any other error counts as ErrInvalidToken.
var (
	// ErrInvalidToken: missing, malformed or wrongly signed. Closes 4500.
	ErrInvalidToken = errors.New("invalid token")
	// ErrTokenExpired: the token was valid once. Closes 4501, which tells
	// a client with a token source to fetch a new one.
	ErrTokenExpired = errors.New("token expired")
)

// Authenticator turns a token into an Identity.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*Identity, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, token string) (*Identity, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, token string) (*Identity, error) {
	return f(ctx, token)
}

// Authorizer decides whether an identity may subscribe (action
// protocol.ActionSubscribe) or publish (protocol.ActionPublish) to a channel.
// id is nil on servers without an Authenticator and for POST /publish,
// which is protected by its own token. A non-nil error refuses with code
// "forbidden"; its text is sent to the client.
type Authorizer interface {
	Authorize(ctx context.Context, id *Identity, action protocol.Action, channel string) error
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, id *Identity, action protocol.Action, channel string) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, id *Identity, action protocol.Action, channel string) error {
	return f(ctx, id, action, channel)
}

// ChannelAuthorizer allows everything to anonymous connections (a server
// without an Authenticator) and otherwise checks the identity's Subscribe or
// Publish patterns.
type ChannelAuthorizer struct{}

// Authorize implements Authorizer.
func (ChannelAuthorizer) Authorize(_ context.Context, id *Identity, action protocol.Action, channel string) error {
	if id == nil {
		return nil
	}
	patterns := id.Subscribe
	if action == protocol.ActionPublish {
		patterns = id.Publish
	}
	for _, p := range patterns {
		if MatchChannel(p, channel) {
			return nil
		}
	}
	return fmt.Errorf("not allowed to %s to %q", action, channel)
}

// MatchChannel reports whether channel matches pattern. Patterns use
// path.Match syntax ("*" matches within one "/"-separated segment), plus
// two additions: "**" matches every channel, and a pattern ending in "/**"
// matches every channel below its prefix ("resources/**" matches
// "resources/posts" and "resources/posts/1").
func MatchChannel(pattern, channel string) bool {
	if pattern == "**" {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "/**"); ok {
		n := strings.Count(prefix, "/") + 1
		parts := strings.SplitN(channel, "/", n+1)
		if len(parts) <= n {
			return false
		}
		ok, err := path.Match(prefix, strings.Join(parts[:n], "/"))
		return ok && err == nil
	}
	ok, err := path.Match(pattern, channel)
	return ok && err == nil
}

// JWT claims read by JWTAuthenticator besides the registered ones
// ("sub", "exp", "nbf", "iat").
const (
	ClaimSubscribe = "sub_channels" // array of patterns the client may subscribe to
	ClaimPublish   = "pub_channels" // array of patterns the client may publish to
)

type jwtClaims struct {
	jwt.RegisteredClaims
	Subscribe []string `json:"sub_channels"`
	Publish   []string `json:"pub_channels"`
}

// JWTAuthenticator verifies HS256 JSON Web Tokens signed with Secret. The
// token's "sub_channels" and "pub_channels" claims (arrays of MatchChannel
// patterns) become the identity's Subscribe and Publish lists, "sub" its
// Subject and "exp" its expiry.
type JWTAuthenticator struct {
	Secret []byte
	// Leeway tolerates clock skew on exp and nbf. Default 0.
	Leeway time.Duration
	// Audience and Issuer, when set, must match the token's.
	Audience, Issuer string
}

// Authenticate implements Authenticator.
func (a *JWTAuthenticator) Authenticate(_ context.Context, token string) (*Identity, error) {
	if len(a.Secret) == 0 {
		return nil, fmt.Errorf("failed to verify token: %w: no secret configured", ErrInvalidToken)
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{"HS256"}), jwt.WithLeeway(a.Leeway)}
	if a.Audience != "" {
		opts = append(opts, jwt.WithAudience(a.Audience))
	}
	if a.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(a.Issuer))
	}
	var c jwtClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return a.Secret, nil }, opts...)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, fmt.Errorf("failed to verify token: %w", ErrTokenExpired)
	case err != nil:
		return nil, fmt.Errorf("failed to verify token: %w: %v", ErrInvalidToken, err)
	}
	id := &Identity{Subject: c.Subject, Subscribe: c.Subscribe, Publish: c.Publish}
	if c.ExpiresAt != nil {
		id.Expires = c.ExpiresAt.Time
	}
	return id, nil
}
