package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/internal/livetest"
)

// Each event of an array is held to the event rules exactly as a single
// event is: the whole table, one event per array.
func TestEventRulesOverHTTPArray(t *testing.T) {
	runEventRules(t, func(t *testing.T, s *testServer, tc eventCase) string {
		resp, body := post(t, s.URL+"/publish", "", "["+httpBody(tc)+"]")
		if resp.StatusCode == http.StatusOK {
			var stored []publishResponse
			if err := json.Unmarshal([]byte(body), &stored); err != nil || len(stored) != 1 || stored[0].Seq != 1 {
				t.Fatalf("answer %q: %v", body, err)
			}
			return ""
		}
		var answer struct{ Code, Message string }
		require.NoError(t, json.Unmarshal([]byte(body), &answer), "answer %d %q", resp.StatusCode, body)
		wantStatus := map[string]int{"bad_request": http.StatusBadRequest, "too_large": http.StatusRequestEntityTooLarge}[answer.Code]
		// A body that is not JSON at all cannot name an event.
		named := strings.HasPrefix(answer.Message, "event 0: ") || strings.HasPrefix(answer.Message, "body must be")
		if resp.StatusCode != wantStatus || !named {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		return answer.Code
	})
}

func TestPublishArrayStoresAllInOrder(t *testing.T) {
	s := startServer(t, Config{})
	sub, _ := livetest.DialExtended(t, s.WSURL)
	subscribeSince(sub, "a", nil)
	expectSubscribed(t, sub, "a", 0, false)
	resp, body := post(t, s.URL+"/publish", "", ` [{"channel":"a","type":"created","payload":{"ids":[1]}},
		{"channel":"b","type":"created"},{"channel":"a","type":"updated","id":"r-1"}]`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var stored []publishResponse
	require.NoError(t, json.Unmarshal([]byte(body), &stored))
	if len(stored) != 3 || stored[0].Channel != "a" || stored[0].Seq != 1 || stored[1].Channel != "b" ||
		stored[1].Seq != 1 || stored[2].Seq != 2 || stored[2].ID != "r-1" {
		t.Fatalf("answer %s", body)
	}
	expectEvents(t, sub, "a", 1, 2)
}

// One bad event refuses the whole array: nothing is stored.
func TestPublishArrayIsAllOrNothing(t *testing.T) {
	s := startServer(t, Config{})
	sub, _ := livetest.DialExtended(t, s.WSURL)
	subscribeSince(sub, "a", nil)
	expectSubscribed(t, sub, "a", 0, false)
	for _, tc := range []struct{ body, code, message string }{
		{`[{"channel":"a","type":"t"},{"channel":"a"}]`, "bad_request", "event 1: "},
		{`[{"channel":"a","type":"t"},{"channel":"a","type":"t","payload":[1]}]`, "bad_request", "event 1: "},
		{`[{"channel":"a","type":"t"},"x"]`, "bad_request", "event 1: "},
		{`[]`, "bad_request", "empty array"},
		{`[{"channel":"a","type":"t"}] {}`, "bad_request", "body must be"},
	} {
		resp, body := post(t, s.URL+"/publish", "", tc.body)
		var answer struct{ Code, Message string }
		_ = json.Unmarshal([]byte(body), &answer)
		if resp.StatusCode != http.StatusBadRequest || answer.Code != tc.code || !strings.HasPrefix(answer.Message, tc.message) {
			t.Fatalf("%s: status %d, %s", tc.body, resp.StatusCode, body)
		}
	}
	resp, body := post(t, s.URL+"/publish", "", `{"channel":"a","type":"sentinel"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if m := sub.NextNonPing(); m.Type != "sentinel" || m.Seq != 1 {
		t.Fatalf("a refused array stored an event: %+v", m)
	}
}
