// What every benchmark prints the same way: a figure as a ratio to its baseline measured in the
// same run, round by round (the two alternate which goes first), median of the rounds, the best
// round beside it, and the machine's load average, since other work on a shared machine moves
// every absolute number.
import { loadavg } from 'node:os';

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/**
 * Runs `rounds` rounds; each round measures the baseline and every subject once, the baseline
 * first in even rounds and last in odd ones. Measure functions return an object of figures
 * ({ wall, cpu } in ms, say). Returns, per subject and figure, the rounds: [{ base, value, ratio }].
 */
export async function alternate(rounds, baseline, subjects) {
  const out = Object.fromEntries(Object.keys(subjects).map((k) => [k, {}]));
  for (let r = 0; r < rounds; r++) {
    const results = {};
    if (r % 2 === 0) results.base = await baseline(r);
    for (const name of Object.keys(subjects)) results[name] = await subjects[name](r);
    if (r % 2 === 1) results.base = await baseline(r);
    for (const name of Object.keys(subjects)) {
      for (const [figure, value] of Object.entries(results[name])) {
        const base = results.base[figure];
        if (typeof value !== 'number' || typeof base !== 'number') continue;
        (out[name][figure] ??= []).push({ base, value, ratio: value / base });
      }
    }
  }
  return out;
}

/** `name  1.23x (best 1.10x, target <= 2x)  subject 123 ms / baseline 100 ms (medians)  load 1.2 0.9 0.7` */
export function report(name, rows, target, unit = 'ms') {
  const ratio = median(rows.map((r) => r.ratio));
  const best = Math.min(...rows.map((r) => r.ratio));
  const verdict = target === undefined ? '' : ratio <= target ? ' ok' : ' MISSED';
  const abs = `${median(rows.map((r) => r.value)).toFixed(1)} ${unit} vs ${median(rows.map((r) => r.base)).toFixed(1)} ${unit}`;
  console.log(
    `${name.padEnd(46)} ${ratio.toFixed(3)}x (best ${best.toFixed(3)}x${target === undefined ? '' : `, target <= ${target}x`})${verdict}  [${abs}, ${rows.length} rounds]  load ${load()}`,
  );
  return { name, ratio, best, target };
}
