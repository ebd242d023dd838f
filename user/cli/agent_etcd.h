/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A small client of etcd's v3 JSON gateway (grpc-gateway: POST /v3/...,
 * keys and values base64), over libcurl and json-c: what `replicast agent`
 * and `replicast fleet` need, nothing more. Part of the CLI, not the library. */
#ifndef REPLICAST_AGENT_ETCD_H
#define REPLICAST_AGENT_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct etcd;
struct etcd_watch;

struct etcd_opts {
	const char *urls;		/* URL[,URL...], tried in turn */
	const char *cacert;		/* CA of etcd's certificate (https) */
	const char *cert, *key;		/* client certificate and its key */
	const char *user;		/* NAME:PASS, for /v3/auth/authenticate */
	long timeout_ms;		/* one request, connection included */
};

/* The connection options `agent` and `fleet status` both take, with the
 * environment variables that stand in for them (REPLICAST_ETCD,
 * REPLICAST_ETCD_CACERT, _CERT, _KEY, _USER; REPLICAST_PREFIX for the
 * prefix): one set of rows (opt.h) for both tables, filled from the
 * environment first (etcd_args_from_env) so that the line overrides it. */
struct etcd_args {
	struct etcd_opts eo;
	const char *prefix;
};
/* The rows, for a table of T whose member F is a struct etcd_args; the
 * prefix's metavar and help are the command's own. */
#define ETCD_OPT_ROWS(T, F, PREFIX_META, PREFIX_HELP)						OPT_STRING_ROW(T, "etcd", 0, F.eo.urls, "URL[,URL...]", OPT_C_NONE,				       "etcd client URLs (http:// or https://), tried in turn"),		OPT_STRING_ROW(T, "prefix", 0, F.prefix, PREFIX_META, OPT_C_NONE, PREFIX_HELP),		OPT_STRING_ROW(T, "cacert", 0, F.eo.cacert, "FILE", OPT_C_FILE,					       "the CA that signed etcd's certificate (https)"),			OPT_STRING_ROW(T, "cert", 0, F.eo.cert, "FILE", OPT_C_FILE,					       "client certificate, for an etcd that asks for one "				       "(--client-cert-auth); with --key"),					OPT_STRING_ROW(T, "key", 0, F.eo.key, "FILE", OPT_C_FILE,					       "the client certificate's key"),						OPT_STRING_ROW(T, "user", 0, F.eo.user, "NAME:PASS", OPT_C_NONE,				       "etcd user (authentication on); better given as "				       "$REPLICAST_ETCD_USER, which ps does not show")
void etcd_args_from_env(struct etcd_args *a);

/* The error of the last call that failed, one line (what and what to do). */
const char *etcd_error(const struct etcd *e);

/* 0, or -1 with the reason in *why (a static string) when opts are wrong. */
int etcd_open(const struct etcd_opts *opts, struct etcd **e, const char **why);
void etcd_close(struct etcd *e);

struct etcd_kv {
	char *key;			/* NUL-terminated (a key is text here) */
	char *value;			/* NUL-terminated, len bytes before it */
	size_t len;
	int64_t mod_revision;
};
void etcd_kvs_free(struct etcd_kv *kvs, size_t n);

/* The key, or every key starting with it when prefix. 0 with *n kvs (none
 * when absent) and *revision the store's revision, or -1 (etcd_error). */
int etcd_range(struct etcd *e, const char *key, bool prefix, struct etcd_kv **kvs, size_t *n,
	       int64_t *revision);
/* lease 0: none. 0 or -1. */
int etcd_put(struct etcd *e, const char *key, const char *value, size_t len, int64_t lease);
int etcd_lease_grant(struct etcd *e, int ttl_s, int64_t *lease);
/* *ttl_s: what remains after renewal, 0 when the lease is gone (expired). */
int etcd_lease_keepalive(struct etcd *e, int64_t lease, int64_t *ttl_s);

/* The stream of changes of one key from start_revision on. */
int etcd_watch_start(struct etcd *e, const char *key, int64_t start_revision,
		     struct etcd_watch **w);
enum etcd_watch_result {
	ETCD_WATCH_ERROR = -1,		/* the stream is over: start again (etcd_error) */
	ETCD_WATCH_NOTHING = 0,
	ETCD_WATCH_CHANGED = 1,		/* *kv: the last put among the events read */
	ETCD_WATCH_DELETED = 2,
};
/* Waits up to timeout_ms for events; several read at once give the last.
 * On CHANGED, kv is filled (free its key and value). */
int etcd_watch_poll(struct etcd_watch *w, int timeout_ms, struct etcd_kv *kv);
void etcd_watch_stop(struct etcd_watch *w);

#endif /* REPLICAST_AGENT_ETCD_H */
