#!/usr/bin/env bash
# Real clients: ffmpeg streams an MPEG-TS file (that it made itself) at its
# real rate to a multicast group with its default multicast TTL (ffmpeg sets
# 16, unlike iperf's socket default of 1), through a relay with IP forwarding
# off; ffmpeg in each of three receiver namespaces records the stream from
# its own unicast address and port, and every recording decodes without an
# error to as many video frames as the source file has.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
. "$(dirname "$0")/real_clients.sh"
rc_require_root
rc_setup_traps
real_need ffmpeg ffprobe ss
N=3
G=239.77.1.2:5002
SRC_TS=$RC_TMP/source.ts

# frames FILE: the video frames ffprobe decodes from FILE
frames() {
	timeout 60 ffprobe -v error -count_frames -select_streams v:0 \
		-show_entries stream=nb_read_frames -of json "$1" | jq -r '.streams[0].nb_read_frames'
}

# 2 s of 25 frames/s: 50 frames
rc_assert_ok "ffmpeg makes a 2 s MPEG-TS test file" timeout 60 ffmpeg -nostdin -v error \
	-f lavfi -i testsrc=duration=2:size=320x240:rate=25 -c:v mpeg2video -f mpegts "$SRC_TS"
SRC_FRAMES=$(frames "$SRC_TS")
rc_assert_eq 50 "$SRC_FRAMES" "the source file has 50 video frames"

topo_build $N || exit 1
real_relay || exit 1
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"
rc_assert_ok "group add $G" $RC group add $G --allow-source 10.77.0.0/24
for ((i = 1; i <= N; i++)); do
	rc_assert_ok "sub add $G 10.77.$i.2:$((5200 + i))" $RC sub add $G 10.77.$i.2:$((5200 + i))
done
# The receivers start together, just before the sender: a recording ends 5 s
# after the last datagram (timeout= is in us), and also 5 s after it opened if
# none came. The outer timeout only bounds a stuck ffmpeg. A large socket FIFO
# so that a loaded machine does not overrun it.
for ((i = 1; i <= N; i++)); do
	rc_bg "${TOPO_RX[i]}" timeout 30 ffmpeg -nostdin -v error -y \
		-i "udp://10.77.$i.2:$((5200 + i))?timeout=5000000&fifo_size=100000" \
		-c copy -f mpegts "$RC_TMP/rx-$i.ts" >"$RC_TMP/rx-$i.log" 2>&1
	RX[i]=$RC_BG_PID
done
for ((i = 1; i <= N; i++)); do
	real_wait_bound "${TOPO_RX[i]}" $((5200 + i)) || rc_not_ok "ffmpeg receiver $i listens on $((5200 + i))"
done

rc_assert_ok "ffmpeg streams the file to $G in real time" \
	rc_in "$TOPO_SRC" timeout 30 ffmpeg -nostdin -v error -re -i "$SRC_TS" -c copy \
	-f mpegts "udp://${G%:*}:${G##*:}?pkt_size=1316"

for ((i = 1; i <= N; i++)); do
	rc_wait_pid "${RX[i]}" 20
	rc_assert_eq 0 $? "receiver $i: ffmpeg exits 0, its recording ended by its read timeout"
	if [ ! -s "$RC_TMP/rx-$i.ts" ]; then
		rc_not_ok "receiver $i recorded the stream" "no recording; ffmpeg said: $(tr '\n' ' ' <"$RC_TMP/rx-$i.log")"
		continue
	fi
	errs=$(timeout 60 ffmpeg -nostdin -v error -i "$RC_TMP/rx-$i.ts" -f null - 2>&1)
	rc_assert_eq "" "$errs" "receiver $i: its recording decodes without an error"
	rc_assert_eq "$SRC_FRAMES" "$(frames "$RC_TMP/rx-$i.ts")" "receiver $i: as many video frames as the source file"
done
real_summary
