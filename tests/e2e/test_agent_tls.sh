#!/usr/bin/env bash
# san: yes
# The agent and fleet status against an etcd that wants TLS client
# certificates (made here with openssl: a CA, etcd's certificate for its
# address, a client's; and a client certificate of another CA, refused with
# a clear error), then against one with user:password authentication
# (the gateway's /v3/auth/authenticate, its token in every request), where a
# relay's user may touch only its own prefix.
#
#   ctl (etcd https://10.81.0.1:2379) ──veth── relay 10.81.0.2
set -u
. "$(dirname "$0")/../lib.sh"
rc_require_root
rc_setup_traps
. "$(dirname "$0")/agent_lib.sh"
RC="$RC_ROOT/$BUILD/replicast"

AGENT_CTL=$(rc_name ctl)
RELAY=$(rc_name rel)
PIN=/sys/fs/bpf/rc-agent-tls-$RC_ID
trap '[ -d "$PIN" ] && rc_in "$RELAY" "$RC" --pin-path "$PIN" unload; rm -rf "$PIN"; rc_cleanup' EXIT
rc_ns_add "$AGENT_CTL" && rc_ns_add "$RELAY" || exit 1
DEV=$(rc_name rd)
rc_veth "$(rc_name cd)" "$AGENT_CTL" "$DEV" "$RELAY" || exit 1
rc_addr "$AGENT_CTL" "$(rc_name cd)" 10.81.0.1/24
rc_addr "$RELAY" "$DEV" 10.81.0.2/24

# ---- Certificates ------------------------------------------------------------
P=$RC_TMP/pki
mkdir -p "$P"
# cert NAME CA SUBJECT EXTENSIONS: an EC key and a certificate CA signs.
cert() {
	timeout 10 openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$P/$1.key" -out "$P/$1.csr" -subj "/CN=$3" 2>/dev/null &&
	printf '%s\n' "$4" >"$P/$1.ext" &&
	timeout 10 openssl x509 -req -in "$P/$1.csr" -CA "$P/$2.crt" -CAkey "$P/$2.key" \
		-CAcreateserial -days 1 -extfile "$P/$1.ext" -out "$P/$1.crt" 2>/dev/null
}
ca() {
	timeout 10 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$P/$1.key" -out "$P/$1.crt" -days 1 -subj "/CN=$1" 2>/dev/null
}
rc_assert_ok "openssl makes a CA" ca rc-test-ca
# etcd's gateway dials etcd's own gRPC with this certificate too: clientAuth.
rc_assert_ok "... etcd's certificate for 10.81.0.1 and 127.0.0.1" \
	cert server rc-test-ca etcd "subjectAltName=IP:10.81.0.1,IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
rc_assert_ok "... a relay's client certificate" cert client rc-test-ca relay "extendedKeyUsage=clientAuth"
rc_assert_ok "... and another CA's client certificate" ca rc-other-ca
cert wrong rc-other-ca relay "extendedKeyUsage=clientAuth"

mkdir -p "$RC_TMP/etcd"
AGENT_ETCD_OPTS="--cert-file $P/server.crt --key-file $P/server.key --client-cert-auth --trusted-ca-file $P/rc-test-ca.crt"
AGENT_ECTL_OPTS="--endpoints=https://127.0.0.1:2379 --cacert=$P/rc-test-ca.crt --cert=$P/client.crt --key=$P/client.key"
rc_assert_ok "etcd starts with TLS and client certificates required" \
	agent_etcd_start "$AGENT_CTL" "$RC_TMP/etcd/tls" https://10.81.0.1:2379 https://127.0.0.1:2379

ROOT=/rc-$RC_ID/
conf() {
	printf 'load --dev %s --no-inject\ngroup add 10.81.100.1:5000\n' "$DEV"
	for p in "$@"; do printf 'sub add 10.81.100.1:5000 10.81.0.1:%s\n' "$p"; done
}
conf 7000 | ectl put "${ROOT}relay/config" >/dev/null
TLS=(--cacert "$P/rc-test-ca.crt" --cert "$P/client.crt" --key "$P/client.key")
agent_start tls "$RELAY" "$PIN" --etcd https://10.81.0.1:2379 --prefix "${ROOT}relay/" \
	--ttl 3 --interval 1 "${TLS[@]}"
rc_assert_ok "the agent applies its configuration over TLS with its certificate" \
	wait_applied "${ROOT}relay/" "$(config_rev "${ROOT}relay/")" 10
rc_assert_eq "10.81.0.1:7000" \
	"$(rc_in "$RELAY" "$RC" --pin-path "$PIN" list --json | jq -r '[.groups[].subscribers[].dest] | join(" ")')" \
	"... the relay runs it"
conf 7000 7001 | ectl put "${ROOT}relay/config" >/dev/null
rc_assert_ok "... and its next revision, through a watch over TLS" \
	wait_applied "${ROOT}relay/" "$(config_rev "${ROOT}relay/")" 5
fleet=$(rc_in "$RELAY" "$RC" fleet status --etcd https://10.81.0.1:2379 --prefix "$ROOT" "${TLS[@]}")
rc_assert_match "${ROOT}relay/ .* 1 +2 " "$fleet" "fleet status over TLS shows the relay"

rc=0
out=$(rc_in "$RELAY" "$RC" fleet status --etcd https://10.81.0.1:2379 --prefix "$ROOT" \
	--cacert "$P/rc-test-ca.crt" --cert "$P/wrong.crt" --key "$P/wrong.key" 2>&1) || rc=$?
rc_assert_eq 1 "$rc" "a client certificate of another CA: fleet status fails (exit 1)"
rc_assert_match "refused this client's TLS certificate.*--cert/--key signed by the CA etcd trusts" \
	"$out" "... saying etcd refused the certificate and what to give"
rc=0
out=$(rc_in "$RELAY" "$RC" fleet status --etcd https://10.81.0.1:2379 --prefix "$ROOT" 2>&1) || rc=$?
rc_assert_eq 1 "$rc" "no --cacert for etcd's own CA: fails too"
rc_assert_match "TLS failed .*check --cacert" "$out" "... naming --cacert"

# The agent with the wrong certificate says so and keeps trying; the running
# state is untouched.
agent_start wrong "$RELAY" "$PIN" --etcd https://10.81.0.1:2379 --prefix "${ROOT}other/" \
	--cacert "$P/rc-test-ca.crt" --cert "$P/wrong.crt" --key "$P/wrong.key"
said=
for ((i = 0; i < 50; i++)); do
	said=$(grep -m1 "refused this client's TLS certificate" "$RC_TMP/agent-wrong.log")
	[ -n "$said" ] && break
	sleep 0.1
done
[ -n "$said" ] || said=$(cat "$RC_TMP/agent-wrong.log")
rc_assert_match "retrying" "$said" "an agent with the wrong certificate logs the refusal and retries"
kill -TERM "${AGENT_PID[wrong]}"
rc_wait_pid "${AGENT_TIMEOUT_PID[wrong]}" 5 >/dev/null
kill -TERM "${AGENT_PID[tls]}"
rc_wait_pid "${AGENT_TIMEOUT_PID[tls]}" 5 >/dev/null
agent_etcd_stop

# ---- user:password --------------------------------------------------------------
AGENT_ETCD_OPTS=
AGENT_ECTL_OPTS="--endpoints=http://127.0.0.1:2379"
rc_assert_ok "etcd starts without TLS" \
	agent_etcd_start "$AGENT_CTL" "$RC_TMP/etcd/auth" http://10.81.0.1:2379 http://127.0.0.1:2379
conf 7001 | ectl put "${ROOT}relay/config" >/dev/null
{
	ectl user add root --new-user-password=rootpw &&
	ectl role add root && ectl user grant-role root root &&
	ectl user add relay --new-user-password=relaypw && ectl role add relay &&
	ectl role grant-permission relay --prefix=true readwrite "${ROOT}relay/" &&
	ectl user grant-role relay relay && ectl auth enable
} >"$RC_TMP/auth.log" 2>&1
rc_assert_eq 0 $? "users root and relay (read-write on ${ROOT}relay/ only), auth enabled"
AGENT_ECTL_OPTS="--endpoints=http://127.0.0.1:2379 --user=root:rootpw"
# The first URL answers nobody: the agent goes on to the next.
agent_start auth "$RELAY" "$PIN" --etcd http://10.81.0.1:1,http://10.81.0.1:2379 \
	--prefix "${ROOT}relay/" --ttl 3 --interval 1 --user relay:relaypw
rc_assert_ok "the agent (its first etcd URL dead) authenticates as relay and applies its configuration" \
	wait_applied "${ROOT}relay/" "$(config_rev "${ROOT}relay/")" 10
rc_assert_eq "10.81.0.1:7001" \
	"$(rc_in "$RELAY" "$RC" --pin-path "$PIN" list --json | jq -r '[.groups[].subscribers[].dest] | join(" ")')" \
	"... the relay runs it"
conf 7002 | ectl put "${ROOT}relay/config" >/dev/null
rc_assert_ok "... and the next revision, through its watch" \
	wait_applied "${ROOT}relay/" "$(config_rev "${ROOT}relay/")" 5
fleet=$(rc_in "$RELAY" "$RC" fleet status --etcd http://10.81.0.1:2379 --prefix "$ROOT" --json \
	--user root:rootpw)
rc_assert_eq "${ROOT}relay/ 1" "$(jq -r '.[] | "\(.relay) \(.subscribers)"' <<<"$fleet")" \
	"fleet status as root shows it"
rc=0
out=$(rc_in "$RELAY" "$RC" fleet status --etcd http://10.81.0.1:2379 --prefix "$ROOT" \
	--user relay:nope 2>&1) || rc=$?
rc_assert_eq 1 "$rc" "a wrong password: fleet status fails (exit 1)"
rc_assert_match "authenticating as 'relay' failed: .*check --user NAME:PASS" "$out" \
	"... saying authentication failed and what to check"
rc=0
out=$(rc_in "$RELAY" "$RC" fleet status --etcd http://10.81.0.1:2379 --prefix "$ROOT" 2>&1) || rc=$?
rc_assert_eq 1 "$rc" "no --user: fails (exit 1)"
rc_assert_match "give --user NAME:PASS" "$out" "... saying to give --user"
kill -TERM "${AGENT_PID[auth]}"
rc_wait_pid "${AGENT_TIMEOUT_PID[auth]}" 5 >/dev/null
# Under BUILD=build-san the agents' logs carry any ASan/UBSan/leak report.
rc_assert_eq "" "$(grep -h -m1 -e 'Sanitizer' -e 'runtime error' "$RC_TMP"/agent-*.log)" \
	"no sanitizer report from any agent"
rc_summary
