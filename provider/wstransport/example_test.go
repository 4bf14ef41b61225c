package wstransport_test

import (
	"encoding/json"
	"log"

	"github.com/refine-live-wasm/refine-live-wasm/provider"
	"github.com/refine-live-wasm/refine-live-wasm/provider/wstransport"
)

// A native Go subscriber and publisher.
func Example() {
	c, err := provider.New(provider.Config{
		URLs:      []string{"ws://127.0.0.1:8080/live"},
		Transport: &wstransport.Transport{},
		OnError:   func(err error) { log.Println(err) },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	sub, _ := c.Subscribe(provider.SubscribeOptions{
		Channel: "resources/posts",
		Callback: func(e provider.Event) {
			if e.Resync != "" {
				log.Println("missed events; refetch", e.Channel)
				return
			}
			log.Println(e.Type, string(e.Payload))
		},
	})
	defer c.Unsubscribe(sub)
	c.Publish(provider.PublishEvent{Channel: "resources/posts", Type: "created", Payload: json.RawMessage(`{"ids":[1]}`)})
}
