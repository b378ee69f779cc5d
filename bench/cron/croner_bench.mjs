// croner_bench.mjs: the peer side of bench/cron/run.sh.
//
// For each "schedule|zone" line on stdin, chains croner's nextRun the way
// cron_bench.c chains CronNextAfter (from the previous fire time, starting
// at 2026-01-01 00:00 UTC, starting over past 2200) and prints
// "schedule|zone|median ns per call".  croner spells the last day of the
// month "L", so "$" is translated.  For UTC it gets utcOffset: 0, its
// fastest setting (its timezone option goes through Intl and is ~8x
// slower), so the peer is shown at its best.
import { Cron } from "croner";
import { readFileSync } from "node:fs";

const calls = Number(process.argv[2] ?? 100000);
const rounds = Number(process.argv[3] ?? 7);
const start = new Date("2026-01-01T00:00:00Z");
const wrap = new Date("2200-01-01T00:00:00Z");

for (const line of readFileSync(0, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const [schedule, zone] = line.split("|");
    const zoneOption = zone === "UTC" ? { utcOffset: 0 } : { timezone: zone };
    const job = new Cron(schedule.replace("$", "L"), { ...zoneOption, paused: true });
    const perCall = [];
    let sink = 0;
    for (let round = 0; round < rounds; round++) {
        let after = start;
        const begin = process.hrtime.bigint();
        for (let i = 0; i < calls; i++) {
            const next = job.nextRun(after);
            if (next === null) throw new Error(`no next run for ${schedule}`);
            after = next < wrap ? next : start;
            sink += next.getTime() & 1;
        }
        const end = process.hrtime.bigint();
        perCall.push(Number(end - begin) / calls);
    }
    perCall.sort((a, b) => a - b);
    console.log(`${schedule}|${zone}|${perCall[Math.floor(rounds / 2)].toFixed(1)}|${sink}`);
}
