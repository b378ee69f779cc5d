'use strict';
/*
 * bench/graphile_worker.js: a graphile-worker process of its own, for the
 * manual-run latency scenario, so that the task handler's start time is
 * taken in a worker process separate from the driver that adds the jobs
 * (as in a real deployment).
 *
 * Usage: BENCH_SOCKET=DIR node graphile_worker.js SETTINGS_NAME
 * Prints "ready" on stdout once the runner has started; stops cleanly on
 * SIGTERM.
 */

const { run } = require('graphile-worker');
const { runnerOptions } = require('./graphile_tasks');

async function start() {
    const options = runnerOptions(process.argv[2] || 'default');
    const runner = await run(options);
    const stop = async () => {
        await runner.stop();
        await options.pgPool.end();
        process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.stdout.write('ready\n');
    await runner.promise;
}

start().catch((e) => {
    process.stderr.write(`graphile worker process: ${e.message}\n`);
    process.exit(1);
});
