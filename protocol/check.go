package protocol

import "strconv"

func checkChannel(c string) error {
	if c == "" || len(c) > MaxChannelLen {
		return decodeErr(ErrInvalidField, "channel", "must be 1 to "+strconv.Itoa(MaxChannelLen)+" bytes")
	}
	return nil
}

func checkType(t string) error {
	if t == "" || len(t) > MaxTypeLen {
		return decodeErr(ErrInvalidField, "type", "must be 1 to "+strconv.Itoa(MaxTypeLen)+" bytes")
	}
	return nil
}

// checkRef accepts an empty ref; a present one must be short and made of
// characters that need no escaping anywhere: letters, digits and "-_.:".
func checkRef(r string) error {
	if len(r) > MaxRefLen {
		return decodeErr(ErrInvalidField, "ref", "must be at most "+strconv.Itoa(MaxRefLen)+" bytes")
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return decodeErr(ErrInvalidField, "ref", "only letters, digits and -_.: are allowed")
		}
	}
	return nil
}

// ValidRef reports whether r may be used as a publish ref (and so event id).
func ValidRef(r string) bool { return r != "" && checkRef(r) == nil }

// checkObject accepts an absent value or a JSON object (the decoders turn
// null into absent).
func checkObject(field string, raw []byte) error {
	if len(raw) == 0 || raw[0] == '{' {
		return nil
	}
	return decodeErr(ErrWrongType, field, "want object")
}
