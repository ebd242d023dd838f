// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* etcd's v3 API through its JSON gateway: every call is a POST of a JSON
 * body to /v3/<service>/<method>, keys and values base64, int64 numbers as
 * strings. A watch is one long POST whose response is a stream of JSON
 * objects, one per line (grpc-gateway's delimiter), read through curl's
 * multi interface so the caller can do other work between reads. */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent_etcd.h"

/* gRPC's code for "Unauthenticated": the token expired (etcd's simple
 * tokens live 5 minutes by default) or was never valid. */
#define GRPC_UNAUTHENTICATED 16

struct buf {
	char *p;
	size_t len, cap;
};

struct etcd {
	char **urls;
	size_t nurls, cur;	/* cur: the one that answered last */
	char *cacert, *cert, *key;
	char *name, *pass;
	char *token;		/* from /v3/auth/authenticate, sent as Authorization */
	long timeout_ms;
	CURL *curl;		/* reused for one request after another */
	char err[768];
};

struct etcd_watch {
	struct etcd *e;
	CURL *curl;
	CURLM *multi;
	struct curl_slist *headers;
	char *body;
	const char *url;
	struct buf in;
	bool ended;
	char errbuf[CURL_ERROR_SIZE];
};

static void set_error(struct etcd *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_error(struct etcd *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->err, sizeof(e->err), fmt, ap);
	va_end(ap);
}

const char *etcd_error(const struct etcd *e)
{
	return e->err;
}

/* ---- base64 (RFC 4648, with padding, as protobuf's JSON mapping) -------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const char *s, size_t len)
{
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		*o++ = b64[p[i] >> 2];
		*o++ = b64[(p[i] & 3) << 4 | p[i + 1] >> 4];
		*o++ = b64[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		*o++ = b64[p[i + 2] & 63];
	}
	if (i < len) {
		*o++ = b64[p[i] >> 2];
		if (i + 1 < len) {
			*o++ = b64[(p[i] & 3) << 4 | p[i + 1] >> 4];
			*o++ = b64[(p[i + 1] & 15) << 2];
		} else {
			*o++ = b64[(p[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* NULL on text that is not base64; else NUL-terminated, *len bytes. */
static char *b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), i;
	char *out = malloc(n / 4 * 3 + 4);
	unsigned int acc = 0, bits = 0;
	const char *c;

	if (!out)
		return NULL;
	*len = 0;
	for (i = 0; i < n && s[i] != '='; i++) {
		c = strchr(b64, s[i]);
		if (!c || !*c) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (unsigned int)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[(*len)++] = (char)(acc >> bits & 0xff);
		}
	}
	out[*len] = '\0';
	return out;
}

/* The key just past every key that starts with prefix: its last byte
 * that is not 0xff, plus one (etcd's range_end for "all with prefix"). */
static char *prefix_end(const char *prefix, size_t *len)
{
	size_t n = strlen(prefix);
	char *end = strdup(prefix);

	while (end && n > 0 && (unsigned char)end[n - 1] == 0xff)
		n--;
	if (!end || n == 0) {
		free(end);
		*len = 1;
		return strdup("");	/* "\0": every key (etcd's convention) */
	}
	end[n - 1]++;
	*len = n;
	return end;
}

/* ---- Requests ------------------------------------------------------------ */

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct buf *b = ctx;
	size_t n = size * nmemb;

	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);

		if (!p)
			return 0;	/* curl fails the transfer */
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static struct curl_slist *headers_for(const struct etcd *e)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char line[2048];

	if (h && e->token) {
		snprintf(line, sizeof(line), "Authorization: %s", e->token);
		h = curl_slist_append(h, line);
	}
	return h;
}

static void setup(const struct etcd *e, CURL *c, const char *url, const char *body,
		  struct curl_slist *headers, struct buf *out, char *errbuf)
{
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, e->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	/* Only the URLs given: no proxy from the environment. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	if (e->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, e->cacert);
	if (e->cert)
		curl_easy_setopt(c, CURLOPT_SSLCERT, e->cert);
	if (e->key)
		curl_easy_setopt(c, CURLOPT_SSLKEY, e->key);
	errbuf[0] = '\0';
}

/* A transport failure in words, with what to check when TLS is why. Under
 * TLS 1.3 a server checks the client's certificate after the handshake:
 * its refusal comes as an alert, or, when the connection is torn down
 * first, as a reset on the first send or receive. */
static void transport_error(struct etcd *e, const char *url, CURLcode rc, const char *errbuf)
{
	const char *what = errbuf[0] ? errbuf : curl_easy_strerror(rc);
	bool https = !strncmp(url, "https://", 8);
	bool alert = strstr(what, "alert") != NULL;
	/* Over TLS, curl speaks HTTP/2 to etcd (ALPN): a reset shows there. */
	bool dropped = https && (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
				 rc == CURLE_GOT_NOTHING || rc == CURLE_HTTP2 ||
				 rc == CURLE_HTTP2_STREAM);
	bool tls = rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
		   rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE ||
		   strstr(what, "SSL");

	if ((alert || dropped) && !e->cert)
		set_error(e, "etcd %s: the server wants a TLS client certificate (%s); give --cert "
			  "and --key", url, what);
	else if (alert || dropped)
		set_error(e, "etcd %s: the server refused this client's TLS certificate%s (%s); give "
			  "--cert/--key signed by the CA etcd trusts (its --trusted-ca-file)", url,
			  alert ? "" : " or dropped the connection", what);
	else if (tls)
		set_error(e, "etcd %s: TLS failed (%s); check --cacert (the CA that signed etcd's "
			  "certificate) and --cert/--key", url, what);
	else
		set_error(e, "etcd %s: %s", url, what);
}

/* POSTs body to path at each URL in turn until one answers. 0 with the
 * parsed answer and its HTTP status, or -1. */
static int post(struct etcd *e, const char *path, const char *body, json_object **resp,
		long *status)
{
	char url[1024], errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers = headers_for(e);
	struct buf out = {};
	size_t i, idx;
	CURLcode rc = CURLE_OK;

	*resp = NULL;
	for (i = 0; i < e->nurls; i++) {
		idx = (e->cur + i) % e->nurls;
		snprintf(url, sizeof(url), "%s%s", e->urls[idx], path);
		out.len = 0;
		setup(e, e->curl, url, body, headers, &out, errbuf);
		curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, e->timeout_ms);
		rc = curl_easy_perform(e->curl);
		if (rc == CURLE_OK) {
			e->cur = idx;
			break;
		}
		transport_error(e, e->urls[idx], rc, errbuf);
	}
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		free(out.p);
		return -1;
	}
	curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, status);
	*resp = out.p ? json_tokener_parse(out.p) : NULL;
	if (!*resp) {
		set_error(e, "etcd %s%s: HTTP %ld and no JSON in the answer (is this etcd's client "
			  "URL, with its v3 gateway?)", e->urls[e->cur], path, *status);
		free(out.p);
		return -1;
	}
	free(out.p);
	return 0;
}

static const char *str_field(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) ? json_object_get_string(v) : NULL;
}

static int64_t int_field(json_object *o, const char *name)
{
	json_object *v;

	/* json-c reads int64 from the strings protobuf's mapping writes. */
	return json_object_object_get_ex(o, name, &v) ? json_object_get_int64(v) : 0;
}

static int authenticate(struct etcd *e)
{
	json_object *req = json_object_new_object(), *resp;
	const char *token;
	long status = 0;
	int ret;

	json_object_object_add(req, "name", json_object_new_string(e->name));
	json_object_object_add(req, "password", json_object_new_string(e->pass));
	free(e->token);
	e->token = NULL;
	ret = post(e, "/v3/auth/authenticate", json_object_to_json_string(req), &resp, &status);
	json_object_put(req);
	if (ret)
		return -1;
	token = str_field(resp, "token");
	if (status != 200 || !token) {
		const char *msg = str_field(resp, "message");

		set_error(e, "etcd %s: authenticating as '%s' failed: %s; check --user NAME:PASS",
			  e->urls[e->cur], e->name, msg ? msg : "no token in the answer");
		json_object_put(resp);
		return -1;
	}
	e->token = strdup(token);
	json_object_put(resp);
	return e->token ? 0 : -1;
}

/* One call of the v3 API: 0 with the answer (HTTP 200), else -1. */
static int request(struct etcd *e, const char *path, json_object *req, json_object **resp)
{
	const char *body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	long status = 0;
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (e->name && !e->token && authenticate(e))
			return -1;
		if (post(e, path, body, resp, &status))
			return -1;
		if (status == 200)
			return 0;
		if (int_field(*resp, "code") == GRPC_UNAUTHENTICATED && e->name && attempt == 0) {
			/* Expired: a new token, then the same call once more. */
			free(e->token);
			e->token = NULL;
			json_object_put(*resp);
			continue;
		}
		break;
	}
	{
		const char *msg = str_field(*resp, "message"), *hint = "";

		if (!msg)
			msg = str_field(*resp, "error");
		if (!msg)
			msg = "(no message)";
		/* etcd answers a request without a token "user name is empty". */
		if (!e->name && (int_field(*resp, "code") == GRPC_UNAUTHENTICATED ||
				 strstr(msg, "user name is empty")))
			hint = "; etcd has authentication on: give --user NAME:PASS";
		else if (e->name && strstr(msg, "permission denied"))
			hint = "; the user may not touch this key: grant its role readwrite on the "
			       "prefix (etcdctl role grant-permission ROLE --prefix=true readwrite "
			       "PREFIX)";
		set_error(e, "etcd %s%s: HTTP %ld: %s%s", e->urls[e->cur], path, status, msg, hint);
	}
	json_object_put(*resp);
	*resp = NULL;
	return -1;
}

static json_object *b64_string(const char *s, size_t len)
{
	char *enc = b64_encode(s, len);
	json_object *o = json_object_new_string(enc ? enc : "");

	free(enc);
	return o;
}

/* ---- The calls ------------------------------------------------------------ */

void etcd_kvs_free(struct etcd_kv *kvs, size_t n)
{
	size_t i;

	for (i = 0; kvs && i < n; i++) {
		free(kvs[i].key);
		free(kvs[i].value);
	}
	free(kvs);
}

/* kv from one protobuf KeyValue in JSON; -1 on a field that is not base64. */
static int kv_from_json(json_object *o, struct etcd_kv *kv)
{
	const char *k = str_field(o, "key"), *v = str_field(o, "value");
	size_t klen;

	memset(kv, 0, sizeof(*kv));
	kv->key = b64_decode(k ? k : "", &klen);
	kv->value = b64_decode(v ? v : "", &kv->len);
	kv->mod_revision = int_field(o, "mod_revision");
	if (!kv->key || !kv->value) {
		free(kv->key);
		free(kv->value);
		return -1;
	}
	return 0;
}

int etcd_range(struct etcd *e, const char *key, bool prefix, struct etcd_kv **kvs, size_t *n,
	       int64_t *revision)
{
	json_object *req = json_object_new_object(), *resp, *header, *arr;
	size_t i, count, elen;
	int ret;

	*kvs = NULL;
	*n = 0;
	json_object_object_add(req, "key", b64_string(key, strlen(key)));
	if (prefix) {
		char *end = prefix_end(key, &elen);

		json_object_object_add(req, "range_end", b64_string(end ? end : "", elen));
		free(end);
	}
	ret = request(e, "/v3/kv/range", req, &resp);
	json_object_put(req);
	if (ret)
		return -1;
	if (json_object_object_get_ex(resp, "header", &header))
		*revision = int_field(header, "revision");
	if (json_object_object_get_ex(resp, "kvs", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		count = json_object_array_length(arr);
		*kvs = calloc(count ? count : 1, sizeof(**kvs));
		for (i = 0; *kvs && i < count; i++)
			if (!kv_from_json(json_object_array_get_idx(arr, i), &(*kvs)[*n]))
				(*n)++;
	}
	json_object_put(resp);
	return 0;
}

int etcd_put(struct etcd *e, const char *key, const char *value, size_t len, int64_t lease)
{
	json_object *req = json_object_new_object(), *resp;
	int ret;

	json_object_object_add(req, "key", b64_string(key, strlen(key)));
	json_object_object_add(req, "value", b64_string(value, len));
	if (lease)
		json_object_object_add(req, "lease", json_object_new_int64(lease));
	ret = request(e, "/v3/kv/put", req, &resp);
	json_object_put(req);
	json_object_put(resp);
	return ret;
}

int etcd_lease_grant(struct etcd *e, int ttl_s, int64_t *lease)
{
	json_object *req = json_object_new_object(), *resp;
	int ret;

	json_object_object_add(req, "TTL", json_object_new_int64(ttl_s));
	ret = request(e, "/v3/lease/grant", req, &resp);
	json_object_put(req);
	if (ret)
		return -1;
	*lease = int_field(resp, "ID");
	json_object_put(resp);
	if (!*lease) {
		set_error(e, "etcd %s: /v3/lease/grant gave no lease ID", e->urls[e->cur]);
		return -1;
	}
	return 0;
}

int etcd_lease_keepalive(struct etcd *e, int64_t lease, int64_t *ttl_s)
{
	json_object *req = json_object_new_object(), *resp, *result;
	int ret;

	/* A stream in gRPC; through the gateway one request, one answer
	 * ({"result":{...}}), then the body ends and so does the stream. */
	json_object_object_add(req, "ID", json_object_new_int64(lease));
	ret = request(e, "/v3/lease/keepalive", req, &resp);
	json_object_put(req);
	if (ret)
		return -1;
	*ttl_s = json_object_object_get_ex(resp, "result", &result) ? int_field(result, "TTL") : 0;
	json_object_put(resp);
	return 0;
}

/* ---- Watch ------------------------------------------------------------------ */

int etcd_watch_start(struct etcd *e, const char *key, int64_t start_revision,
		     struct etcd_watch **wp)
{
	json_object *req, *create;
	struct etcd_watch *w;
	CURLMcode mrc;

	*wp = NULL;
	/* The stream carries no answer to "token expired" that could be
	 * retried in place: a fresh token for every new stream. */
	if (e->name && authenticate(e))
		return -1;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -1;
	w->e = e;
	req = json_object_new_object();
	create = json_object_new_object();
	json_object_object_add(create, "key", b64_string(key, strlen(key)));
	json_object_object_add(create, "start_revision", json_object_new_int64(start_revision));
	json_object_object_add(req, "create_request", create);
	w->body = strdup(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	json_object_put(req);
	w->headers = headers_for(e);
	w->curl = curl_easy_init();
	w->multi = curl_multi_init();
	w->url = e->urls[e->cur];
	if (!w->body || !w->headers || !w->curl || !w->multi) {
		etcd_watch_stop(w);
		set_error(e, "etcd watch: out of memory");
		return -1;
	}
	{
		char url[1024];

		snprintf(url, sizeof(url), "%s/v3/watch", w->url);
		setup(e, w->curl, url, w->body, w->headers, &w->in, w->errbuf);
	}
	mrc = curl_multi_add_handle(w->multi, w->curl);
	if (mrc != CURLM_OK) {
		set_error(e, "etcd watch: %s", curl_multi_strerror(mrc));
		etcd_watch_stop(w);
		return -1;
	}
	*wp = w;
	return 0;
}

/* One message of the stream. Returns a watch result; ERROR sets the error. */
static int watch_message(struct etcd_watch *w, const char *line, struct etcd_kv *kv, int seen)
{
	json_object *msg = json_tokener_parse(line), *result, *events, *ev, *o = NULL;
	int ret = seen;
	size_t i, n;

	if (!msg) {
		set_error(w->e, "etcd %s/v3/watch: not JSON in the stream: %.80s", w->url, line);
		return ETCD_WATCH_ERROR;
	}
	if (json_object_object_get_ex(msg, "error", &o) ||
	    !json_object_object_get_ex(msg, "result", &result)) {
		const char *m = o ? str_field(o, "message") : NULL;

		set_error(w->e, "etcd %s/v3/watch: %s", w->url, m ? m : json_object_to_json_string(msg));
		json_object_put(msg);
		return ETCD_WATCH_ERROR;
	}
	if (int_field(result, "compact_revision") ||
	    (json_object_object_get_ex(result, "canceled", &o) && json_object_get_boolean(o))) {
		const char *why = str_field(result, "cancel_reason");

		set_error(w->e, "etcd %s/v3/watch: the watch was canceled (%s)", w->url,
			  why ? why : "revisions compacted");
		json_object_put(msg);
		return ETCD_WATCH_ERROR;
	}
	if (json_object_object_get_ex(result, "events", &events) &&
	    json_object_is_type(events, json_type_array)) {
		n = json_object_array_length(events);
		for (i = 0; i < n; i++) {
			const char *type;

			ev = json_object_array_get_idx(events, i);
			type = str_field(ev, "type");
			if (!json_object_object_get_ex(ev, "kv", &o))
				continue;
			if (type && !strcmp(type, "DELETE")) {
				/* A put before the delete no longer counts. */
				if (ret == ETCD_WATCH_CHANGED) {
					free(kv->key);
					free(kv->value);
					memset(kv, 0, sizeof(*kv));
				}
				ret = ETCD_WATCH_DELETED;
				continue;
			}
			/* PUT, the protobuf default, is left out of the JSON. */
			if (ret == ETCD_WATCH_CHANGED) {
				free(kv->key);
				free(kv->value);
			}
			if (kv_from_json(o, kv))
				ret = ret == ETCD_WATCH_CHANGED ? ETCD_WATCH_NOTHING : ret;
			else
				ret = ETCD_WATCH_CHANGED;
		}
	}
	json_object_put(msg);
	return ret;
}

int etcd_watch_poll(struct etcd_watch *w, int timeout_ms, struct etcd_kv *kv)
{
	int running = 0, ret = ETCD_WATCH_NOTHING, r, left;
	CURLMsg *m;
	char *nl;
	size_t used;

	memset(kv, 0, sizeof(*kv));
	if (w->ended)
		return ETCD_WATCH_ERROR;
	curl_multi_poll(w->multi, NULL, 0, timeout_ms, NULL);
	curl_multi_perform(w->multi, &running);
	while ((nl = memchr(w->in.p ? w->in.p : "", '\n', w->in.len))) {
		*nl = '\0';
		r = watch_message(w, w->in.p, kv, ret);
		used = (size_t)(nl + 1 - w->in.p);
		memmove(w->in.p, nl + 1, w->in.len - used + 1);
		w->in.len -= used;
		if (r == ETCD_WATCH_ERROR) {
			if (ret == ETCD_WATCH_CHANGED) {
				free(kv->key);
				free(kv->value);
				memset(kv, 0, sizeof(*kv));
			}
			w->ended = true;
			return ETCD_WATCH_ERROR;
		}
		ret = r;
	}
	if (!running) {
		CURLcode rc = CURLE_OK;

		while ((m = curl_multi_info_read(w->multi, &left)))
			if (m->msg == CURLMSG_DONE)
				rc = m->data.result;
		if (rc != CURLE_OK)
			transport_error(w->e, w->url, rc, w->errbuf);
		else
			set_error(w->e, "etcd %s/v3/watch: the stream ended", w->url);
		w->ended = true;
		/* Events read before the end still count; the next call says it. */
		return ret == ETCD_WATCH_NOTHING ? ETCD_WATCH_ERROR : ret;
	}
	return ret;
}

void etcd_watch_stop(struct etcd_watch *w)
{
	if (!w)
		return;
	if (w->multi && w->curl)
		curl_multi_remove_handle(w->multi, w->curl);
	curl_easy_cleanup(w->curl);
	curl_multi_cleanup(w->multi);
	curl_slist_free_all(w->headers);
	free(w->body);
	free(w->in.p);
	free(w);
}

/* ---- Open and close ---------------------------------------------------------- */

int etcd_open(const struct etcd_opts *o, struct etcd **ep, const char **why)
{
	struct etcd *e;
	char *list, *tok, *save = NULL;
	const char *colon;

	*ep = NULL;
	if (!o->urls || !*o->urls) {
		*why = "no etcd URL";
		return -1;
	}
	if ((o->cert != NULL) != (o->key != NULL)) {
		*why = "--cert and --key go together";
		return -1;
	}
	if (o->user && !strchr(o->user, ':')) {
		*why = "--user is NAME:PASS";
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		*why = "libcurl would not start";
		return -1;
	}
	e = calloc(1, sizeof(*e));
	list = strdup(o->urls);
	if (!e || !list)
		goto nomem;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char **grown = realloc(e->urls, (e->nurls + 1) * sizeof(*grown));
		size_t len = strlen(tok);

		if (!grown)
			goto nomem;
		e->urls = grown;
		while (len && tok[len - 1] == '/')
			tok[--len] = '\0';	/* paths are appended with their own / */
		if (strncmp(tok, "http://", 7) && strncmp(tok, "https://", 8)) {
			free(list);
			etcd_close(e);
			*why = "an etcd URL starts with http:// or https:// (e.g. http://10.0.0.1:2379)";
			return -1;
		}
		if (!(e->urls[e->nurls] = strdup(tok)))
			goto nomem;
		e->nurls++;
	}
	free(list);
	list = NULL;
	if (!e->nurls) {
		etcd_close(e);
		*why = "no etcd URL";
		return -1;
	}
	e->timeout_ms = o->timeout_ms ? o->timeout_ms : 2000;
	if ((o->cacert && !(e->cacert = strdup(o->cacert))) ||
	    (o->cert && !(e->cert = strdup(o->cert))) || (o->key && !(e->key = strdup(o->key))))
		goto nomem;
	if (o->user) {
		colon = strchr(o->user, ':');
		e->name = strndup(o->user, (size_t)(colon - o->user));
		e->pass = strdup(colon + 1);
		if (!e->name || !e->pass)
			goto nomem;
	}
	e->curl = curl_easy_init();
	if (!e->curl)
		goto nomem;
	*ep = e;
	return 0;
nomem:
	free(list);
	etcd_close(e);
	*why = "out of memory";
	return -1;
}

void etcd_close(struct etcd *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->nurls; i++)
		free(e->urls[i]);
	free(e->urls);
	free(e->cacert);
	free(e->cert);
	free(e->key);
	free(e->name);
	free(e->pass);
	free(e->token);
	if (e->curl)
		curl_easy_cleanup(e->curl);
	free(e);
}

/* An empty variable counts as unset, as for a shell's ${VAR:-}. */
static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

void etcd_args_from_env(struct etcd_args *a)
{
	a->eo.urls = env("REPLICAST_ETCD");
	a->eo.cacert = env("REPLICAST_ETCD_CACERT");
	a->eo.cert = env("REPLICAST_ETCD_CERT");
	a->eo.key = env("REPLICAST_ETCD_KEY");
	a->eo.user = env("REPLICAST_ETCD_USER");
	a->prefix = env("REPLICAST_PREFIX");
}
