// Preloaded (`node --require`) into a measured process: appends the CPU time it used (user +
// system, microseconds) to $BENCH_CPU_FILE when it exits. CPU time, unlike wall time, barely
// moves when other work shares the machine.
const { appendFileSync } = require('node:fs');

process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  if (process.env.BENCH_CPU_FILE) appendFileSync(process.env.BENCH_CPU_FILE, `${user + system}\n`);
});
