package provider

import "time"

// backoff returns the delay before retry attempt n (0-based):
//
//	min + r·min(max-min, min·2^n), r in [0,1)
//
// Full jitter on top of a floor, as centrifuge-js does, except that the
// spread is capped at max-min rather than the delay being clamped to max: a
// clamp would pile every client that reached the cap onto exactly max and
// make them reconnect together.
func backoff(min, max time.Duration, n int, r float64) time.Duration {
	spread := max - min
	if n < 0 {
		n = 0
	}
	if n < 40 && min <= spread>>uint(n) {
		spread = min << uint(n)
	}
	if r < 0 || r >= 1 {
		r = 0
	}
	return min + time.Duration(r*float64(spread))
}
