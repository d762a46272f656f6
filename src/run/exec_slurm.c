/* The Slurm executor: a phase's missing runs as ONE job array.
 *
 *   CACHE/slurm/spec/KEY.json        what a task needs to train the run
 *   CACHE/slurm/jobs/phaseP-*.sh     the batch script: task i runs
 *                                    `kiln task CACHE KEY_i`
 *   CACHE/slurm/logs/JOB_I.log       each task's output (sbatch --output)
 *
 * sbatch --parsable --array=0-(N-1) --cpus-per-task=T --no-requeue, then the
 * user's --slurm-args, submits it; the build polls squeue (and sacct, where
 * the cluster keeps accounting, for tasks that have left squeue) and shows
 * one progress line. A task that ends COMPLETED has stored its entry, which
 * is loaded here; any other end (FAILED, CANCELLED, TIMEOUT, NODE_FAIL,
 * OUT_OF_MEMORY, ...) is reported by run id with the task's job id, state,
 * node and log file, and the last line of the log. SIGINT or SIGTERM while
 * waiting cancels the job (scancel) and the build fails. Nothing trains in
 * this process. */
#include "run/exec.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- running a command ------------------------------------------------------------------ */

/* argv[0] found on PATH; stdout into out, stderr into errs (either may be
 * NULL: discarded). Returns the exit status, 128+N for a signal, -1 when it
 * could not start (errno). */
static int run_cmd(char *const argv[], sbuf *out, sbuf *errs)
{
    int po[2], pe[2];
    if (pipe(po)) return -1;
    if (pipe(pe)) { close(po[0]); close(po[1]); return -1; }
    pid_t pid = fork();
    if (pid < 0) { close(po[0]); close(po[1]); close(pe[0]); close(pe[1]); return -1; }
    if (pid == 0) {
        /* a Ctrl-C meant for the build must not kill the scancel it sends */
        signal(SIGINT, SIG_IGN);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            ssize_t k = read(fds[i].fd, buf, sizeof buf);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) { close(fds[i].fd); fds[i].fd = -1; open_fds--; continue; }
            sbuf *b = i == 0 ? out : errs;
            if (b) sb_addn(b, buf, (size_t)k);
        }
    }
    for (int i = 0; i < 2; i++) if (fds[i].fd >= 0) close(fds[i].fd);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* append s (taken over) to the NULL-ended argv of *argc entries */
static void argv_push(char ***argv, int *argc, char *s)
{
    char **v = realloc(*argv, sizeof **argv * (size_t)(*argc + 2));
    if (!v || !s) kr_out_of_memory(sizeof **argv * (size_t)(*argc + 2));
    *argv = v;
    v[(*argc)++] = s;
    v[*argc] = NULL;
}

/* --slurm-args split like a shell would: blanks separate words, '...' and
 * "..." quote, a backslash escapes the next character; nothing is expanded.
 * The words are appended to *v (*n entries, malloc'd); 0, or -1 on an open quote. */
static int split_args(const char *s, char ***v, int *n)
{
    while (s && *s) {
        while (*s == ' ' || *s == '\t' || *s == '\n') s++;
        if (!*s) break;
        sbuf w = {0};
        sb_add(&w, "");
        char q = 0;
        for (; *s && (q || (*s != ' ' && *s != '\t' && *s != '\n')); s++) {
            if (q) {
                if (*s == q) q = 0;
                else if (q == '"' && *s == '\\' && s[1]) sb_addc(&w, *++s);
                else sb_addc(&w, *s);
            } else if (*s == '\'' || *s == '"') q = *s;
            else if (*s == '\\' && s[1]) sb_addc(&w, *++s);
            else sb_addc(&w, *s);
        }
        if (q) { sb_free(&w); return -1; }
        argv_push(v, n, sb_take(&w));
    }
    return 0;
}

/* 'text' for sh, single quotes escaped */
static void sb_shquote(sbuf *b, const char *s)
{
    sb_addc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'') sb_add(b, "'\\''");
        else sb_addc(b, *s);
    }
    sb_addc(b, '\'');
}

/* ---- the tasks' states ------------------------------------------------------------------- */

typedef enum { T_QUEUED, T_RUNNING, T_DONE, T_FAILED } tphase;

typedef struct task {
    kiln_run *r;
    tphase ph;
    char state[32];     /* Slurm's word: PENDING, RUNNING, COMPLETED, TIMEOUT, ... */
    char node[64];
    double t_run;       /* when first seen running (kr_now) */
    int seen;           /* listed by squeue at least once */
    int settled;        /* outcome handled (entry loaded or failure reported) */
} task;

static tphase phase_of(const char *state)
{
    static const char *const queued[] = {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
                                         "RESV_DEL_HOLD", "SUSPENDED", "STOPPED", "RESIZING", NULL};
    static const char *const running[] = {"RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT", NULL};
    if (!strcmp(state, "COMPLETED")) return T_DONE;
    for (const char *const *q = queued; *q; q++) if (!strcmp(state, *q)) return T_QUEUED;
    for (const char *const *q = running; *q; q++) if (!strcmp(state, *q)) return T_RUNNING;
    return T_FAILED; /* FAILED, CANCELLED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, BOOT_FAIL, DEADLINE, PREEMPTED, ... */
}

/* Lines "JOB_I|STATE|NODES" (squeue -o '%i|%T|%N', sacct -P -o JobID,State,NodeList)
 * into the tasks of job. Returns how many lines named a task of job. */
static int parse_states(const char *text, const char *job, task *t, int n, double now)
{
    int hits = 0;
    size_t jl = strlen(job);
    char *copy = strdup(text ? text : "");
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, job, jl) || line[jl] != '_') continue;
        char *end;
        long i = strtol(line + jl + 1, &end, 10);
        if (end == line + jl + 1 || *end != '|' || i < 0 || i >= n) continue; /* 12_[0-5] or 12_3.batch */
        char *state = end + 1, *bar = strchr(state, '|');
        if (!bar) continue;
        *bar = 0;
        char *node = bar + 1;
        state[strcspn(state, " ")] = 0; /* sacct: "CANCELLED by 0" */
        task *k = &t[i];
        hits++;
        k->seen = 1;
        if (k->settled) continue;
        snprintf(k->state, sizeof k->state, "%s", state);
        if (*node && strcmp(node, "(null)") && strcmp(node, "None assigned")) snprintf(k->node, sizeof k->node, "%s", node);
        k->ph = phase_of(state);
        if (k->ph == T_RUNNING && k->t_run == 0) k->t_run = now;
        if (k->ph == T_QUEUED) k->t_run = 0; /* requeued */
    }
    free(copy);
    return hits;
}

/* ---- the wait ---------------------------------------------------------------------------- */

static volatile sig_atomic_t g_interrupted;
static void on_signal(int sig) { g_interrupted = sig; }

typedef struct slurm_ctx {
    kx_phase *x;
    char job[64];
    task *t;
    int n;
    const char *cache;
    int tty, quiet;
    int has_sacct;      /* -1 unknown, 0 no accounting, 1 yes */
    double t_submit;
    char last_line[512];
} slurm_ctx;

static void log_path(const slurm_ctx *c, int i, char *buf, size_t n)
{
    snprintf(buf, n, "%s/slurm/logs/%s_%d.log", c->cache, c->job, i);
}

/* The last non-empty line of a task's log ("" if none). */
static void last_log_line(const char *path, char *out, size_t n)
{
    out[0] = 0;
    char *text = kr_read_file(path, NULL);
    if (!text) return;
    char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ')) *--end = 0;
    char *start = end;
    while (start > text && start[-1] != '\n') start--;
    snprintf(out, n, "%s", start);
    free(text);
}

/* queued, running, done, failed and the ETA: what is left at the mean wall
 * time of this phase's finished runs, spread over the tasks running now */
static void progress(slurm_ctx *c, int force)
{
    if (c->quiet) return;
    int cnt[4] = {0};
    double sum = 0, left = 0, now = kr_now();
    int timed = 0;
    for (int i = 0; i < c->n; i++) {
        cnt[c->t[i].ph]++;
        if (c->t[i].ph == T_DONE && c->t[i].r->ok && isfinite(c->t[i].r->seconds)) { sum += c->t[i].r->seconds; timed++; }
    }
    char eta[32] = "?";
    if (cnt[T_QUEUED] + cnt[T_RUNNING] == 0) snprintf(eta, sizeof eta, "0s");
    else if (timed) {
        double mean = sum / timed;
        for (int i = 0; i < c->n; i++) {
            if (c->t[i].ph == T_QUEUED) left += mean;
            else if (c->t[i].ph == T_RUNNING) left += fmax(mean - (now - c->t[i].t_run), 0);
        }
        kr_fmt_eta(left / (cnt[T_RUNNING] > 0 ? cnt[T_RUNNING] : 1), eta, sizeof eta);
    }
    char line[512];
    snprintf(line, sizeof line, "kiln: Slurm job %s (%s): %d queued, %d running, %d done, %d failed, ETA %s", c->job,
             c->x->phase ? "phase 2" : "phase 1", cnt[T_QUEUED], cnt[T_RUNNING], cnt[T_DONE], cnt[T_FAILED], eta);
    /* on a terminal: one line, redrawn; in a log: a line when the counts change */
    char counts[128];
    snprintf(counts, sizeof counts, "%d %d %d %d", cnt[0], cnt[1], cnt[2], cnt[3]);
    if (c->tty) {
        fprintf(c->x->log, "\r\033[K%s", line);
    } else if (force || strcmp(counts, c->last_line)) {
        fprintf(c->x->log, "%s\n", line);
    }
    snprintf(c->last_line, sizeof c->last_line, "%s", counts);
    fflush(c->x->log);
}

/* A task that reached an end: load its entry, or report why there is none. */
static void settle(slurm_ctx *c, int i)
{
    task *k = &c->t[i];
    kiln_run *r = k->r;
    kx_phase *x = c->x;
    char why[1024] = "", lp[4200];
    k->settled = 1;
    log_path(c, i, lp, sizeof lp);
    if (k->ph == T_DONE) {
        kc_status s = kc_load(c->cache, r, x->doc->arena, why, sizeof why);
        if (s == KC_HIT) {
            x->st->runs_trained++;
            x->st->seconds_training += isfinite(r->seconds) ? r->seconds : 0;
            return;
        }
        k->ph = T_FAILED;
        if (s == KC_MISS) snprintf(why, sizeof why, "the task ended without storing %s/%s.json", c->cache, r->key);
    }
    char tail[512];
    last_log_line(lp, tail, sizeof tail);
    if (c->tty && !c->quiet) fputs("\r\033[K", x->log);
    x->st->runs_failed++;
    kd_error(x->d, KILN_REPORT_EFAIL, r->file, r->line,
             "run '%s' failed on Slurm: job %s_%d, state %s, node %s, log %s%s%s%s%s", r->id, c->job, i, k->state,
             k->node[0] ? k->node : "(none)", lp, *why ? "; " : "", why, *tail ? "; its last line: " : "", tail);
    if (!c->quiet)
        fprintf(x->log, "kiln: %s FAILED on Slurm (job %s_%d, %s, node %s; log %s)\n", r->id, c->job, i, k->state,
                k->node[0] ? k->node : "(none)", lp);
}

/* The tasks that squeue no longer lists: sacct where the cluster keeps
 * accounting; else their entries say whether they completed. */
static void gone_from_queue(slurm_ctx *c, int *unlisted, int nu)
{
    if (c->has_sacct != 0) {
        char *argv[] = {"sacct", "-n", "-P", "-X", "-j", c->job, "-o", "JobID,State,NodeList", NULL};
        sbuf out = {0}, err = {0};
        int rc = run_cmd(argv, &out, &err);
        int hits = rc == 0 ? parse_states(out.s, c->job, c->t, c->n, kr_now()) : 0;
        if (rc != 0 || (hits == 0 && err.s && strstr(err.s, "disabled"))) c->has_sacct = 0;
        else c->has_sacct = 1;
        sb_free(&out);
        sb_free(&err);
    }
    for (int j = 0; j < nu; j++) {
        task *k = &c->t[unlisted[j]];
        if (k->settled || k->ph == T_DONE || k->ph == T_FAILED) continue;
        if (c->has_sacct == 1) continue; /* sacct lists it still pending or running */
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.json", c->cache, k->r->key);
        if (access(path, F_OK) == 0) { snprintf(k->state, sizeof k->state, "COMPLETED"); k->ph = T_DONE; }
        else { snprintf(k->state, sizeof k->state, "UNKNOWN"); k->ph = T_FAILED; }
    }
}

static double poll_interval(void)
{
    const char *e = getenv("KILN_SLURM_POLL");
    double v = e && *e ? atof(e) : 5;
    return v >= 0.1 && v <= 600 ? v : 5;
}

/* sleep s seconds, returning early on a signal */
static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}

static void cancel_job(slurm_ctx *c)
{
    char *argv[] = {"scancel", c->job, NULL};
    sbuf err = {0};
    int rc = run_cmd(argv, NULL, &err);
    if (!c->quiet) {
        if (c->tty) fputs("\r\033[K", c->x->log);
        if (rc == 0) fprintf(c->x->log, "kiln: interrupted: cancelled Slurm job %s (scancel %s)\n", c->job, c->job);
        else fprintf(c->x->log, "kiln: interrupted, but scancel %s failed: %s\n", c->job, err.s ? err.s : "");
    }
    sb_free(&err);
}

static void wait_for(slurm_ctx *c)
{
    double dt = poll_interval(), cancelled_at = 0;
    int squeue_fail = 0;
    int *unlisted = calloc((size_t)c->n, sizeof *unlisted);
    for (;;) {
        if (g_interrupted && cancelled_at == 0) {
            cancel_job(c);
            cancelled_at = kr_now();
        }
        char *argv[] = {"squeue", "-h", "-r", "-t", "all", "-j", c->job, "-o", "%i|%T|%N", NULL};
        sbuf out = {0}, err = {0};
        int rc = run_cmd(argv, &out, &err);
        double now = kr_now();
        if (rc == 0) {
            squeue_fail = 0;
            for (int i = 0; i < c->n; i++) c->t[i].seen = 0;
            parse_states(out.s, c->job, c->t, c->n, now);
            int nu = 0;
            for (int i = 0; i < c->n; i++)
                if (!c->t[i].seen && !c->t[i].settled) unlisted[nu++] = i;
            /* a job just submitted may take a moment to be listed */
            if (nu && now - c->t_submit > 2 * dt + 5) gone_from_queue(c, unlisted, nu);
        } else if (++squeue_fail == 1 || squeue_fail % 10 == 0) {
            if (!c->quiet) {
                if (c->tty) fputs("\r\033[K", c->x->log);
                fprintf(c->x->log, "kiln: squeue failed (%s); trying again\n", err.s ? err.s : "no message");
            }
        }
        sb_free(&out);
        sb_free(&err);
        int open_tasks = 0;
        for (int i = 0; i < c->n; i++) {
            if (!c->t[i].settled && (c->t[i].ph == T_DONE || c->t[i].ph == T_FAILED)) settle(c, i);
            open_tasks += !c->t[i].settled;
        }
        progress(c, 0);
        if (!open_tasks) break;
        /* after a cancel, tasks Slurm cannot reach (a dead node) are given
         * up on after a minute */
        if (cancelled_at && kr_now() - cancelled_at > 60) {
            for (int i = 0; i < c->n; i++)
                if (!c->t[i].settled) { snprintf(c->t[i].state, sizeof c->t[i].state, "CANCELLING"); c->t[i].ph = T_FAILED; settle(c, i); }
            break;
        }
        nap(cancelled_at ? fmin(dt, 1) : dt);
    }
    free(unlisted);
    if (c->tty && !c->quiet) { fputs("\n", c->x->log); fflush(c->x->log); }
}

/* ---- submission ---------------------------------------------------------------------------- */

static char *self_exe(void)
{
    char buf[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (k <= 0) return NULL;
    buf[k] = 0;
    return strdup(buf);
}

/* the nodes on which this job's tasks ran, "n1 (3), n2 (3)" */
static void node_summary(const slurm_ctx *c, sbuf *b)
{
    for (int i = 0; i < c->n; i++) {
        if (!c->t[i].node[0]) continue;
        int first = 1, count = 0;
        for (int j = 0; j < c->n; j++) {
            if (strcmp(c->t[j].node, c->t[i].node)) continue;
            if (j < i) first = 0;
            count++;
        }
        if (first) sb_printf(b, "%s%s (%d)", b->len ? ", " : "", c->t[i].node, count);
    }
}

/* The folders under CACHE/slurm/, one spec per run, and the batch script
 * (task i trains the i-th key) in sp. */
static int write_job_files(kx_phase *x, const char *cache, const char *data, const char *kiln, char dirs[3][4200],
                           char *sp, size_t spn)
{
    kiln_diag *d = x->d;
    char err[1024];
    snprintf(dirs[0], 4200, "%s/slurm/spec", cache);
    snprintf(dirs[1], 4200, "%s/slurm/logs", cache);
    snprintf(dirs[2], 4200, "%s/slurm/jobs", cache);
    for (int i = 0; i < 3; i++)
        if (kr_mkdirs(dirs[i])) {
            kd_error(d, KILN_REPORT_EFAIL, dirs[i], 0, "cannot create: %s", strerror(errno));
            return 1;
        }
    for (int i = 0; i < x->n_todo; i++)
        if (kx_spec_write(cache, x->todo[i], x->doc->trainer_fingerprint, data, err, sizeof err)) {
            kd_error(d, KILN_REPORT_EFAIL, x->todo[i]->file, x->todo[i]->line, "%s", err);
            return 1;
        }
    sbuf script = {0};
    sb_add(&script, "#!/bin/sh\n# written by kiln build (Slurm executor): task i of the array trains the i-th run\n");
    for (int i = 0; i < x->n_todo; i++) sb_printf(&script, "# %d: %s (%s:%d)\n", i, x->todo[i]->id, x->todo[i]->file, x->todo[i]->line);
    sb_add(&script, "set --");
    for (int i = 0; i < x->n_todo; i++) sb_printf(&script, " %s", x->todo[i]->key);
    sb_add(&script, "\nshift \"$SLURM_ARRAY_TASK_ID\"\nexec ");
    sb_shquote(&script, kiln);
    sb_add(&script, " task ");
    sb_shquote(&script, cache);
    sb_add(&script, " \"$1\"\n");
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(sp, spn, "%s/phase%d-%s-%ld.sh", dirs[2], x->phase + 1, stamp, (long)getpid());
    int rc = 0;
    if (kr_write_atomic(sp, script.s, script.len) || chmod(sp, 0755)) {
        kd_error(d, KILN_REPORT_EFAIL, sp, 0, "cannot write the batch script: %s", strerror(errno));
        rc = 1;
    }
    sb_free(&script);
    return rc;
}

/* sbatch --parsable --array=0-(n-1) ... [--slurm-args] SCRIPT; NULL after an error */
static char **sbatch_argv(kx_phase *x, const char *sp, const char *logs, const char *cpus, int *argc)
{
    const kiln_build_opts *o = &x->doc->opts;
    char array[64], output[4300], name[64];
    snprintf(array, sizeof array, "--array=0-%d", x->n_todo - 1);
    snprintf(output, sizeof output, "--output=%s/%%A_%%a.log", logs);
    snprintf(name, sizeof name, "--job-name=kiln-phase%d", x->phase + 1);
    const char *fixed[] = {"sbatch", "--parsable", array, name, cpus, output, "--no-requeue"};
    char **argv = NULL;
    *argc = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) argv_push(&argv, argc, strdup(fixed[i]));
    int k = split_args(o->slurm_args, &argv, argc);
    if (k < 0) {
        kd_error(x->d, KILN_REPORT_EINPUT, NULL, 0, "--slurm-args: an open quote in '%s'", o->slurm_args);
        for (int i = 0; i < *argc; i++) free(argv[i]);
        free(argv);
        *argc = 0;
        return NULL;
    }
    argv_push(&argv, argc, strdup(sp));
    return argv;
}

/* Follow job c->job until every task ended (or a signal came), then say
 * what it stored. Returns the number of runs that failed. */
static int follow_job(kx_phase *x, slurm_ctx *c, const char *cpus, const char *logs)
{
    const kiln_build_opts *o = &x->doc->opts;
    if (!o->quiet) {
        fprintf(x->log, "kiln: %d run%s%s submitted to Slurm as job array %s (%d task%s, %s); logs %s/%s_*.log\n",
                c->n, c->n == 1 ? "" : "s", x->phase ? " with values from earlier runs" : "", c->job, c->n,
                c->n == 1 ? "" : "s", cpus + 2, logs, c->job);
        fflush(x->log);
    }
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_interrupted = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    wait_for(c);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    int failed = 0;
    for (int i = 0; i < c->n; i++) failed += !c->t[i].r->ok;
    if (!o->quiet) {
        sbuf nodes = {0};
        node_summary(c, &nodes);
        fprintf(x->log, "kiln: Slurm job %s: %d of %d run%s stored%s%s\n", c->job, c->n - failed, c->n, c->n == 1 ? "" : "s",
                nodes.len ? "; tasks ran on " : "", nodes.len ? nodes.s : "");
        sb_free(&nodes);
        fflush(x->log);
    }
    if (g_interrupted)
        kd_error(x->d, KILN_REPORT_EFAIL, NULL, 0, "interrupted (signal %d): Slurm job %s cancelled", (int)g_interrupted, c->job);
    return failed;
}

int kx_slurm_phase(kx_phase *x)
{
    const kiln_build_opts *o = &x->doc->opts;
    kiln_diag *d = x->d;
    char *cache = realpath(x->cache, NULL), *data = realpath(x->data_dir, NULL);
    char *kiln = o->slurm_kiln ? realpath(o->slurm_kiln, NULL) : self_exe();
    int rc = 1;
    char **argv = NULL;
    int argc = 0;
    sbuf out = {0}, errs = {0};
    char sp[4400] = "", dirs[3][4200], cpus[64];
    task *t = NULL;
    if (!cache || !data || !kiln) {
        kd_error(d, KILN_REPORT_EFAIL, !cache ? x->cache : !data ? x->data_dir : o->slurm_kiln, 0,
                 "cannot resolve the path the nodes would use: %s", strerror(errno));
        goto done;
    }
    if (write_job_files(x, cache, data, kiln, dirs, sp, sizeof sp)) goto done;
    snprintf(cpus, sizeof cpus, "--cpus-per-task=%d", o->threads > 0 ? o->threads : 1);
    if (!(argv = sbatch_argv(x, sp, dirs[1], cpus, &argc))) goto done;

    int src = run_cmd(argv, &out, &errs);
    if (src != 0) {
        sbuf cmd = {0};
        for (int i = 0; i < argc; i++) sb_printf(&cmd, "%s%s", i ? " " : "", argv[i]);
        kd_error(d, KILN_REPORT_EFAIL, NULL, 0, "sbatch failed (%s%d): %s%s(command: %s)",
                 src < 0 ? "could not start, " : "exit status ", src < 0 ? errno : src, errs.s ? errs.s : "",
                 errs.s && errs.len && errs.s[errs.len - 1] != '\n' ? " " : "", cmd.s);
        sb_free(&cmd);
        goto done;
    }

    slurm_ctx c = {0};
    c.x = x;
    c.cache = cache;
    c.n = x->n_todo;
    c.quiet = o->quiet;
    c.tty = isatty(fileno(x->log));
    c.has_sacct = -1;
    c.t_submit = kr_now();
    snprintf(c.job, sizeof c.job, "%.*s", (int)strcspn(out.s ? out.s : "", ";\n "), out.s ? out.s : "");
    if (!c.job[0] || strspn(c.job, "0123456789") != strlen(c.job)) {
        kd_error(d, KILN_REPORT_EFAIL, NULL, 0, "sbatch did not print a job id (it printed '%s')", out.s ? out.s : "");
        goto done;
    }
    t = calloc((size_t)c.n, sizeof *t);
    if (!t) kr_out_of_memory((size_t)c.n * sizeof *t);
    for (int i = 0; i < c.n; i++) {
        t[i].r = x->todo[i];
        snprintf(t[i].state, sizeof t[i].state, "PENDING");
    }
    c.t = t;
    rc = follow_job(x, &c, cpus, dirs[1]) || g_interrupted ? 1 : 0;

done:
    for (int i = 0; i < argc; i++) free(argv[i]);
    free(argv);
    free(t);
    sb_free(&out);
    sb_free(&errs);
    free(cache);
    free(data);
    free(kiln);
    return rc;
}
