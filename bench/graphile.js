'use strict';
/*
 * bench/graphile.js: the graphile-worker (0.18, npm) side.
 *
 * Usage (from bench/run.sh): node graphile.js latency | drain SETTINGS |
 * burst200 | burst1000, SETTINGS being a name of graphile_tasks.SETTINGS.
 *
 * graphile-worker keeps its queue in PostgreSQL (schema graphile_worker,
 * installed by its own migrations) and runs task handlers in Node.js; a
 * handler here does the same single INSERT as the jobconfig and pg_cron jobs,
 * through the worker's own pool.  It has no scale scenario here: its cron
 * lives in the worker's crontab, not in the database.
 */

const { spawn } = require('child_process');
const readline = require('readline');
const { run, runMigrations } = require('graphile-worker');
const c = require('./common');
const { runnerOptions, SETTINGS } = require('./graphile_tasks');

const PEER = 'graphile';

/* The settings of the drain and burst scenarios when none is named; run.sh
 * names, for the bursts, the settings that drained fastest in the same run. */
const DEFAULT_SETTINGS = 'c16-q500';

/* setUp: graphile-worker's schema (its migrations, run once as any first
 * start would) and the bench schema. */
async function setUp(sql) {
    const options = runnerOptions('default');
    await runMigrations(options);
    await options.pgPool.end();
    const client = await c.connect();
    await client.query('CREATE SCHEMA bench;' + sql);
    return client;
}

/* startWorkerProcess: bench/graphile_worker.js as a child process; resolves
 * once it says "ready". */
function startWorkerProcess(settings) {
    const child = spawn(process.execPath, [`${__dirname}/graphile_worker.js`, settings], {
        stdio: ['ignore', 'pipe', 'inherit'],
    });
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the worker process did not start in 30 s')), 30000);
        readline.createInterface({ input: child.stdout }).on('line', (line) => {
            if (line === 'ready') {
                clearTimeout(timer);
                resolve(child);
            }
        });
        child.on('exit', (code) => reject(new Error(`the worker process exited (${code})`)));
    });
}

function stopWorkerProcess(child) {
    return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
    });
}

/*
 * latency: graphile_worker.add_job('bench_latency', {"run": n}) committed
 * in its own transaction (BEGIN; SELECT add_job; COMMIT), then the handler's
 * start time in the worker process; see common.measureStartLatency.  The
 * worker runs graphile-worker's defaults (one job at a time, no batching:
 * batching trades latency for throughput); it is woken by the NOTIFY that
 * add_job sends, not by its 2 s poll.
 */
async function latency() {
    const client = await setUp('');
    await c.installStartsTable(client);
    const child = await startWorkerProcess('default');
    try {
        const result = await c.measureStartLatency({
            client,
            enqueueSql: "SELECT graphile_worker.add_job('bench_latency', json_build_object('run', $1::int))",
            diagnose: async () => {
                const r = await client.query(
                    'SELECT count(*)::int AS n, max(last_error) AS err FROM graphile_worker._private_jobs');
                return `${r.rows[0].n} jobs in the queue${r.rows[0].err ? `; last error: ${r.rows[0].err}` : ''}`;
            },
        });
        result.raw.settings = 'default';
        return result;
    } finally {
        await stopWorkerProcess(child);
    }
}

/*
 * drain: 20,000 jobs of bench_drain added (one transaction) while no worker
 * runs; then the worker is started in this process with the SETTINGS named
 * on the command line.  t0 = just before run(); the end = the first 10 ms
 * poll that finds all 20,000 rows inserted and graphile_worker's job table
 * empty (a job leaves the table only once its completion is recorded).
 * Jobs/s = 20,000 / (end - t0).  run.sh runs this three times per settings,
 * each on a fresh cluster; the table shows the best settings' median.
 */
async function drain({ scenario }) {
    const settings = process.argv[3] || DEFAULT_SETTINGS;
    const jobs = c.QUICK ? 5000 : 20000;
    const client = await setUp('CREATE TABLE bench.drained (run int NOT NULL);');
    await client.query(`
        SELECT graphile_worker.add_job('bench_drain', json_build_object('run', g))
          FROM generate_series(1, $1) AS g`, [jobs]);
    const options = runnerOptions(settings);
    c.log(PEER, scenario, `${jobs} jobs queued; starting the worker (${settings})`);

    const t0 = c.nowUs();
    const runner = await run(options);
    let last = { rows: 0, pending: jobs };
    let lastProgressMs = Date.now();
    try {
        for (;;) {
            const r = await client.query(`
                SELECT (SELECT count(*) FROM bench.drained)::int AS rows,
                       (SELECT count(*) FROM graphile_worker._private_jobs)::int AS pending`);
            const now = r.rows[0];
            if (now.rows >= jobs && now.pending === 0) break;
            if (now.rows !== last.rows || now.pending !== last.pending) lastProgressMs = Date.now();
            if (Date.now() - lastProgressMs > 30000) {
                return {
                    variant: settings,
                    error: `stalled: ${now.rows} of ${jobs} rows inserted, ${now.pending} jobs left, no progress for 30 s`,
                };
            }
            last = now;
            await c.sleep(10);
        }
    } finally {
        await runner.stop();
        await options.pgPool.end();
    }
    const seconds = (c.nowUs() - t0) / 1e6;
    return {
        variant: settings,
        metrics: { jobs_per_s: c.round(jobs / seconds, 1) },
        raw: { jobs, seconds: c.round(seconds, 3), settings: SETTINGS[settings] },
    };
}

/*
 * burst: `count` crontab entries "* * * * * bench_burst ?id=burst-N {n: N}"
 * in the worker's crontab, run with the SETTINGS named on the command line;
 * the handler records its start.  Last start - the minute boundary (see
 * common.measureBurst).
 */
function burst(count) {
    return async ({ scenario }) => {
        const settings = process.argv[3] || DEFAULT_SETTINGS;
        const jobs = c.QUICK ? Math.min(count, 200) : count;
        const client = await setUp('CREATE TABLE bench.burst (n int NOT NULL, started_at timestamptz NOT NULL);');
        const crontab = Array.from({ length: jobs }, (_, i) =>
            `* * * * * bench_burst ?id=burst-${i + 1} {"n": ${i + 1}}`).join('\n');
        const options = runnerOptions(settings, { crontab });
        const runner = await run(options);
        try {
            const result = await c.measureBurst({
                client, count: jobs, boundaryMs: c.nextBoundaryMs(10000), boundMs: 60000, peer: PEER, scenario,
            });
            result.raw.settings = settings;
            return result;
        } finally {
            await runner.stop();
            await options.pgPool.end();
        }
    };
}

c.main(PEER, {
    latency,
    drain,
    burst200: burst(200),
    burst1000: burst(1000),
});
