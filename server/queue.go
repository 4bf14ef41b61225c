package server

import "sync"

// sendQueue is a connection's bounded queue of outgoing messages. Unlike
// a channel of SendQueue slots, which is allocated whole when the
// connection opens, it holds next to nothing while idle, and the writer
// takes everything queued with one lock instead of one receive per
// message.
type sendQueue struct {
	mu    sync.Mutex
	q     [][]byte
	limit int
	wake  chan struct{} // a message arrived in an empty queue
	room  chan struct{} // the writer emptied the queue
}

func newSendQueue(limit int) *sendQueue {
	return &sendQueue{limit: limit, wake: make(chan struct{}, 1), room: make(chan struct{}, 1)}
}

// push queues b unless the queue is full.
func (s *sendQueue) push(b []byte) bool {
	s.mu.Lock()
	if len(s.q) >= s.limit {
		s.mu.Unlock()
		return false
	}
	s.q = append(s.q, b)
	first := len(s.q) == 1
	s.mu.Unlock()
	if first {
		// The writer takes the whole queue on each wake, so only the
		// message that makes it non-empty needs to wake it.
		signal(s.wake)
	}
	return true
}

// take returns everything queued and leaves spare, emptied, as the queue.
func (s *sendQueue) take(spare [][]byte) [][]byte {
	s.mu.Lock()
	q := s.q
	s.q = spare[:0]
	s.mu.Unlock()
	if len(q) > 0 {
		signal(s.room)
	}
	return q
}

func (s *sendQueue) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.q)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
