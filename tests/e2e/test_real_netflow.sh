#!/usr/bin/env bash
# Real clients: softflowd reads a capture of known flows and exports them as
# NetFlow v9 to a unicast group, through a relay with IP forwarding off, to
# three subscribers added with --keep-source; nfcapd (nfdump) in each
# receiver namespace collects them, and nfdump shows the same flows at every
# receiver, with the source's own address as the exporter: collectors tell
# exporters apart by it.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
. "$(dirname "$0")/real_clients.sh"
rc_require_root
rc_setup_traps
real_need softflowd nfcapd nfdump python3 ss
N=3
G=10.77.100.3:2055
EXPORTER=10.77.0.1
PCAP=$RC_TMP/flows.pcap

# The flows in the capture: protocol, source, destination, ports, packets,
# payload bytes per packet. They are only bytes in a file, never sent.
FLOWS=(
	"TCP 10.77.50.1 10.77.60.1 40001 80 4 500"
	"UDP 10.77.50.2 10.77.60.2 40002 53 5 100"
	"UDP 10.77.50.3 10.77.60.3 40003 5004 7 300"
)

# write_pcap FILE FLOW...: an Ethernet pcap with each flow's packets, one
# second apart, interleaved.
write_pcap() {
	local out=$1
	shift
	python3 - "$out" "$@" <<'EOF'
import struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF

def addr(a):
    return bytes(int(x) for x in a.split("."))

def frame(proto, src, dst, sport, dport, seq, payload):
    if proto == "TCP":
        num, flags = 6, 0x18 if seq else 0x02
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 1000 + seq, 0, 5 << 4, flags, 65535, 0, 0) + payload
        off = 16
    else:
        num = 17
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        off = 6
    ph = addr(src) + addr(dst) + struct.pack("!BBH", 0, num, len(l4))
    l4 = l4[:off] + struct.pack("!H", csum(ph + l4) or 0xFFFF) + l4[off + 2:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), seq + 1, 0x4000, 64, num, 0, addr(src), addr(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + l4

flows = [f.split() for f in sys.argv[2:]]
with open(sys.argv[1], "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    t = 1700000000
    for k in range(max(int(f[5]) for f in flows)):
        for proto, src, dst, sport, dport, count, size in flows:
            if k < int(count):
                f = frame(proto, src, dst, int(sport), int(dport), k, bytes(int(size)))
                out.write(struct.pack("<IIII", t + k, 1000 * k, len(f), len(f)) + f)
EOF
}

# The flows as nfdump prints them below: exporter|src|dst|sport|dport|proto|
# packets|bytes (IP bytes: 20 header + 20 TCP or 8 UDP + payload).
expected=$(for f in "${FLOWS[@]}"; do
	read -r proto src dst sport dport count size <<<"$f"
	if [ "$proto" = TCP ]; then hdr=40; else hdr=28; fi
	echo "$EXPORTER|$src|$dst|$sport|$dport|$proto|$count|$((count * (hdr + size)))"
done | sort)
rc_assert_ok "write a capture of ${#FLOWS[@]} known flows" write_pcap "$PCAP" "${FLOWS[@]}"

topo_build $N || exit 1
real_relay || exit 1
rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"
rc_assert_ok "group add $G" $RC group add $G --allow-source 10.77.0.0/24
for ((i = 1; i <= N; i++)); do
	port=$((2100 + i))
	rc_assert_ok "sub add $G 10.77.$i.2:$port --keep-source" $RC sub add $G 10.77.$i.2:$port --keep-source
	mkdir -p "$RC_TMP/nf-$i"
	# nfcapd writes its file when it stops; -t 3600: no rotation meanwhile
	# (nfdump -R reads every file in the directory anyway).
	rc_bg "${TOPO_RX[i]}" timeout 30 nfcapd -w "$RC_TMP/nf-$i" -b 10.77.$i.2 -p $port -t 3600 \
		>"$RC_TMP/nfcapd-$i.log" 2>&1
	COL[i]=$RC_BG_PID
	real_wait_bound "${TOPO_RX[i]}" $port || rc_not_ok "nfcapd $i listens on $port"
done

# -r: read the capture, export every flow at its end and exit (no control
# socket, runs in the foreground); -p keeps its pid file out of /var/run.
out=$(rc_in "$TOPO_SRC" timeout 20 softflowd -r "$PCAP" -n $G -v 9 -p "$RC_TMP/softflowd.pid" 2>&1)
rc_assert_eq 0 $? "softflowd exported the capture to $G"
rc_assert_match "Flows exported: ${#FLOWS[@]} " "$out" "softflowd says it exported ${#FLOWS[@]} flows"

for ((i = 1; i <= N; i++)); do
	port=$((2100 + i))
	real_wait_drained "${TOPO_RX[i]}" $port 5	# nfcapd has read all there is
	kill -TERM "${COL[i]}" 2>/dev/null
	rc_wait_pid "${COL[i]}" 10
	rc_assert_eq 0 $? "receiver $i: nfcapd stopped cleanly"
	got=$(timeout 20 nfdump -R "$RC_TMP/nf-$i" -q -o "fmt:%ra|%sa|%da|%sp|%dp|%pr|%pkt|%byt" 2>&1 | tr -d ' ' | sort)
	rc_assert_eq "$(echo $expected)" "$(echo $got)" "receiver $i: nfdump shows the ${#FLOWS[@]} flows, exporter $EXPORTER"
	# nfdump -E FILE lists the exporters a collector file knows
	exporters=$(for f in "$RC_TMP/nf-$i"/nfcapd.*; do timeout 20 nfdump -E "$f"; done 2>&1 |
		sed -n 's/.*IP: *\([^,]*\), version: *\([0-9]*\),.*flows: *\([0-9]*\).*/\1 v\2 flows=\3/p')
	rc_assert_eq "$EXPORTER v9 flows=${#FLOWS[@]}" "$(echo ${exporters:-no exporter})" "receiver $i: one exporter, the source's address"
done
real_summary
