package errs

// Wrap returns "failed to <op>: <err>", matching err with errors.Is and As.
// It is fmt.Errorf("failed to %s: %w", op, err) without fmt, which the
// browser build cannot afford.
func Wrap(op string, err error) error { return &opError{msg: "failed to " + op, err: err} }

// WrapDetail returns "failed to <op>: <detail>: <err>", matching err.
func WrapDetail(op, detail string, err error) error {
	return &opError{msg: "failed to " + op + ": " + detail, err: err}
}

// WrapKind returns "failed to <op>: <kind>: <err>", matching both kind (a
// sentinel) and err.
func WrapKind(op string, kind, err error) error { return &kindError{op: op, kind: kind, err: err} }

// Panic turns a recovered value into an error matching kind, whose text is
// kind's followed by the value when it is a string or an error.
func Panic(kind error, v any) error { return &panicError{kind: kind, v: v} }

type opError struct {
	msg string
	err error
}

func (e *opError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

type kindError struct {
	op   string
	kind error
	err  error
}

func (e *kindError) Error() string {
	return "failed to " + e.op + ": " + e.kind.Error() + ": " + e.err.Error()
}

func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

type panicError struct {
	kind error
	v    any
}

func (e *panicError) Error() string {
	switch v := e.v.(type) {
	case string:
		return e.kind.Error() + ": " + v
	case error:
		return e.kind.Error() + ": " + v.Error()
	}
	return e.kind.Error()
}

func (e *panicError) Unwrap() error { return e.kind }
