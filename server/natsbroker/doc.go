// Package natsbroker is a server.Broker on NATS JetStream, so that several
// liveserver nodes share one history: an event published on any node
// reaches subscribers on every node, and a client that reconnects to
// another node recovers exactly what it missed.
//
// # Subjects
//
// One stream (default "REFINE_LIVE") covers "<prefix>.*" (default prefix
// "refine-live"). Channel C is stored on "<prefix>.<token(C)>", where
// token keeps ASCII letters, digits and '-' and writes every other byte,
// '_' included, as '_' and two upper-case hex digits:
//
//	resources/posts   → refine-live.resources_2Fposts
//	chat.room_1 ✓     → refine-live.chat_2Eroom_5F1_20_E2_9C_93
//
// The token is always one literal subject token (no '.', '*', '>' or
// whitespace) and the mapping is injective, so no channel can reach
// another's subject or act as a wildcard.
//
// # Sequence numbers
//
// A channel's seq counts its events 1, 2, 3, … without gaps. Each stream
// message holds the event with its seq and epoch. To publish, a node reads
// the channel's newest message (its "tip": stream sequence, seq, epoch)
// and publishes seq+1 with Nats-Expected-Last-Subject-Sequence set to the
// tip's stream sequence. JetStream stores the message only if nothing was
// stored on the subject since, so two nodes racing for the same seq cannot
// both win: the loser re-reads the tip and tries again. Seq therefore
// comes from the stored history itself and is the same on every node. A
// node caches each channel's tip after its own publishes and serialises
// its own publishes per channel, so a channel written from one node costs
// one round trip per event. A cached tip is dropped after a reconnect,
// since NATS may have come back with a new stream whose sequences
// restarted.
//
// # Epochs
//
// An epoch names one continuous history of a channel. A history starts
// when an event is published on a subject that holds nothing (the first
// event ever, or the first after MaxAge expired all of them, or after a
// purge); its epoch is the stream's creation time and the stream's last
// sequence at that moment, both base 36 ("m3x1q2k0.2s"), and every later
// event copies it from the tip. A recreated stream therefore gives new
// epochs, as does a history that restarts inside one stream (it starts
// after every message of the previous one). A channel with no event has
// no epoch yet: History reports the empty position.
//
// # History and idempotency
//
// The stream keeps History events per channel (MaxMsgsPerSubject) and
// optionally drops those older than MaxAge. History(since) is complete when
// since is in the tip's epoch and every event after since.Seq is still
// kept; short gaps are read back from the tip along each message's link to
// the previous one, longer ones through a short-lived consumer filtered to
// the channel. Reads go to the stream leader (direct gets are off), so a
// History covers every event stored before it. The event id is sent as
// Nats-Msg-Id (with the subject), so a repeated publish is a duplicate
// within the stream's duplicate window (DuplicateWindow, default 2 m),
// shorter than the in-memory broker's "while in history".
//
// # Delivery
//
// Each node runs one ordered consumer over all channel subjects starting at
// the newest message, and dispatches each event to the node's
// registrations for its channel, one at a time, in stream order. A node
// therefore receives every channel's events. Publish returns once the
// node's own consumer has dispatched the event (within DeliveryWait), so
// a publisher's ack follows its echo as with the in-memory broker. After a
// NATS reconnect the ordered consumer resumes after the last message it
// saw; when NATS came back without the stream, the broker recreates it and
// every channel starts a new epoch, which clients see as a resync.
package natsbroker
