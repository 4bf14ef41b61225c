package protocol

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSubscribeRecoveryRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		msg   ClientMessage
		frame string
	}{
		{"age", ClientMessage{Action: ActionSubscribe, Channel: "c", Age: 1800},
			`{"action":"subscribe","channel":"c","age":1800}`},
		{"since wins over age", ClientMessage{Action: ActionSubscribe, Channel: "c", Since: &Position{"e", 4}},
			`{"action":"subscribe","channel":"c","since":{"epoch":"e","seq":4}}`},
		{"channels", ClientMessage{Action: ActionSubscribe, Channels: []ChannelRequest{
			{Channel: "a", Since: &Position{"e", 41}}, {Channel: "b", Age: 1200}, {Channel: "c\"q"}}},
			`{"action":"subscribe","channels":[{"channel":"a","since":{"epoch":"e","seq":41}},{"channel":"b","age":1200},{"channel":"c\"q"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendClient(nil, &tt.msg))
			if got != tt.frame {
				t.Fatalf("encoded %s, want %s", got, tt.frame)
			}
			m, err := DecodeClient([]byte(got), 0)
			require.NoError(t, err)
			if !reflect.DeepEqual(m, tt.msg) {
				t.Fatalf("decoded %+v, want %+v", m, tt.msg)
			}
		})
	}
}

func TestRequests(t *testing.T) {
	one := ClientMessage{Action: ActionSubscribe, Channel: "c", Age: 5}
	if got := one.Requests(); !reflect.DeepEqual(got, []ChannelRequest{{Channel: "c", Age: 5}}) {
		t.Fatalf("single: %+v", got)
	}
	many := ClientMessage{Action: ActionSubscribe, Channels: []ChannelRequest{{Channel: "a"}, {Channel: "b"}}}
	if got := many.Requests(); len(got) != 2 || got[1].Channel != "b" {
		t.Fatalf("batch: %+v", got)
	}
}

func TestSubscribeErrors(t *testing.T) {
	tooMany := `{"action":"subscribe","channels":[` + strings.Repeat(`{"channel":"c"},`, MaxSubscribeChannels) + `{"channel":"c"}]}`
	tests := []struct {
		name  string
		frame string
		kind  error
		field string
	}{
		{"negative age", `{"action":"subscribe","channel":"c","age":-1}`, ErrInvalidField, "age"},
		{"age too old", `{"action":"subscribe","channel":"c","age":86400001}`, ErrInvalidField, "age"},
		{"age not number", `{"action":"subscribe","channel":"c","age":"1"}`, ErrWrongType, "age"},
		{"channels not array", `{"action":"subscribe","channels":{}}`, ErrWrongType, "channels"},
		{"entry not object", `{"action":"subscribe","channels":["a"]}`, ErrWrongType, "channels[]"},
		{"entry without channel", `{"action":"subscribe","channels":[{"age":1}]}`, ErrInvalidField, "channel"},
		{"entry age negative", `{"action":"subscribe","channels":[{"channel":"a","age":-5}]}`, ErrInvalidField, "channels[].age"},
		{"entry since wrong type", `{"action":"subscribe","channels":[{"channel":"a","since":3}]}`, ErrWrongType, "channels[].since"},
		{"channel beside channels", `{"action":"subscribe","channel":"a","channels":[{"channel":"b"}]}`, ErrInvalidField, "channels"},
		{"empty list is a single subscribe without channel", `{"action":"subscribe","channels":[]}`, ErrInvalidField, "channel"},
		{"unterminated list", `{"action":"subscribe","channels":[{"channel":"a"}`, ErrMalformed, ""},
		{"too many", tooMany, ErrTooLarge, "channels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeClient([]byte(tt.frame), 1<<20)
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, tt.kind) || de.Field != tt.field {
				t.Fatalf("got %v, want %v on %q", err, tt.kind, tt.field)
			}
		})
	}
}
