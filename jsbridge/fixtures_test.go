//go:build js && wasm

package jsbridge

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/refine-live-wasm/refine-live-wasm/provider"
)

// The Go half of the bridge contract against the fixtures that
// npm/test/unit/bridge-contract.test.js reads too.

func readFixture(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile("testdata/contract/" + name)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, v))
}

type commandFixture struct {
	Name string `json:"name"`
	Text string `json:"text"`
	Read struct {
		Kind       string    `json:"kind"`
		ID         int       `json:"id"`
		Channel    string    `json:"channel"`
		Types      []string  `json:"types"`
		IDs        *[]string `json:"ids"`
		CoalesceMs float64   `json:"coalesceMs"`
		AgeMs      float64   `json:"ageMs"`
		Type       string    `json:"type"`
		Payload    string    `json:"payload"`
		Meta       *string   `json:"meta"`
		Origin     int       `json:"origin"`
	} `json:"read"`
}

// parseCommands collects what eachCommand hands over.
func parseCommands(text []byte, now func() time.Time) ([]command, error) {
	var cmds []command
	err := eachCommand(text, now, func(c *command) { cmds = append(cmds, *c) })
	return cmds, err
}

func TestCommandsFixtures(t *testing.T) {
	var f struct {
		Commands []commandFixture `json:"commands"`
		Refused  []string         `json:"refused"`
	}
	readFixture(t, "commands.json", &f)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	for _, c := range f.Commands {
		t.Run(c.Name, func(t *testing.T) {
			cmds, err := parseCommands([]byte("["+c.Text+"]"), clock)
			require.NoError(t, err)
			require.Len(t, cmds, 1)
			got, want := cmds[0], c.Read
			assert.Equal(t, want.Kind, got.kind)
			switch want.Kind {
			case "s":
				assert.Equal(t, want.ID, got.id)
				assert.Equal(t, want.Channel, got.sub.Channel)
				assert.Equal(t, want.Types, got.sub.Types)
				if want.IDs == nil {
					assert.Nil(t, got.sub.IDs)
				} else {
					assert.Equal(t, *want.IDs, got.sub.IDs)
				}
				assert.Equal(t, msDuration(want.CoalesceMs), got.sub.Coalesce)
				if want.AgeMs > 0 {
					assert.Equal(t, now.Add(-msDuration(want.AgeMs)), got.sub.CalledAt)
				} else {
					assert.True(t, got.sub.CalledAt.IsZero(), "an age of 0 leaves CalledAt zero (now)")
				}
				assert.Equal(t, want.Origin, got.sub.Origin)
			case "u":
				assert.Equal(t, want.ID, got.id)
			case "p":
				assert.Equal(t, want.Channel, got.publish.Channel)
				assert.Equal(t, want.Type, got.publish.Type)
				assert.Equal(t, want.Payload, string(got.publish.Payload))
				if want.Meta == nil {
					assert.Nil(t, got.publish.Meta)
				} else {
					assert.Equal(t, *want.Meta, string(got.publish.Meta))
				}
				assert.Equal(t, want.Origin, got.publish.Origin)
			}
		})
	}
	t.Run("a whole batch, reading the clock once", func(t *testing.T) {
		text := "["
		for i, c := range f.Commands {
			if i > 0 {
				text += ","
			}
			text += c.Text
		}
		reads := 0
		cmds, err := parseCommands([]byte(text+"]"), func() time.Time { reads++; return now })
		require.NoError(t, err)
		assert.Len(t, cmds, len(f.Commands))
		assert.Equal(t, 1, reads)
	})
	for _, text := range f.Refused {
		_, err := parseCommands([]byte(text), clock)
		assert.ErrorIs(t, err, errMalformedCommands, "batch %q", text)
	}
}

type deliveryFixture struct {
	IDs   []int `json:"ids"`
	Event struct {
		Channel string `json:"channel"`
		Type    string `json:"type"`
		Payload string `json:"payload"`
		Date    int64  `json:"date"`
		ID      string `json:"id"`
		Meta    string `json:"meta"`
	} `json:"event"`
}

func TestEventFixtures(t *testing.T) {
	var f struct {
		Batches []struct {
			Name       string            `json:"name"`
			Deliveries []deliveryFixture `json:"deliveries"`
			Text       string            `json:"text"`
		} `json:"batches"`
		Outbox struct {
			Sections [][2]json.RawMessage `json:"sections"`
			Text     string               `json:"text"`
		} `json:"outbox"`
	}
	readFixture(t, "events.json", &f)
	for _, b := range f.Batches {
		t.Run(b.Name, func(t *testing.T) {
			var items []delivery
			var ids []int
			for _, d := range b.Deliveries {
				ev := provider.Event{Channel: d.Event.Channel, Type: d.Event.Type, Date: d.Event.Date, ID: d.Event.ID}
				if d.Event.Payload != "" {
					ev.Payload = []byte(d.Event.Payload)
				}
				if d.Event.Meta != "" {
					ev.Meta = []byte(d.Event.Meta)
				}
				items = append(items, delivery{from: len(ids), to: len(ids) + len(d.IDs), event: ev})
				ids = append(ids, d.IDs...)
			}
			assert.Equal(t, b.Text, string(appendBatch(nil, items, ids)))
		})
	}
	t.Run("outbox", func(t *testing.T) {
		exported.mu.Lock()
		exported.depth, exported.outbox = 1, nil
		exported.mu.Unlock()
		for _, s := range f.Outbox.Sections {
			var handle uint32
			var batch string
			require.NoError(t, json.Unmarshal(s[0], &handle))
			require.NoError(t, json.Unmarshal(s[1], &batch))
			require.True(t, toOutbox(handle, []byte(batch)))
		}
		exported.mu.Lock()
		got := string(exported.outbox)
		exported.depth, exported.outbox = 0, nil
		exported.mu.Unlock()
		assert.Equal(t, f.Outbox.Text, got)
		assert.False(t, toOutbox(1, []byte("[]")), "outside an export a batch goes to onEvents")
	})
}

func TestStatusCodesFixture(t *testing.T) {
	var f struct {
		Engine []string `json:"engine"`
	}
	readFixture(t, "status-codes.json", &f)
	assert.Equal(t, provider.StatusCodes, f.Engine)
}
