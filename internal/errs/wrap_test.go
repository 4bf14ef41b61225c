package errs

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errKind = errors.New("kind")

func TestWrapTextAndMatching(t *testing.T) {
	cause := errors.New("cause")
	cases := []struct {
		name  string
		err   error
		text  string
		match []error
	}{
		{"wrap", Wrap("dial", cause), "failed to dial: cause", []error{cause}},
		{"detail", WrapDetail("dial", "ws://x", cause), "failed to dial: ws://x: cause", []error{cause}},
		{"kind", WrapKind("send", errKind, cause), "failed to send: kind: cause", []error{errKind, cause}},
		{"panic string", Panic(errKind, "boom"), "kind: boom", []error{errKind}},
		{"panic error", Panic(errKind, cause), "kind: cause", []error{errKind}},
		{"panic other", Panic(errKind, 42), "kind", []error{errKind}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.EqualError(t, tc.err, tc.text)
			for _, m := range tc.match {
				assert.ErrorIs(t, tc.err, m)
			}
		})
	}
}

func TestWrapKeepsTheCauseReachableByAs(t *testing.T) {
	var got *target
	require.True(t, As(Wrap("x", WrapKind("y", errKind, &target{n: 7})), &got))
	assert.Equal(t, 7, got.n)
}
