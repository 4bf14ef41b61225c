// Package pgsource turns committed PostgreSQL changes into live events:
// it reads a logical replication slot through the pgoutput plugin and
// publishes, for every INSERT, UPDATE and DELETE on a published table T,
// an event on resources/T of type created, updated or deleted with payload
// {"ids":[<primary key>]}, dated with the commit time. A logical decoding
// message with the prefix "refine-live", written with
// pg_logical_emit_message(true, 'refine-live', '{"channel":…,"type":…,"payload":…}')
// inside a transaction, becomes that event when and only when the
// transaction commits.
//
// Exactly once. Each event's id is derived from its transaction's commit
// LSN and its index in the transaction, so a change the slot sends again
// carries the id it had the first time, and the broker's idempotent
// publish (by id) stores it once. The slot's confirmed flush position
// moves only past transactions whose every event the broker has stored.
// A crash at any moment therefore makes PostgreSQL resend at most the
// transactions that were not confirmed, which the broker recognises:
// nothing is lost and nothing is stored twice, as long as the broker's
// history outlives the crash (JetStream; the in-memory broker loses its
// history with the process, and clients then resync on the new epoch).
//
// One consumer. A slot streams to one connection at a time. The source
// first takes a session advisory lock derived from the slot's name on a
// separate connection; a node that cannot take it stands by and tries
// again every second, so another node takes over within seconds when the
// owner dies (PostgreSQL releases the lock when the owner's connection
// closes). The slot's own exclusivity backs the lock up: a node that
// holds the lock while the former owner's stream lingers fails to start
// replication and retries.
//
// Faults. Any failure (PostgreSQL down or restarted, a network cut)
// closes both connections; the source retries with capped exponential
// backoff and reports itself degraded until it streams again, resuming
// from the slot. The WebSocket service is not affected.
package pgsource
