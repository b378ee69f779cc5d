'use strict';
/*
 * bench/common.js: what the three peers' drivers share.
 *
 * The same code measures every peer, so a difference in the table is a
 * difference between the peers, not between two ways of measuring:
 *   - clocks: wall-clock microseconds from Node.js (performance.timeOrigin +
 *     performance.now()) and from PostgreSQL (clock_timestamp()) -- one
 *     machine, one realtime clock;
 *   - the manual-run latency loop (measureStartLatency);
 *   - the burst wait and its reading (measureBurst);
 *   - CPU and memory of a process at rest, from /proc (restUsage).
 *
 * A driver is run as `node bench/<peer>.js <scenario>` with BENCH_SOCKET (the
 * cluster's socket directory), BENCH_OUT (the results file, one JSON object
 * a line), BENCH_QUICK=1 for smaller counts, and BENCH_ROUND, the
 * repetition, for the scenarios run.sh repeats.  It appends one result line
 * and exits 0, or appends a failure line with the reason and exits 1.
 */

const fs = require('fs');
const { execFileSync } = require('child_process');
const { Client } = require('pg');

const SOCKET = process.env.BENCH_SOCKET;
const OUT = process.env.BENCH_OUT;
const QUICK = process.env.BENCH_QUICK === '1';

/*
 * Wall clock with microseconds.  Date.now() has only milliseconds;
 * performance.timeOrigin + performance.now() has sub-µs steps, but its
 * origin is one reading of the realtime clock at process start, which may
 * be off by a fraction of a millisecond, and performance.now() is monotonic
 * (an NTP slew of the realtime clock is not followed).  So each process
 * calibrates it against Date.now() at start: spin until Date.now() steps to
 * a new millisecond -- at that instant the realtime clock is exactly that
 * whole millisecond -- and note the difference; the median of 25 steps is
 * the correction.  Every process that takes times (the driver, a
 * graphile-worker process) does this, so all of them read the same clock
 * PostgreSQL's clock_timestamp() reads, to a few microseconds.
 */
function offsetToRealtimeMs(steps = 25) {
    const diffs = [];
    for (let i = 0; i < steps; i++) {
        const prev = Date.now();
        let cur;
        do cur = Date.now(); while (cur === prev);
        diffs.push(cur - (performance.timeOrigin + performance.now()));
    }
    diffs.sort((a, b) => a - b);
    return diffs[Math.floor(steps / 2)];
}
const OFFSET_MS = offsetToRealtimeMs();

/* nowUs: wall-clock time in microseconds since the Unix epoch. */
function nowUs() {
    return (performance.timeOrigin + performance.now() + OFFSET_MS) * 1000;
}

/* clockDriftMs: how far nowUs() has wandered from the realtime clock since
 * the calibration (reported with the raw numbers as a sanity check). */
function clockDriftMs() {
    return offsetToRealtimeMs() - OFFSET_MS;
}

function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/* connect: a new connection to the bench database over the Unix socket. */
async function connect(database = 'bench') {
    const client = new Client({ host: SOCKET, port: 5432, user: 'postgres', database });
    /* A connection the server drops (a crash and restart) must fail the
     * scenario with a reason, not kill the driver with an unhandled
     * 'error' event; the next query on it fails and says so. */
    client.on('error', (e) => log('driver', 'connection', e.message));
    await client.connect();
    return client;
}

/*
 * serverLogProblems: the lines of the cluster's server log that say a
 * server process crashed or the server panicked -- a scenario whose server
 * crashed measured something else than it claims, and a failure is best
 * explained by the crash.  The log is the one pg_ctl writes next to the
 * data directory (bench/lib.sh).
 */
function serverLogProblems() {
    let text;
    try {
        text = fs.readFileSync(`${SOCKET}/server.log`, 'utf8');
    } catch (e) {
        return [];
    }
    return text.split('\n')
        .filter((l) => /terminated by signal|was terminated by exception|PANIC:|TRAP:|exited with exit code [^01]/.test(l))
        .map((l) => l.replace(/^\S+ \S+ \S+ \[\d+\] \S+ /, '').replace(/^LOG:\s+/, '').trim())
        .slice(0, 5);
}

/* log: progress for the person watching, on stderr (stdout is the report). */
function log(peer, scenario, message) {
    process.stderr.write(`   ${peer}/${scenario}: ${message}\n`);
}

/* record: append one result line to BENCH_OUT. */
function record(result) {
    fs.appendFileSync(OUT, JSON.stringify(result) + '\n');
}

/* percentile: nearest-rank percentile of an ascending array. */
function percentile(sorted, p) {
    const rank = Math.ceil((p / 100) * sorted.length);
    return sorted[Math.max(0, rank - 1)];
}

function round(x, digits = 2) {
    const f = 10 ** digits;
    return Math.round(x * f) / f;
}

/* pollUntil: call check() every intervalMs until it returns a truthy value,
 * which is returned; after timeoutMs, throw describe()'s text.  Used for
 * waits whose end the database does not announce. */
async function pollUntil(check, { intervalMs, timeoutMs, describe }) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(await describe());
        await sleep(intervalMs);
    }
}

/*
 * installStartsTable: bench.starts(run, started_at) receives one row per
 * manual run, written by the job itself.  A trigger sends the row on the
 * channel bench_start as "<run> <started_at in µs since the epoch>", so the
 * driver learns of the start without polling (polling would steal CPU from
 * the peer on a 2-core machine).  The trigger runs after started_at was
 * taken, so it does not change the number measured.
 */
async function installStartsTable(client) {
    await client.query(`
        CREATE SCHEMA IF NOT EXISTS bench;
        CREATE TABLE bench.starts (run int PRIMARY KEY, started_at timestamptz NOT NULL);
        CREATE FUNCTION bench.announce_start() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('bench_start', NEW.run || ' ' ||
                (extract(epoch FROM NEW.started_at) * 1000000)::bigint);
            RETURN NULL;
        END $$;
        CREATE TRIGGER announce AFTER INSERT ON bench.starts
            FOR EACH ROW EXECUTE FUNCTION bench.announce_start();`);
}

/*
 * measureStartLatency: the manual-run latency loop, for any peer.
 *
 * For run n = 1..runs (after `warmup` unrecorded runs, numbered from
 * 1,000,001, which let every peer open its connections and plan its
 * statements): the peer's "run this now" call, enqueueSql with $1 = n, is
 * run on `client` in a transaction of its own, and nowUs() is taken right
 * after COMMIT returns; the job's own statement records its start time in
 * bench.starts, whose trigger notifies us.  Latency = started_at -
 * commit-return time.  Runs are sequential: the next is enqueued only once
 * the previous one has announced its start.  A run that does not start
 * within startTimeoutMs fails the scenario with diagnose()'s words.
 */
async function measureStartLatency({
    client, enqueueSql, diagnose, runs = QUICK ? 200 : 1000, warmup = 10, startTimeoutMs = 10000,
}) {
    const enqueue = async (run) => {
        await client.query('BEGIN');
        await client.query(enqueueSql, [run]);
        await client.query('COMMIT');
        return nowUs();
    };
    const listener = await connect();
    const waiting = new Map();  /* run -> resolve(started_at µs) */
    listener.on('notification', (msg) => {
        const [run, startedUs] = msg.payload.split(' ');
        const resolve = waiting.get(Number(run));
        if (resolve) resolve(Number(startedUs));
    });
    await listener.query('LISTEN bench_start');

    const driftBefore = clockDriftMs();
    const latenciesMs = [];
    const total = warmup + runs;
    for (let i = 1; i <= total; i++) {
        const run = i <= warmup ? 1000000 + i : i - warmup;
        let timer;
        const started = new Promise((resolve, reject) => {
            waiting.set(run, resolve);
            timer = setTimeout(() => reject(new Error('timeout')), startTimeoutMs);
        });
        started.catch(() => {});    /* handled below, after enqueue */
        const committedUs = await enqueue(run);
        let startedUs;
        try {
            startedUs = await started;
        } catch (e) {
            const why = diagnose ? await diagnose(run) : '';
            throw new Error(`run ${run} did not start within ${startTimeoutMs / 1000} s` +
                (why ? ` (${why})` : ''));
        } finally {
            clearTimeout(timer);
            waiting.delete(run);
        }
        if (i > warmup) latenciesMs.push((startedUs - committedUs) / 1000);
    }
    const driftAfter = clockDriftMs();
    await listener.end();

    const sorted = [...latenciesMs].sort((a, b) => a - b);
    return {
        metrics: {
            p50_ms: round(percentile(sorted, 50), 3),
            p99_ms: round(percentile(sorted, 99), 3),
        },
        raw: {
            runs,
            warmup,
            min_ms: round(sorted[0], 3),
            mean_ms: round(sorted.reduce((a, b) => a + b, 0) / sorted.length, 3),
            p90_ms: round(percentile(sorted, 90), 3),
            max_ms: round(sorted[sorted.length - 1], 3),
            negative: sorted.filter((x) => x < 0).length,
            clock_offset_ms: round(OFFSET_MS, 3),
            clock_drift_ms: [round(driftBefore, 3), round(driftAfter, 3)],
        },
    };
}

/* nextBoundaryMs: the first minute boundary at least marginMs from now, in
 * ms since the epoch.  The margin lets the peer load jobs just created. */
function nextBoundaryMs(marginMs) {
    return Math.ceil((Date.now() + marginMs) / 60000) * 60000;
}

/*
 * measureBurst: `count` jobs are due at the same minute boundary, each writing
 * (n, its start time) into bench.burst.  Waits for the boundary, then reads
 * bench.burst every 250 ms (a light poll: the rows carry their own start
 * times, so the poll rate does not change the number, only the load) until
 * every job has started or boundMs has passed.  Result: last start - the
 * boundary.  Rows from before the boundary (a slot the creation transaction
 * may have straddled) are ignored.
 */
async function measureBurst({ client, count, boundaryMs, boundMs, peer, scenario }) {
    const waitMs = boundaryMs - Date.now();
    log(peer, scenario, `waiting ${Math.round(waitMs / 1000)} s for ` +
        `${new Date(boundaryMs).toISOString()}`);
    await sleep(Math.max(0, waitMs));
    const boundaryIso = new Date(boundaryMs).toISOString();
    const read = async () => {
        const r = await client.query(`
            SELECT count(DISTINCT n)::int AS started,
                   (extract(epoch FROM min(started_at)) * 1000)::float8 AS first_ms,
                   (extract(epoch FROM max(started_at)) * 1000)::float8 AS last_ms
              FROM bench.burst WHERE started_at >= $1`, [boundaryIso]);
        return r.rows[0];
    };
    let row;
    for (;;) {
        row = await read();
        if (row.started >= count || Date.now() > boundaryMs + boundMs) break;
        await sleep(250);
    }
    const raw = {
        jobs: count,
        boundary: boundaryIso,
        started: row.started,
        first_start_s: row.first_ms === null ? null : round((row.first_ms - boundaryMs) / 1000, 3),
        last_start_s: row.last_ms === null ? null : round((row.last_ms - boundaryMs) / 1000, 3),
    };
    if (row.started < count) {
        return {
            error: `did not finish in ${boundMs / 1000} s: ${row.started} of ${count} started` +
                (row.last_ms === null ? '' : `, the last at +${raw.last_start_s} s`),
            raw,
        };
    }
    return { metrics: { last_start_s: raw.last_start_s }, raw };
}

/* cpuSeconds: utime + stime of a process, from /proc/PID/stat (fields 14
 * and 15, counted after the parenthesised command name, which may hold
 * spaces). */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
function cpuSeconds(pid) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    /* fields[0] is field 3 (state): utime is field 14, stime field 15 */
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/* memoryKiB: Rss, Pss and Private (clean + dirty) from /proc/PID/smaps_rollup.
 * Pss charges each shared page (shared_buffers included) to its sharers;
 * Private is what the process alone holds. */
function memoryKiB(pid) {
    const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const get = (key) => Number((text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm')) || [0, 0])[1]);
    return {
        rss: get('Rss'),
        pss: get('Pss'),
        private: get('Private_Clean') + get('Private_Dirty'),
    };
}

/* restUsage: CPU time a process uses over `seconds` of rest, as % of one
 * core, and its memory at the end. */
async function restUsage(pid, seconds) {
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const cpu1 = cpuSeconds(pid);
    const elapsed = (performance.now() - t0) / 1000;
    const mem = memoryKiB(pid);
    return {
        cpu_percent: round(((cpu1 - cpu0) / elapsed) * 100, 3),
        cpu_seconds: round(cpu1 - cpu0, 3),
        rest_seconds: round(elapsed, 1),
        pss_mib: round(mem.pss / 1024, 1),
        private_mib: round(mem.private / 1024, 1),
        rss_mib: round(mem.rss / 1024, 1),
    };
}

/*
 * What else the machine did during a scenario.  The machine may be shared
 * (another engineer's tests, the hypervisor's other guests), and on 2 cores
 * any other work moves the numbers.  loadSnapshot() reads the CPU time the
 * whole machine spent busy (/proc/stat), the part of it that was stolen by
 * the hypervisor, and the CPU time of "our" processes: the cluster's
 * postmaster and the driver, with their descendants, each counted with the
 * time of children it has reaped (cutime + cstime), so a backend that came
 * and went between two snapshots is still ours.  loadBetween() turns two
 * snapshots into % of one core spent by other processes, and steal %.
 */
function loadSnapshot() {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = cpu;
    const stats = new Map();
    for (const name of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue;
        try {
            const text = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
            const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
            /* f[1] is the ppid (field 4); fields 14-17 are utime, stime, cutime, cstime */
            stats.set(Number(name), { ppid: Number(f[1]), ticks: f.slice(11, 15).reduce((a, b) => a + Number(b), 0) });
        } catch (e) { /* the process ended while we looked */ }
    }
    const roots = [process.pid];
    try {
        roots.push(Number(fs.readFileSync(`${SOCKET}/data/postmaster.pid`, 'utf8').split('\n')[0]));
    } catch (e) { /* no cluster */ }
    const ours = new Set(roots);
    let grew = true;
    while (grew) {
        grew = false;
        for (const [pid, st] of stats) {
            if (!ours.has(pid) && ours.has(st.ppid)) { ours.add(pid); grew = true; }
        }
    }
    let oursTicks = 0;
    for (const pid of ours) oursTicks += stats.has(pid) ? stats.get(pid).ticks : 0;
    return { at: performance.now(), busy: user + nice + system + irq + softirq, steal, ours: oursTicks };
}

function loadBetween(a, b) {
    const seconds = (b.at - a.at) / 1000;
    const pct = (ticks) => round((ticks / CLK_TCK / seconds) * 100, 1);
    return {
        other_cpu_percent: Math.max(0, pct((b.busy - a.busy) - (b.ours - a.ours))),
        steal_percent: pct(b.steal - a.steal),
    };
}

/* ROUND: which repetition this is, for scenarios run.sh repeats */
const ROUND = process.env.BENCH_ROUND ? { round: Number(process.env.BENCH_ROUND) } : {};

/* main: run one scenario function of a driver, record its result or its
 * failure, and exit accordingly.  A scenario returns {metrics, raw} or
 * {error, raw}. */
async function main(peer, scenarios) {
    const scenario = process.argv[2];
    const fn = scenarios[scenario];
    if (!fn) {
        process.stderr.write(`${peer}: unknown scenario ${scenario}\n`);
        process.exit(2);
    }
    const t0 = Date.now();
    const load0 = loadSnapshot();
    let result;
    try {
        result = await fn({ peer, scenario });
    } catch (e) {
        result = { error: (e && e.message ? e.message : String(e)).split('\n')[0] };
    }
    const machine = loadBetween(load0, loadSnapshot());
    const crashes = serverLogProblems();
    if (crashes.length) {
        /* the number, if any, was measured across a crash: not one to show */
        result = {
            ...result,
            error: `${result.error ? `${result.error}; ` : ''}the server log says: ${crashes[0]}`,
            ...(result.metrics ? { metrics_across_crash: result.metrics } : {}),
            raw: { ...(result.raw || {}), server_log: crashes },
        };
        delete result.metrics;
    }
    record({ peer, scenario, ...ROUND, seconds: round((Date.now() - t0) / 1000, 1), machine, ...result });
    if (result.error) log(peer, scenario, `failed: ${result.error}`);
    process.exit(result.error ? 1 : 0);
}

module.exports = {
    QUICK, SOCKET, nowUs, clockDriftMs, sleep, connect, log, record, percentile, round,
    pollUntil, installStartsTable, measureStartLatency, nextBoundaryMs, measureBurst,
    cpuSeconds, memoryKiB, restUsage, main,
};
