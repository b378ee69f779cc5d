'use strict';
/*
 * bench/report.js: turns the results file of a run into the table.
 *
 *   node report.js fail RESULTS PEER SCENARIO VARIANT REASON
 *       append a failure line (for failures bash sees: a server that does
 *       not start, a driver killed by the time limit)
 *   node report.js best RESULTS PEER SCENARIO
 *       print the settings (variant) whose median result was best
 *   node report.js table RESULTS MACHINE SETTINGS OUT.md
 *       print the machine and the table on stdout, and write them with the
 *       settings and every raw number to OUT.md
 *
 * One row per number, one column per peer, pg_cron's two modes (a
 * connection per run; cron.use_background_workers = on) a column each.  A
 * scenario that failed shows "failed [n]" and note n below the table gives
 * the reason; a number a peer cannot have is "n/a" with the reason: in the
 * cell when it never can (pg_cron has no manual trigger), in a note when
 * the driver found it out (no second schedules in the installed pg_cron).
 */

const fs = require('fs');

const PEERS = [
    ['jobconfig', 'jobconfig'],
    ['pg_cron', 'pg_cron: connection per run'],
    ['pg_cron_bgw', 'pg_cron: background workers'],
    ['graphile', 'graphile-worker'],
];

/* What a peer cannot measure, and why (shown in its cell). */
const NOT_APPLICABLE = {
    'pg_cron/latency': 'n/a (no manual trigger)',
    'pg_cron_bgw/latency': 'n/a (no manual trigger)',
    'graphile/scale': 'n/a (crontab in the worker)',
};

function readResults(file) {
    if (!fs.existsSync(file)) return [];
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const fmt = (x, digits = 1) => (x === null || x === undefined ? '?' : Number(x).toLocaleString('en-US', {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
}));

/* The number that ranks repeated results of a scenario (higher is better). */
const MAIN_METRIC = { drain: 'jobs_per_s', drain_quiet: 'jobs_per_s', rate: 'runs_per_s', rate_seconds: 'runs_per_s' };

/*
 * summarize: the result to show for a peer's scenario.  Repeated rounds of
 * the same settings give their median (the round whose main number is the
 * median, with `rounds` = every round's number); of several settings
 * (graphile-worker's drain) the one with the best median wins.  When no
 * round succeeded, the last failure is shown.
 */
function summarize(results, peer, scenario) {
    const all = results.filter((r) => r.peer === peer && r.scenario === scenario);
    if (all.length <= 1) return all[0];
    if (all.every((r) => r.na)) return all[0];
    const key = MAIN_METRIC[scenario];
    const bySettings = new Map();
    for (const r of all) {
        const k = r.variant || '';
        if (!bySettings.has(k)) bySettings.set(k, []);
        bySettings.get(k).push(r);
    }
    const medians = [];
    for (const rs of bySettings.values()) {
        const ok = rs.filter((r) => !r.error && !r.na).sort((a, b) => a.metrics[key] - b.metrics[key]);
        if (!ok.length) continue;
        const median = ok[Math.floor((ok.length - 1) / 2)];
        medians.push({
            ...median,
            rounds: ok.map((r) => r.metrics[key]),
            failures: rs.filter((r) => r.error).map((r) => r.error),
            of: rs.length,
        });
    }
    if (!medians.length) return all[all.length - 1];
    return medians.reduce((a, b) => (b.metrics[key] > a.metrics[key] ? b : a));
}

function buildTable(results) {
    const notes = [];
    const noteFor = (text) => {
        let i = notes.indexOf(text);
        if (i < 0) i = notes.push(text) - 1;
        return `[${i + 1}]`;
    };
    const find = (peer, scenario) => summarize(results, peer, scenario);
    let measured = false;   /* whether the row being built has any result */
    /* cell: the text for one peer and one number */
    const cell = (peer, scenario, show) => {
        const key = `${peer}/${scenario}`;
        const r = find(peer, scenario);
        if (!r) return NOT_APPLICABLE[key] || '—';
        measured = true;
        const what = `${peer}, ${scenario}${r.variant ? ` (${r.variant})` : ''}`;
        if (r.na) return `n/a ${noteFor(r.na)}`;
        if (r.error) return `failed ${noteFor(`${what}: ${r.error}`)}`;
        const failed = (r.failures || []).map((e) => noteFor(`${what}: ${e}`));
        return show(r.metrics, r) +
            (failed.length ? `, ${failed.length} of ${r.of} runs failed ${[...new Set(failed)].join('')}` : '');
    };
    const count = (scenario, key, fallback) => {
        const r = results.find((x) => x.scenario === scenario && x.raw && x.raw[key]);
        return r ? r.raw[key] : fallback;
    };

    /* spread: the settings and the range of the rounds, after a median */
    const spread = (r, settings) => {
        const parts = [];
        if (settings) parts.push(settings);
        if (r.rounds && r.rounds.length > 1) {
            parts.push(`${fmt(Math.min(...r.rounds), 0)}–${fmt(Math.max(...r.rounds), 0)}`);
        }
        return parts.length ? ` (${parts.join('; ')})` : '';
    };
    const drainJobs = count('drain', 'jobs', 20000);
    const rounds = Math.max(1, ...results.filter((r) => r.scenario === 'drain' || r.scenario === 'drain_quiet' || r.scenario === 'rate')
        .map((r) => r.round || 1));
    const latencyRuns = count('latency', 'runs', 1000);
    const secondsWindow = count('rate_seconds', 'window_s', 20);
    const secondsJobs = count('rate_seconds', 'jobs', 100);
    /* the note on pg_cron's drain cell says what the installed pg_cron
     * allows (its version is in every pg_cron result) */
    const cronVersion = count('rate', 'pg_cron_version', count('rate_seconds', 'pg_cron_version', null));
    const hasSeconds = cronVersion !== null && (([a, b]) => a > 1 || (a === 1 && b >= 5))(
        String(cronVersion).split(/[.-]/).map(Number));
    const rateNote = 'pg_cron has no queue: its cell is its maximum sustained run rate (runs/s), ' +
        'measured with jobs due at one minute boundary' +
        (hasSeconds ? `, on every pg_cron version alike; pg_cron ${cronVersion}'s '1 seconds' schedules are in the row below`
            : ` (pg_cron${cronVersion === null ? '' : ` ${cronVersion}`} has no second schedules)`) +
        '; see bench/README.md';
    const rows = [
        [`1. Manual run: commit → job starts, p50 (ms, ${latencyRuns} runs)`, 'latency',
            (m) => fmt(m.p50_ms, 2)],
        ['1. Manual run: commit → job starts, p99 (ms)', 'latency', (m) => fmt(m.p99_ms, 2)],
        [`2. Drain ${drainJobs.toLocaleString('en-US')} queued jobs (jobs/s${rounds > 1 ? `, median of ${rounds} runs` : ''}; ` +
            'pg_cron: max run rate)', 'drain',
            (m, r) => `${fmt(m.jobs_per_s)}${spread(r, r.variant)}`],
        ['2. Drain, jobconfig with `jobconfig.notify_events = off` (jobs/s, median)', 'drain_quiet',
            (m, r) => `${fmt(m.jobs_per_s)}${spread(r)}`],
        [`2. Rate, pg_cron: ${secondsJobs} jobs on \`'1 seconds'\` for ${secondsWindow} s ` +
            `(runs/s, of ${secondsJobs} offered${rounds > 1 ? ', median' : ''})`, 'rate_seconds',
            (m, r) => `${fmt(m.runs_per_s)} runs/s${spread(r)}`],
        ['3. Burst 200 cron jobs: minute boundary → last start (s)', 'burst200', (m) => fmt(m.last_start_s, 2)],
        ['3. Burst 1,000 cron jobs: minute boundary → last start (s)', 'burst1000', (m) => fmt(m.last_start_s, 2)],
        ['3. Burst 1,000, jobconfig with `concurrency: forbid` (recorded at the slot, not ahead) (s)',
            'burst1000_forbid', (m) => fmt(m.last_start_s, 2)],
        ['4. Scale: cron jobs held', 'scale', (m) => fmt(m.jobs, 0)],
        ['4. Scale: scheduler CPU at rest (% of one core)', 'scale', (m) => fmt(m.cpu_percent, 2)],
        ['4. Scale: scheduler memory, Pss / Private (MiB)', 'scale',
            (m) => `${fmt(m.pss_mib)} / ${fmt(m.private_mib)}`],
        ['4. Scale: one edit → in effect (ms, median)', 'scale', (m) => fmt(m.edit_ms, 2)],
    ];
    const lines = [
        `| | ${PEERS.map(([, title]) => title).join(' | ')} |`,
        `|---|${PEERS.map(() => '---:').join('|')}|`,
    ];
    for (const [label, scenario, show] of rows) {
        measured = false;
        const cells = PEERS.map(([peer]) => {
            if (peer.startsWith('pg_cron') && scenario === 'drain') {
                return cell(peer, 'rate', (m, r) => `${fmt(m.runs_per_s)} runs/s${spread(r)} ${noteFor(rateNote)}`);
            }
            return cell(peer, scenario, show);
        });
        /* a row no peer ran (a --quick or --only run) is left out */
        if (!measured) continue;
        lines.push(`| ${label} | ${cells.join(' | ')} |`);
    }
    return { table: lines.join('\n'), notes: notes.map((n, i) => `[${i + 1}] ${n}`) };
}

/* busyLine: how much else the machine did while the scenarios ran (CPU of
 * processes other than the cluster and the driver, and hypervisor steal),
 * so a reader knows how quiet the numbers' machine was. */
function busyLine(results) {
    const loads = results.filter((r) => r.machine);
    if (!loads.length) return 'other load: not measured';
    const other = loads.map((r) => r.machine.other_cpu_percent).sort((a, b) => a - b);
    const steal = loads.map((r) => r.machine.steal_percent).sort((a, b) => a - b);
    const med = (xs) => xs[Math.floor((xs.length - 1) / 2)];
    return `other load during the scenarios: other processes ${fmt(med(other))}% of a core (median), ` +
        `${fmt(other[other.length - 1])}% (max); hypervisor steal ${fmt(med(steal))}% (median), ` +
        `${fmt(steal[steal.length - 1])}% (max)`;
}

function table(resultsFile, machineFile, settingsFile, outFile) {
    const results = readResults(resultsFile);
    const machine = fs.readFileSync(machineFile, 'utf8').trim();
    const { table: t, notes } = buildTable(results);
    const text = `${machine}\n${busyLine(results)}\n\n${t}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`;
    process.stdout.write(text);

    const raw = results.map((r) => {
        const name = `${r.peer} ${r.scenario}${r.variant ? ` (${r.variant})` : ''}${r.round ? `, round ${r.round}` : ''}`;
        return `- **${name}** (${r.seconds ?? '?'} s): \`${JSON.stringify({
            ...(r.error ? { error: r.error } : {}), ...(r.metrics || {}), ...(r.raw || {}),
            ...(r.machine ? { machine: r.machine } : {}),
        })}\``;
    });
    const md = [
        '# jobconfig benchmark: latest results',
        '',
        `Written by \`bash bench/run.sh${process.env.BENCH_ARGS ? ` ${process.env.BENCH_ARGS}` : ''}\`` +
            ` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.` +
            ' What each number means and how it is measured: `bench/README.md`.',
        '',
        '```',
        machine,
        busyLine(results),
        '```',
        '',
        t,
        '',
        ...notes.map((n) => `${n}  `),
        '',
        '## Settings',
        '',
        '```',
        fs.readFileSync(settingsFile, 'utf8').trim(),
        '```',
        '',
        '## Raw numbers',
        '',
        ...raw,
        '',
    ].join('\n');
    fs.mkdirSync(require('path').dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, md);
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'best') {
    /* best RESULTS PEER SCENARIO: the settings whose median was best */
    const [file, peer, scenario] = args;
    const r = summarize(readResults(file), peer, scenario);
    if (!r || r.error || !r.variant) process.exit(1);
    process.stdout.write(`${r.variant}\n`);
} else if (cmd === 'fail') {
    const [file, peer, scenario, variant, reason] = args;
    fs.appendFileSync(file, JSON.stringify({ peer, scenario, ...(variant ? { variant } : {}), error: reason }) + '\n');
} else if (cmd === 'table') {
    table(...args);
} else {
    process.stderr.write('usage: node report.js fail|table ...\n');
    process.exit(2);
}
