'use strict';
/*
 * bench/jobconfig.js: the jobconfig side.
 *
 * Usage (from bench/run.sh): node jobconfig.js latency|drain|burst200|burst1000|scale
 *
 * The cluster preloads jobconfig with its default settings (4 executors per
 * database, jobconfig.max_workers); everything runs as the postgres
 * superuser in database "bench".  The names used here -- current_input(),
 * the jobconfig.enabled setting, scheduler_status(), the backend types
 * "jobconfig scheduler" / "jobconfig executor" -- are the workers' contract.
 * When a part of it is missing the scenario fails with the reason, and the
 * table says so.
 */

const c = require('./common');

const PEER = 'jobconfig';

async function setUp(sql) {
    const client = await c.connect();
    await client.query('CREATE EXTENSION jobconfig; CREATE SCHEMA bench;' + sql);
    return client;
}

/* diagnose: what jobconfig looks like when a run does not happen: the
 * latest execution of a job and which jobconfig processes exist. */
async function diagnose(client, jobId) {
    const e = await client.query(`
        SELECT status, error FROM jobconfig.job_executions
         WHERE job_id = $1 ORDER BY id DESC LIMIT 1`, [jobId]);
    const p = await client.query(`
        SELECT coalesce(string_agg(backend_type, ', ' ORDER BY backend_type), 'none') AS procs
          FROM pg_stat_activity WHERE backend_type LIKE 'jobconfig%'`);
    const exec = e.rows.length
        ? `its execution is ${e.rows[0].status}${e.rows[0].error ? ` (${e.rows[0].error})` : ''}`
        : 'no execution recorded';
    return `${exec}; jobconfig processes: ${p.rows[0].procs}`;
}

/*
 * latency: run_job commit -> the job's first statement.  The job inserts
 * (its run number, clock_timestamp()) into bench.starts; each run is
 * BEGIN; SELECT jobconfig.run_job('bench-latency', {"run": n}); COMMIT and
 * the time right after COMMIT returns; see common.measureStartLatency.
 */
async function latency() {
    const client = await setUp('');
    await c.installStartsTable(client);
    await client.query(`SELECT jobconfig.create_job('bench-latency', $1)`, [JSON.stringify({
        execution: {
            command: "INSERT INTO bench.starts (run, started_at) VALUES " +
                "((jobconfig.current_input() ->> 'run')::int, clock_timestamp())",
            concurrency: 'allow',
            retry: { maxAttempts: 1 },
        },
    })]);
    return c.measureStartLatency({
        client,
        enqueueSql: "SELECT jobconfig.run_job('bench-latency', jsonb_build_object('run', $1::int))",
        diagnose: () => diagnose(client, 'bench-latency'),
    });
}

/* setEnabled: jobconfig.enabled on or off for the whole server (pauses or
 * resumes all firing and claiming), returning the time just before the
 * reload was signalled. */
async function setEnabled(client, on) {
    await client.query(`ALTER SYSTEM SET jobconfig.enabled = ${on ? 'on' : 'off'}`);
    const t = c.nowUs();
    await client.query('SELECT pg_reload_conf()');
    return t;
}

/*
 * drain: 20,000 queued runs of a job that inserts one row.
 *
 * With jobconfig.enabled off (every worker has 1 s to read the reload), the
 * runs are queued in one transaction; jobconfig.enabled goes back on, and
 * t0 is taken just before pg_reload_conf().  The end is the first 10 ms poll
 * at which 20,000 executions of bench-drain are 'succeeded' (each committed
 * together with its row).  Jobs/s = 20,000 / (end - t0).  If any run left
 * the queue while paused there is nothing to time, and the scenario fails
 * saying so; failed runs are counted in the raw numbers.
 *
 * drain_quiet: the same with jobconfig.notify_events = off (no NOTIFY on
 * jobconfig_events for each state change).
 */
async function drain({ scenario }) {
    const jobs = c.QUICK ? 5000 : 20000;
    const client = await setUp('CREATE TABLE bench.drained (run int NOT NULL);');
    if (scenario === 'drain_quiet') {
        /* the same drain without the NOTIFY per state change (jobconfig_events),
         * to show what that feature costs; setEnabled's reload applies it */
        await client.query('ALTER SYSTEM SET jobconfig.notify_events = off');
    }
    await client.query(`SELECT jobconfig.create_job('bench-drain', $1)`, [JSON.stringify({
        execution: {
            command: "INSERT INTO bench.drained (run) VALUES ((jobconfig.current_input() ->> 'run')::int)",
            concurrency: 'allow',
            retry: { maxAttempts: 1 },
        },
    })]);
    await setEnabled(client, false);
    await c.sleep(1000);
    await client.query(`
        SELECT jobconfig.run_job('bench-drain', jsonb_build_object('run', g))
          FROM generate_series(1, $1) AS g`, [jobs]);
    await c.sleep(1000);
    const ranWhilePaused = (await client.query(`
        SELECT count(*)::int AS n FROM jobconfig.job_executions
         WHERE job_id = 'bench-drain' AND status <> 'queued'`)).rows[0].n;
    if (ranWhilePaused > 0) {
        /* nothing to time: the queue was not held back */
        return {
            error: `jobconfig.enabled = off did not pause: ${ranWhilePaused} of ${jobs} queued runs ` +
                'left the queue while it was off',
            raw: { jobs, ran_while_paused: ranWhilePaused },
        };
    }
    c.log(PEER, scenario, `${jobs} runs queued while paused; resuming`);

    const t0 = await setEnabled(client, true);
    let done = 0;
    let lastProgressMs = Date.now();
    for (;;) {
        const r = await client.query(`
            SELECT count(*)::int AS n FROM jobconfig.job_executions
             WHERE job_id = 'bench-drain' AND status = 'succeeded'`);
        if (r.rows[0].n >= jobs) break;
        if (r.rows[0].n !== done) lastProgressMs = Date.now();
        done = r.rows[0].n;
        if (Date.now() - lastProgressMs > 30000) {
            return {
                error: `stalled: ${done} of ${jobs} runs succeeded, no progress for 30 s ` +
                    `(${await diagnose(client, 'bench-drain')})`,
            };
        }
        await c.sleep(10);
    }
    const seconds = (c.nowUs() - t0) / 1e6;
    const check = (await client.query(`
        SELECT (SELECT count(*) FROM bench.drained)::int AS rows,
               (SELECT count(*) FROM jobconfig.job_executions
                 WHERE job_id = 'bench-drain' AND status <> 'succeeded')::int AS not_succeeded`)).rows[0];
    return {
        metrics: { jobs_per_s: c.round(jobs / seconds, 1) },
        raw: { jobs, seconds: c.round(seconds, 3), ran_while_paused: ranWhilePaused, ...check },
    };
}

/*
 * burst: `count` jobs on "* * * * *", created in one transaction, each
 * inserting (N, clock_timestamp()) into bench.burst; last start - the minute
 * boundary (see common.measureBurst).  The jobs allow overlapping runs, as
 * the peers' jobs do, so their slots are recorded ahead (README "Recorded
 * ahead"); burst1000_forbid measures jobconfig's default, "forbid", whose
 * slots are recorded at the boundary.
 */
function burst(count, concurrency = 'allow') {
    return async ({ scenario }) => {
        const jobs = c.QUICK ? Math.min(count, 200) : count;
        const client = await setUp('CREATE TABLE bench.burst (n int NOT NULL, started_at timestamptz NOT NULL);');
        const t0 = Date.now();
        await client.query(`
            SELECT jobconfig.create_job('burst-' || g, jsonb_build_object(
                       'trigger', jsonb_build_object('type', 'schedule',
                                                     'schedule', jsonb_build_object('cron', '* * * * *')),
                       'execution', jsonb_build_object(
                           'command', format('INSERT INTO bench.burst VALUES (%s, clock_timestamp())', g),
                           'concurrency', $2::text)))
              FROM generate_series(1, $1) AS g`, [jobs, concurrency]);
        const createS = (Date.now() - t0) / 1000;
        const result = await c.measureBurst({
            client, count: jobs, boundaryMs: c.nextBoundaryMs(10000), boundMs: 60000, peer: PEER, scenario,
        });
        result.raw.create_s = c.round(createS, 2);
        if (result.error && result.raw.started === 0) {
            result.error += ` (${await diagnose(client, 'burst-1')})`;
        }
        return result;
    };
}

/* status: jobconfig.scheduler_status(), with lastChangeAppliedAt in µs. */
async function status(client) {
    const r = await client.query(`
        SELECT s ->> 'pid' AS pid, (s ->> 'jobs')::bigint AS jobs,
               (s ->> 'changesApplied')::bigint AS changes,
               (extract(epoch FROM (s ->> 'lastChangeAppliedAt')::timestamptz) * 1000000)::float8 AS applied_us
          FROM jobconfig.scheduler_status() AS s`);
    const row = r.rows[0];
    return { pid: Number(row.pid), jobs: Number(row.jobs), changes: Number(row.changes), appliedUs: row.applied_us };
}

/*
 * scale: 100,000 enabled jobs on "0 0 1 1 *" (not due during the test),
 * created in transactions of 10,000.
 *
 * The scheduler's pid comes from pg_stat_activity (backend_type 'jobconfig
 * scheduler') and must match scheduler_status() ->> 'pid'.  Once the
 * scheduler holds every job (scheduler_status() ->> 'jobs') it rests 5 s;
 * then its CPU over 30 s of rest and its memory (common.restUsage).
 *
 * Edit latency: update_job('scale-42', <another cron>) committed (autocommit,
 * time taken when it returns), then scheduler_status() is polled every 1 ms
 * until changesApplied grows; latency = lastChangeAppliedAt - commit-return.
 * Ten edits, alternating two schedules, each after a random pause of
 * 0.5-1.5 s; the median is reported.  (A negative
 * value would mean the scheduler applied the change before the client saw
 * its COMMIT return.)
 */
async function scale({ scenario }) {
    const target = c.QUICK ? 10000 : 100000;
    const batch = 10000;
    const client = await setUp('');
    const payload = (cron) => JSON.stringify({
        trigger: { type: 'schedule', schedule: { cron } },
        execution: { command: 'SELECT 1' },
    });
    const t0 = Date.now();
    for (let from = 1; from <= target; from += batch) {
        await client.query(`
            SELECT jobconfig.create_job('scale-' || g, $3::jsonb)
              FROM generate_series($1::int, $2::int) AS g`, [from, from + batch - 1, payload('0 0 1 1 *')]);
    }
    const createS = (Date.now() - t0) / 1000;
    c.log(PEER, scenario, `${target} jobs created in ${createS.toFixed(1)} s`);

    const pid = await c.pollUntil(async () => {
        const r = await client.query(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'jobconfig scheduler' AND datname = 'bench'");
        return r.rows.length ? r.rows[0].pid : null;
    }, { intervalMs: 100, timeoutMs: 30000, describe: () => "no 'jobconfig scheduler' in pg_stat_activity after 30 s" });
    const loadedAt = Date.now();
    let st = await c.pollUntil(async () => {
        const s = await status(client);
        return s.jobs >= target ? s : null;
    }, {
        intervalMs: 100, timeoutMs: 120000,
        describe: async () => `the scheduler holds ${(await status(client)).jobs} of ${target} jobs after 120 s`,
    });
    if (st.pid !== pid) throw new Error(`scheduler_status() says pid ${st.pid}, pg_stat_activity ${pid}`);
    const loadS = (Date.now() - loadedAt) / 1000;
    await c.sleep(5000);
    const rest = await c.restUsage(pid, c.QUICK ? 10 : 30);

    const editsMs = [];
    for (let i = 0; i < 10; i++) {
        /* a random pause first, so that edits do not all meet the same
         * phase of whatever cadence the scheduler may have */
        await c.sleep(500 + Math.random() * 1000);
        const before = (await status(client)).changes;
        await client.query("SELECT jobconfig.update_job('scale-42', $1::jsonb)",
            [payload(i % 2 === 0 ? '0 0 2 1 *' : '0 0 1 1 *')]);
        const committedUs = c.nowUs();
        st = await c.pollUntil(async () => {
            const s = await status(client);
            return s.changes > before ? s : null;
        }, { intervalMs: 1, timeoutMs: 10000, describe: () => 'the edit was not applied within 10 s' });
        editsMs.push((st.appliedUs - committedUs) / 1000);
    }
    const sorted = [...editsMs].sort((a, b) => a - b);
    return {
        metrics: {
            jobs: target,
            cpu_percent: rest.cpu_percent,
            pss_mib: rest.pss_mib,
            private_mib: rest.private_mib,
            edit_ms: c.round(c.percentile(sorted, 50), 3),
        },
        raw: {
            created: target, create_s: c.round(createS, 1), scheduler_pid: pid,
            wait_for_all_jobs_loaded_s: c.round(loadS, 1), ...rest,
            edits_ms: editsMs.map((x) => c.round(x, 3)),
        },
    };
}

c.main(PEER, {
    latency,
    drain,
    drain_quiet: drain,
    burst200: burst(200),
    burst1000: burst(1000),
    burst1000_forbid: burst(1000, 'forbid'),
    scale,
});
