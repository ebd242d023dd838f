#!/usr/bin/env bash
# What arrives over a real link and must not be replicated: IP fragments of
# an oversized datagram, TTL 1, frames cut inside the IP header, VLAN-tagged
# frames. Each lands on its own counter; receivers get nothing; the good
# packets around them still go through.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/topology.sh"
rc_require_root
rc_setup_traps
topo_build 1 || exit 1
G=10.77.100.1:5000
SRC_DEV=$(rc_name so)

rc_assert_ok "load" $RC load --dev "$TOPO_RELAY_IN"
rc_assert_ok "group add" $RC group add $G --allow-source 10.77.0.1
rc_assert_ok "sub add" $RC sub add $G 10.77.1.2:6000
drop() { topo_stat ".drops.$1"; }

# Only the two good packets may arrive: --linger-ms catches any extra.
topo_sink 1 10.77.1.2:6000 2 --size 100 --linger-ms 1000

rc_in "$TOPO_SRC" python3 - "$SRC_DEV" <<'PY'
import socket, struct, sys
dev = sys.argv[1]
def payload(seq, size=100):
    # rc_blast's pattern, which rc_sink checks byte by byte
    out = bytearray(struct.pack(">Q", seq))
    for i in range(8, size):
        v = ((seq & 0xffffffff) * 0x9E3779B1 + i * 0xC2B2AE3D) & 0xffffffff
        out.append((v ^ (v >> 15) ^ (v >> 24)) & 0xff)
    return bytes(out)
def udp(payload, ttl=64):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    s.sendto(payload, ("10.77.100.1", 5000))
udp(payload(0))                                      # seq 0: fine
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)               # IP_MTU_DISCOVER = DONT: allow fragments
s.sendto(bytes(3000), ("10.77.100.1", 5000))         # 3 fragments
udp(bytes(100), ttl=1)                               # TTL 1
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
raw.bind((dev, 0))

eth = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01"
raw.send(eth + b"\x08\x00" + b"\x45\x00\x00\x30" + bytes(6))       # cut inside the IPv4 header
raw.send(eth + b"\x81\x00\x00\x07\x08\x00" + bytes(46))             # VLAN tag
udp(payload(1))                                      # seq 1: fine
PY
rc_assert_eq 0 $? "the crafted traffic was sent"
topo_sink_wait 1 6000
rc_assert_eq 0 $? "the receiver got exactly the two good packets, in order" || cat "$RC_TMP/sink-1-6000"
rc_assert_eq 3 "$(drop fragment)" "three fragments counted"
rc_assert_eq 1 "$(drop ttl_exceeded)" "TTL 1 counted"
rc_assert_eq 1 "$(drop truncated_ip)" "a frame cut inside the IP header counted"
rc_assert_eq 1 "$(drop vlan)" "a VLAN-tagged frame counted"
# A packet refused before fan-out (TTL, source, cap) is not taken: taken
# packets times subscribers is what copies sent and dropped add up to.
rc_assert_eq 2 "$(topo_stat '.groups[0].received.packets')" "the group took the 2 good packets, not the TTL 1 one"
rc_assert_eq 2 "$(topo_stat '.groups[0].sent.packets')" "two copies sent"
rc_summary
