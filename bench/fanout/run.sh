#!/bin/sh
# The fan-out matrix of docs/benchmarks.md. Each line is one run of under a
# minute; the servers take turns within each size. Settings:
#   KINDS       "server:clients" pairs (default below)
#   CONNS       connection counts (1000 2000)
#   CHANNELS    channel counts (1 100); 1 channel gets 1,000 events,
#               100 channels 20,000
#   PUBLISHERS  concurrent publishing requests (1)
#   ROUNDS      repetitions of the matrix (1)
#   BIN         where the load generator is built (/tmp/fanout)
set -e
cd "$(dirname "$0")"
BIN=${BIN:-/tmp/fanout}
go build -o "$BIN" .
KINDS=${KINDS:-"liveserver:extended liveserver:extended-raw liveserver:basic centrifuge:centrifuge"}
echo "| server | clients | conns | channels | events | deliveries | deliveries/s | p50 ms | p99 ms | max ms | server CPU µs/delivery | writes/delivery | server KiB/idle conn | clients missing events | publish s |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for round in $(seq "${ROUNDS:-1}"); do
	for conns in ${CONNS:-1000 2000}; do
		for channels in ${CHANNELS:-1 100}; do
			events=1000
			[ "$channels" = 100 ] && events=20000
			for kind in $KINDS; do
				server=${kind%%:*} clients=${kind#*:}
				"$BIN" -server "$server" -clients "$clients" -conns "$conns" -channels "$channels" -events "$events" \
					-publishers "${PUBLISHERS:-1}" -timeout 50s 2>/dev/null ||
					echo "| $server | $clients | $conns | $channels | failed |"
			done
		done
	done
done
