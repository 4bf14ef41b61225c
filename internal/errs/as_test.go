package errs

import (
	"errors"
	"fmt"
	"testing"
)

type target struct{ n int }

func (e *target) Error() string { return fmt.Sprint("target ", e.n) }

type other struct{}

func (*other) Error() string { return "other" }

// viaMethod claims to be a *target through an As method.
type viaMethod struct{}

func (viaMethod) Error() string { return "as via method" }
func (viaMethod) As(t any) bool {
	if p, ok := t.(**target); ok {
		*p = &target{n: 99}
		return true
	}
	return false
}

func TestAsMatchesErrorsAs(t *testing.T) {
	a := &target{n: 1}
	cases := []error{
		nil,
		errors.New("plain"),
		a,
		fmt.Errorf("wrapped: %w", a),
		fmt.Errorf("twice: %w", fmt.Errorf("once: %w", a)),
		errors.Join(errors.New("x"), fmt.Errorf("y: %w", a)),
		fmt.Errorf("multi: %w %w", errors.New("x"), errors.New("y")),
		viaMethod{},
		fmt.Errorf("wrapped: %w", viaMethod{}),
		&other{},
		fmt.Errorf("wrapped: %w", &other{}),
	}
	for i, err := range cases {
		var want, got *target
		wok := errors.As(err, &want)
		gok := As(err, &got)
		if wok != gok || (want == nil) != (got == nil) || want != nil && want.n != got.n {
			t.Errorf("case %d (%v): errors.As = %v %v, As = %v %v", i, err, wok, want, gok, got)
		}
		var wo, gotOther *other
		if errors.As(err, &wo) != As(err, &gotOther) || wo != gotOther {
			t.Errorf("case %d (%v): *other: errors.As and As disagree", i, err)
		}
	}
}
