#!/bin/sh
# The fan-out matrix of docs/benchmarks.md: liveserver with the Go engine
# (extended, batching) and with basic clients, and a centrifuge node with
# centrifuge-go clients, at 1,000 and 2,000 connections on 1 and 100
# channels, the servers taking turns. Each line is one run of under a
# minute. ROUNDS (1) repeats the matrix; PUBLISHERS (1) sets concurrent
# publishing requests.
set -e
cd "$(dirname "$0")"
go build -o "${BIN:=/tmp/fanout}" .
echo "| server | clients | conns | channels | events | deliveries | deliveries/s | p50 ms | p99 ms | max ms | server CPU µs/delivery | writes/delivery | server KiB/idle conn | clients missing events | publish s |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for round in $(seq "${ROUNDS:-1}"); do
	for conns in 1000 2000; do
		for channels in 1 100; do
			events=1000
			[ "$channels" = 100 ] && events=20000
			for kind in "liveserver extended" "liveserver extended-raw" "liveserver basic" "centrifuge centrifuge"; do
				set -- $kind
				"$BIN" -server "$1" -clients "$2" -conns "$conns" -channels "$channels" -events "$events" \
					-publishers "${PUBLISHERS:-1}" -timeout 50s 2>/dev/null || echo "| $1 | $2 | $conns | $channels | failed |"
			done
		done
	done
done
