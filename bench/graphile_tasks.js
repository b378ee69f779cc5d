'use strict';
/*
 * bench/graphile_tasks.js: graphile-worker's task handlers and runner
 * settings, shared by the driver (bench/graphile.js) and the separate worker
 * process of the latency scenario (bench/graphile_worker.js).
 *
 * Each handler does what the jobconfig and pg_cron jobs do: one INSERT,
 * through the worker's own pool (helpers.query).  Where a start time is
 * recorded it is the handler's start, taken in the worker process with the
 * same clock as the driver's (common.nowUs), and written with microsecond
 * precision.
 */

const { Pool } = require('pg');
const { Logger } = require('graphile-worker');
const c = require('./common');

/* µs since the epoch -> timestamptz, exactly (a float8 holds it exactly) */
const US_TO_TIMESTAMPTZ = "timestamptz 'epoch' + $2::float8 * interval '1 microsecond'";

const taskList = {
    async bench_latency(payload, helpers) {
        const startedUs = Math.round(c.nowUs());
        await helpers.query(
            `INSERT INTO bench.starts (run, started_at) VALUES ($1, ${US_TO_TIMESTAMPTZ})`,
            [payload.run, startedUs]);
    },
    async bench_drain(payload, helpers) {
        await helpers.query('INSERT INTO bench.drained (run) VALUES ($1)', [payload.run]);
    },
    async bench_burst(payload, helpers) {
        const startedUs = Math.round(c.nowUs());
        await helpers.query(
            `INSERT INTO bench.burst (n, started_at) VALUES ($1, ${US_TO_TIMESTAMPTZ})`,
            [payload.n, startedUs]);
    },
};

/*
 * SETTINGS: the runner configurations tried.  "default" is graphile-worker
 * out of the box (one job at a time, no batching), used for the latency
 * scenario and shown for reference.  The others turn on its batching
 * features (0.16+): a local queue that locks and fetches jobs in batches,
 * and completions and failures flushed in batches.  Its jobs spend most of
 * their time waiting on PostgreSQL (each INSERT commits and flushes WAL),
 * so more concurrent jobs than cores can pay off.  (64 jobs with 50 ms
 * batches, tried by hand, drained no faster than 16 or 32.)  maxPoolSize follows graphile-worker's advice:
 * concurrentJobs + 2, at least 10.
 */
const SETTINGS = {
    default: { concurrentJobs: 1 },
    'c8-q200': { concurrentJobs: 8, localQueue: { size: 200 }, completeJobBatchDelay: 10, failJobBatchDelay: 10 },
    'c16-q500': { concurrentJobs: 16, localQueue: { size: 500 }, completeJobBatchDelay: 25, failJobBatchDelay: 25 },
    'c32-q1000': { concurrentJobs: 32, localQueue: { size: 1000 }, completeJobBatchDelay: 25, failJobBatchDelay: 25 },
};

/* quietLogger: warnings and errors only.  At its default level
 * graphile-worker writes a line per completed job to stdout, which would
 * cost it CPU that jobconfig and pg_cron (which record runs in tables) do
 * not spend. */
const quietLogger = new Logger(() => (level, message) => {
    if (level === 'error' || level === 'warning') process.stderr.write(`   graphile-worker ${level}: ${message}\n`);
});

/* runnerOptions: the options of graphile-worker's run() for a SETTINGS
 * name, on a pool of its own over the cluster's socket. */
function runnerOptions(name, extra = {}) {
    const s = SETTINGS[name];
    if (!s) throw new Error(`unknown graphile-worker settings "${name}"`);
    const worker = {};
    for (const key of ['localQueue', 'completeJobBatchDelay', 'failJobBatchDelay']) {
        if (s[key] !== undefined) worker[key] = s[key];
    }
    const pgPool = new Pool({
        host: c.SOCKET, port: 5432, user: 'postgres', database: 'bench',
        max: Math.max(10, s.concurrentJobs + 2),
    });
    /* an idle client's error (the server shutting down) must not crash us */
    const report = (e) => process.stderr.write(`   graphile-worker pool: ${e.message}\n`);
    pgPool.on('error', report);
    pgPool.on('connect', (client) => client.on('error', report));
    return {
        pgPool,
        concurrency: s.concurrentJobs,
        noHandleSignals: true,
        logger: quietLogger,
        taskList,
        preset: { worker },
        ...extra,
    };
}

module.exports = { taskList, SETTINGS, runnerOptions, quietLogger };
