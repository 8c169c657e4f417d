/*
 * front.h: pycage-fcgi's own types and prototypes (src/front/), the
 * unprivileged, chrooted process that reads request bytes: FastCGI
 * workers (main.c), a peer's deadline (peer.c), routing and answers
 * (request.c, answer.c), request JSON (json_in.c) and its end of the
 * channel to the executor (channel.c).  It never talks to Docker: the
 * executor's header is not on its include path, and it is not linked
 * with libcurl.
 */
#ifndef PYCAGE_FRONT_H
#define PYCAGE_FRONT_H

#include "common.h"
#include "privsep.h"
#include "protocol.h"

/* ------------------------------------------------------------ json_in.c */

#define JSON_IN_DEPTH_MAX	32

struct job_limits {
	size_t		code_max_bytes;
	size_t		stdin_max_bytes;
	size_t		files_max_bytes;	/* decoded, all files together */
	unsigned	timeout_default_ms;
	unsigned	timeout_max_ms;
};

int	json_in_parse_job(const char *body, size_t len, const struct job_limits *,
	    struct job_spec *, struct api_error *);
/* Frees what json_in_parse_job() made. */
void	job_spec_free(struct job_spec *);

/* -------------------------------------------------------- runner_data.c */

#define RUNNER_DATA_LINE_MAX	100000000LL	/* a line or an offset */

struct runner_frame {
	long long	 line;
	char		 function[PROTOCOL_EXC_TEXT_MAX_BYTES + 1];
	char		 text[PROTOCOL_EXC_TEXT_MAX_BYTES + 1];
};

struct runner_exception {
	char		 type[PROTOCOL_EXC_TYPE_MAX_BYTES + 1];
	struct buf	 message;
	long long	 line;		/* -1: null */
	long long	 offset;	/* -1: absent or null (SyntaxError only) */
	size_t		 nframes;
	struct runner_frame frames[PROTOCOL_EXC_FRAMES_MAX];
};

struct runner_file {
	char		 name[PROTOCOL_FILE_NAME_MAX_BYTES + 1];
	struct buf	 data;		/* decoded */
};

/* The runner's data record, validated (runner_data.c explains).  Set
 * files_max before parsing: the files' decoded total may not pass it. */
struct runner_data {
	size_t		 files_max;
	bool		 has_files;
	size_t		 nfiles;
	size_t		 files_total;
	struct runner_file files[PROTOCOL_FILES_MAX];
	bool		 files_truncated;
	struct buf	 file_text;	/* a file's base64 being read */
	bool		 valid;
	bool		 has_exception;
	struct runner_exception exception;
	bool		 has_result;
	struct buf	 result;
	bool		 result_truncated;
};

void	runner_data_init(struct runner_data *);
void	runner_data_free(struct runner_data *);
/* 0, or -1 (the record is refused whole; *d then says nothing). */
int	runner_data_parse(const char *, size_t, struct runner_data *);

/* ------------------------------------------------------------- answer.c */

int	answer_result(const struct job_result *, struct buf *out);
int	answer_error(const struct api_error *, struct buf *out);
int	answer_health(const struct health *, struct buf *out);
/* GET /v1/runtime: the image's part (rt) and the limits of config. */
int	answer_runtime(const struct runtime_info *rt, const struct config *,
	    struct buf *out);

/* ------------------------------------------------------------ channel.c */

/* One worker's channel to the executor; owns fd. */
struct channel;

struct channel	*channel_new(int fd, const struct config *);
void		 channel_free(struct channel *);
/* 0 with the job's result (the executor removes the container after it
 * answered), or -1 with err: the sandbox failed, or the channel did. */
int	channel_run(struct channel *, const struct job_spec *,
	    struct job_result *, struct api_error *);
int	channel_health(struct channel *, struct health *,
	    char versionbuf[PRIVSEP_VERSION_MAX], struct api_error *);
int	channel_metrics(struct channel *, struct buf *, struct api_error *);
int	channel_runtime(struct channel *, struct runtime_info *,
	    struct api_error *);


/* Seconds a FastCGI peer gets for all of one request (params and body,
 * from the accept, or on a kept connection from the request's first
 * byte), and for all of one answer; the executor's work is not counted. */
#define PEER_REQUEST_S	30
#define PEER_ANSWER_S	30

struct peer_watch {
	pthread_mutex_t	 lock;
	int		 fd;		/* a dup of the connection, or -1 */
	long long	 deadline_ms;	/* CLOCK_MONOTONIC; 0: not armed */
};

void	peer_watch_init(struct peer_watch *);
/* A request begins on fd: arms PEER_REQUEST_S. */
void	peer_watch_begin(struct peer_watch *, int fd);
/* Around the executor's work: disarm, then PEER_ANSWER_S for the answer. */
void	peer_watch_pause(struct peer_watch *);
void	peer_watch_answer(struct peer_watch *);
/* Done with the request (before the next accept). */
void	peer_watch_end(struct peer_watch *);
/* From another thread: shuts the connection down if past its deadline. */
bool	peer_watch_sweep(struct peer_watch *);
/* ------------------------------------------------------------ request.c */



struct worker {
	unsigned		 index;
	struct channel		*chan;		/* to the executor process */
	const struct config	*config;
	struct peer_watch	 peer;
};

struct FCGX_Request;
/* Drain (SIGUSR1 to the front): executions and health answer 503
 * draining while the runs in flight finish; SIGUSR2 ends it. */
void	request_set_draining(bool);
void	request_handle(struct worker *, struct FCGX_Request *);

#endif /* PYCAGE_FRONT_H */
