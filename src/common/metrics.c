/*
 * metrics.c: counters, gauges and histograms for GET /v1/metrics, in the
 * Prometheus text exposition format (version 0.0.4).  Every series is a
 * fixed slot of a static array updated with relaxed atomics: no lock and
 * no allocation on the request path, and the set of series cannot grow
 * with what requests send (routes and statuses outside the known sets
 * fall into "other").
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

static const char *const metric_routes[] = { "execute", "health", "metrics",
	"runtime", "tool", "mcp", "openapi", "other" };
static const int metric_codes[] = { 200, 202, 400, 401, 403, 404, 405, 406, 413,
	415, 500, 503, 0 };
#define ROUTES (sizeof(metric_routes) / sizeof(metric_routes[0]))
#define CODES (sizeof(metric_codes) / sizeof(metric_codes[0]))

/* Upper bounds in ms; the last bucket is +Inf. */
static const long metric_bounds_ms[] = { 5, 10, 25, 50, 100, 250, 500, 1000,
	2500, 5000, 10000, 30000 };
#define BUCKETS (sizeof(metric_bounds_ms) / sizeof(metric_bounds_ms[0]))

static const char *const metric_phases[] = { "queue", "acquire", "run" };

static atomic_ullong requests[ROUTES][CODES];
static atomic_ullong executions[JOB_OUTPUT_LIMIT + 1];
static atomic_ullong counters[METRIC_COUNTER_MAX];
static atomic_llong gauges[METRIC_GAUGE_MAX];
static atomic_ullong hist_bucket[METRIC_PHASE_MAX][BUCKETS + 1];
static atomic_ullong hist_sum_ms[METRIC_PHASE_MAX];
static atomic_ullong hist_count[METRIC_PHASE_MAX];
static atomic_ullong fcgi_refused;
static atomic_ullong fcgi_peer_cut;

void
metrics_count(enum metric_counter c)
{
	atomic_fetch_add_explicit(&counters[c], 1, memory_order_relaxed);
}

void
metrics_gauge_set(enum metric_gauge g, long value)
{
	atomic_store_explicit(&gauges[g], value, memory_order_relaxed);
}

void
metrics_observe(enum metric_phase phase, long ms)
{
	size_t i;

	if (ms < 0)
		ms = 0;
	for (i = 0; i < BUCKETS && ms > metric_bounds_ms[i]; i++)
		;
	atomic_fetch_add_explicit(&hist_bucket[phase][i], 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&hist_sum_ms[phase], (unsigned long long)ms,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&hist_count[phase], 1, memory_order_relaxed);
}

void
metrics_request(const char *route, int status)
{
	size_t r, c;

	for (r = 0; r < ROUTES - 1 && strcmp(metric_routes[r], route) != 0; r++)
		;
	for (c = 0; c < CODES - 1 && metric_codes[c] != status; c++)
		;
	atomic_fetch_add_explicit(&requests[r][c], 1, memory_order_relaxed);
}

unsigned long long
metrics_fcgi_refused(void)
{
	return atomic_fetch_add_explicit(&fcgi_refused, 1, memory_order_relaxed) +
	    1;
}

unsigned long long
metrics_fcgi_peer_cut(void)
{
	return atomic_fetch_add_explicit(&fcgi_peer_cut, 1, memory_order_relaxed) +
	    1;
}

void
metrics_execution(enum job_status status)
{
	atomic_fetch_add_explicit(&executions[status], 1, memory_order_relaxed);
}

static unsigned long long
metric_get(atomic_ullong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* Appends a formatted line; the caller checks the buffer once at the end. */
static void __attribute__((format(printf, 2, 3)))
metric_line(struct buf *out, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(line))
		buf_append(out, line, (size_t)n);
}

static void
metric_head(struct buf *out, const char *name, const char *type, const char *help)
{
	metric_line(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int
metrics_render_front(struct buf *out)
{
	size_t r, c;

	metric_head(out, "pycage_requests_total", "counter",
	    "HTTP requests answered, by route and status.");
	for (r = 0; r < ROUTES; r++)
		for (c = 0; c < CODES; c++) {
			if (metric_get(&requests[r][c]) == 0)
				continue;
			if (metric_codes[c] == 0)
				metric_line(out,
				    "pycage_requests_total{route=\"%s\","
				    "code=\"other\"} %llu\n",
				    metric_routes[r],
				    metric_get(&requests[r][c]));
			else
				metric_line(out,
				    "pycage_requests_total{route=\"%s\","
				    "code=\"%d\"} %llu\n",
				    metric_routes[r], metric_codes[c],
				    metric_get(&requests[r][c]));
		}
	metric_head(out, "pycage_fcgi_refused_total", "counter",
	    "FastCGI connections over TCP closed unanswered: the peer is "
	    "not in listen_allow.");
	metric_line(out, "pycage_fcgi_refused_total %llu\n",
	    metric_get(&fcgi_refused));
	metric_head(out, "pycage_fcgi_peer_timeouts_total", "counter",
	    "FastCGI connections cut because the peer took too long to send "
	    "a request or to take an answer.");
	metric_line(out, "pycage_fcgi_peer_timeouts_total %llu\n",
	    metric_get(&fcgi_peer_cut));
	return out->len < out->cap_bytes ? 0 : -1;
}

int
metrics_render_executor(struct buf *out)
{
	static const struct {
		enum metric_counter id;
		const char *name, *help;
	} simple[] = {
		{ METRIC_COLD_STARTS, "pycage_cold_starts_total",
		    "Executions that started a container on the request path." },
		{ METRIC_POOL_HITS, "pycage_pool_hits_total",
		    "Executions that took a pre-started container." },
		{ METRIC_CONTAINERS_CREATED, "pycage_containers_created_total",
		    "Containers created." },
		{ METRIC_CONTAINERS_REMOVED, "pycage_containers_removed_total",
		    "Containers removed." },
		{ METRIC_JANITOR_REMOVED, "pycage_janitor_removed_total",
		    "Leftover containers removed by the janitor." },
		{ METRIC_DOCKER_ERRORS, "pycage_docker_errors_total",
		    "Engine API calls that failed or answered unexpectedly." },
		{ METRIC_JANITOR_KILLED, "pycage_janitor_killed_processes_total",
		    "Host processes under this instance's uids that no live "
		    "container held, killed by the janitor." },
	};
	size_t p, b, i;
	unsigned long long cumulative;

	metric_head(out, "pycage_executions_total", "counter",
	    "Executions by verdict.");
	for (i = 0; i <= JOB_OUTPUT_LIMIT; i++)
		metric_line(out, "pycage_executions_total{status=\"%s\"} %llu\n",
		    job_status_name((enum job_status)i),
		    metric_get(&executions[i]));
	metric_head(out, "pycage_execution_phase_seconds", "histogram",
	    "Time per execution phase: waiting for a slot, getting a container, "
	    "running.");
	for (p = 0; p < METRIC_PHASE_MAX; p++) {
		cumulative = 0;
		for (b = 0; b <= BUCKETS; b++) {
			cumulative += metric_get(&hist_bucket[p][b]);
			if (b < BUCKETS)
				metric_line(out,
				    "pycage_execution_phase_seconds_bucket"
				    "{phase=\"%s\",le=\"%.3f\"} %llu\n",
				    metric_phases[p],
				    metric_bounds_ms[b] / 1000.0, cumulative);
			else
				metric_line(out,
				    "pycage_execution_phase_seconds_bucket"
				    "{phase=\"%s\",le=\"+Inf\"} %llu\n",
				    metric_phases[p], cumulative);
		}
		metric_line(out,
		    "pycage_execution_phase_seconds_sum{phase=\"%s\"} "
		    "%.3f\n",
		    metric_phases[p], metric_get(&hist_sum_ms[p]) / 1000.0);
		metric_line(out,
		    "pycage_execution_phase_seconds_count{phase=\"%s\"} "
		    "%llu\n",
		    metric_phases[p], metric_get(&hist_count[p]));
	}
	metric_head(out, "pycage_pool_ready", "gauge",
	    "Pre-started containers ready for a request (preload imported).");
	metric_line(out, "pycage_pool_ready %lld\n",
	    (long long)atomic_load(&gauges[METRIC_POOL_READY]));
	metric_head(out, "pycage_pool_size", "gauge", "Configured pool size.");
	metric_line(out, "pycage_pool_size %lld\n",
	    (long long)atomic_load(&gauges[METRIC_POOL_SIZE]));
	for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		metric_head(out, simple[i].name, "counter", simple[i].help);
		metric_line(out, "%s %llu\n", simple[i].name,
		    metric_get(&counters[simple[i].id]));
	}
	return out->len < out->cap_bytes ? 0 : -1;
}
