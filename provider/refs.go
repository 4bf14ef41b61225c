package provider

import "strconv"

// refSource makes publish refs: a random prefix per client plus a counter,
// unique without coordination and within protocol.ValidRef's alphabet.
type refSource struct {
	prefix string
	n      uint64
}

const refAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func (r *refSource) init(rnd func() float64) {
	b := make([]byte, 10, 11)
	for i := range b {
		b[i] = refAlphabet[int(rnd()*float64(len(refAlphabet)))%len(refAlphabet)]
	}
	r.prefix = string(append(b, '-'))
}

func (r *refSource) next() string {
	r.n++
	return r.prefix + strconv.FormatUint(r.n, 36)
}

// refRing remembers the last echoWindow refs, each with the origin of its
// publish.
type refRing struct {
	set  map[string]int
	ring []string
	next int
}

func (r *refRing) init(n int) {
	r.set = make(map[string]int, n)
	r.ring = make([]string, n)
}

func (r *refRing) add(ref string, origin int) {
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = ref
	r.set[ref] = origin
	r.next = (r.next + 1) % len(r.ring)
}

func (r *refRing) has(ref string) bool {
	_, ok := r.set[ref]
	return ok
}

// origin is the origin of ref's publish; ok is false for a ref not ours.
func (r *refRing) origin(ref string) (origin int, ok bool) {
	origin, ok = r.set[ref]
	return origin, ok
}
