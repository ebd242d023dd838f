// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The status an agent keeps at PREFIX + "status", and reading it back for
 * `replicast fleet status`. The counters are `replicast stats --json`,
 * embedded whole, so the numbers are the ones an operator sees on the host:
 *   {"host":"relay1","applied_revision":7,"seen_revision":8,
 *    "error":"PREFIXconfig:3: sub add: ...","updated":1764620000,
 *    "stats":{"groups":[...],"drops":{...}}} */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agent.h"

char *agent_status_json(const struct cli *cli, const struct agent_state *st)
{
	char *argv[] = { "stats", "--json", NULL };
	json_object *doc = json_object_new_object(), *stats = NULL;
	char host[256] = "", *out, *err, *text;
	int ret;

	if (!doc)
		return NULL;
	gethostname(host, sizeof(host) - 1);
	json_object_object_add(doc, "host", json_object_new_string(host));
	json_object_object_add(doc, "applied_revision", json_object_new_int64(st->applied_revision));
	json_object_object_add(doc, "seen_revision", json_object_new_int64(st->seen_revision));
	json_object_object_add(doc, "error",
			       st->error[0] ? json_object_new_string(st->error) : NULL);
	json_object_object_add(doc, "updated", json_object_new_int64((int64_t)time(NULL)));
	ret = agent_run_cli(cli, argv, "", 0, &out, &err);
	if (ret == 0)
		stats = json_tokener_parse(out);
	json_object_object_add(doc, "stats", stats);
	if (!stats) {
		/* Not loaded yet (no configuration applied), or worse: say which. */
		size_t n = err ? strlen(err) : 0;

		while (n && err[n - 1] == '\n')
			err[--n] = '\0';
		json_object_object_add(doc, "stats_error",
				       json_object_new_string(n ? err : "replicast stats failed"));
	}
	if (ret >= 0) {
		free(out);
		free(err);
	}
	text = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	return text;
}

static uint64_t u64(json_object *o, const char *a, const char *b)
{
	json_object *v;

	if (!json_object_object_get_ex(o, a, &v))
		return 0;
	if (b && !json_object_object_get_ex(v, b, &v))
		return 0;
	return (uint64_t)json_object_get_int64(v);
}

int fleet_row_parse(const char *key, const char *text, struct fleet_row *row)
{
	json_object *doc = json_tokener_parse(text), *v, *groups, *subs;
	size_t i, n, klen = strlen(key);

	memset(row, 0, sizeof(*row));
	if (!doc || !json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "applied_revision", &v)) {
		json_object_put(doc);
		return -1;
	}
	row->applied_revision = json_object_get_int64(v);
	row->relay = strndup(key, klen >= 6 ? klen - 6 : klen);	/* less "status" */
	row->host = strdup(json_object_object_get_ex(doc, "host", &v) ?
			   json_object_get_string(v) : "");
	if (json_object_object_get_ex(doc, "error", &v) && json_object_is_type(v, json_type_string))
		row->error = strdup(json_object_get_string(v));
	else if (json_object_object_get_ex(doc, "stats_error", &v) && v)
		row->error = strdup(json_object_get_string(v));
	row->updated = json_object_object_get_ex(doc, "updated", &v) ? json_object_get_int64(v) : 0;
	if (json_object_object_get_ex(doc, "stats", &v) && v &&
	    json_object_object_get_ex(v, "groups", &groups) &&
	    json_object_is_type(groups, json_type_array)) {
		n = json_object_array_length(groups);
		row->groups = n;
		for (i = 0; i < n; i++) {
			json_object *g = json_object_array_get_idx(groups, i);

			row->packets_in += u64(g, "received", "packets");
			row->copies_out += u64(g, "sent", "packets");
			if (json_object_object_get_ex(g, "subscribers", &subs) &&
			    json_object_is_type(subs, json_type_array))
				row->subscribers += json_object_array_length(subs);
		}
	}
	json_object_put(doc);
	if (!row->relay || !row->host) {
		fleet_row_free(row);
		return -1;
	}
	return 0;
}

void fleet_row_free(struct fleet_row *row)
{
	free(row->relay);
	free(row->host);
	free(row->error);
	memset(row, 0, sizeof(*row));
}
