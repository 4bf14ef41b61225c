package protocol

import "strconv"

// A subscribe names one channel (basic and extended) or, at the extended
// level, lists several in "channels": subscribing to hundreds of channels
// after a reconnect then costs the server one message, not one per channel,
// and never trips its rate limit.

// channelRequests reads the "channels" array of a subscribe.
func (s *scanner) channelRequests(field string) ([]ChannelRequest, error) {
	if s.isNull() {
		return nil, nil
	}
	if s.peek() != '[' {
		return nil, s.wrongValue(field, "array")
	}
	s.pos++
	var out []ChannelRequest
	if s.peek() == ']' {
		s.pos++
		return out, nil
	}
	var typeErr error
	for {
		if len(out) == MaxSubscribeChannels {
			return nil, decodeErr(ErrTooLarge, field, "at most "+strconv.Itoa(MaxSubscribeChannels)+" channels")
		}
		r, err := s.channelRequest(field)
		if de, ok := err.(*DecodeError); ok && de.Kind == ErrWrongType {
			typeErr, err = err, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return out, typeErr
		default:
			return nil, errSyntax
		}
	}
}

func (s *scanner) channelRequest(field string) (ChannelRequest, error) {
	var r ChannelRequest
	if s.peek() != '{' {
		return r, s.wrongValue(field+"[]", "object")
	}
	err := s.fields(func(key []byte) error {
		var err error
		switch string(key) {
		case "channel":
			r.Channel, err = s.str(field + "[].channel")
		case "since":
			r.Since, err = s.position(field + "[].since")
		case "age":
			r.Age, err = s.int(field + "[].age")
		default:
			err = s.skip(1)
		}
		return err
	})
	return r, err
}

// validateSubscribe checks a subscribe's channel, or each listed channel.
func (m *ClientMessage) validateSubscribe() error {
	if len(m.Channels) == 0 {
		if err := checkChannel(m.Channel); err != nil {
			return err
		}
		return checkAge("age", m.Age)
	}
	if m.Channel != "" {
		return decodeErr(ErrInvalidField, "channels", "not allowed beside channel")
	}
	for i := range m.Channels {
		if err := checkChannel(m.Channels[i].Channel); err != nil {
			return err
		}
		if err := checkAge("channels[].age", m.Channels[i].Age); err != nil {
			return err
		}
	}
	return nil
}

func checkAge(field string, age int64) error {
	if age < 0 || age > MaxAge {
		return decodeErr(ErrInvalidField, field, "must be 0 to "+strconv.Itoa(MaxAge)+" milliseconds")
	}
	return nil
}

// appendChannelRequests writes a subscribe's "channels" member.
func appendChannelRequests(dst []byte, rs []ChannelRequest) []byte {
	dst = append(dst, `,"channels":[`...)
	for i := range rs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"channel":`...)
		dst = appendString(dst, rs[i].Channel)
		dst = appendRecovery(dst, rs[i].Since, rs[i].Age)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// appendRecovery writes where a subscribe replays from: since, or age.
func appendRecovery(dst []byte, since *Position, age int64) []byte {
	if since != nil {
		dst = append(dst, `,"since":{"epoch":`...)
		dst = appendString(dst, since.Epoch)
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendUint(dst, since.Seq, 10)
		return append(dst, '}')
	}
	if age > 0 {
		dst = append(dst, `,"age":`...)
		dst = strconv.AppendInt(dst, age, 10)
	}
	return dst
}
