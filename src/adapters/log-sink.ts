import { maskSecrets, type Secret } from '../core/secret.js';

// Where a build's output goes: plain lines (what the tools printed) and structured events (what
// the pipeline did). The service writes both to the build log, the CLI shows progress on stderr,
// tests collect them to assert the push order.

export type StepName = 'checkout' | 'build' | 'test' | 'push' | 'verify' | `hook:${string}`;

export type PipelineEvent =
  | { type: 'step-started'; step: StepName }
  | { type: 'step-finished'; step: StepName; ms: number }
  | { type: 'pushed'; ref: string; digest: string }
  | { type: 'held'; ref: string; reason: string }
  | { type: 'retry'; ref: string; attempt: number; reason: string }
  | { type: 'bases'; refs: string[]; problems: string[] };

export interface LogSink {
  /** One output line, already masked by the caller. */
  line(text: string): void;
  event(e: PipelineEvent): void;
}

/** One line of text describing an event, for logs meant for people. */
export function describeEvent(e: PipelineEvent): string {
  switch (e.type) {
    case 'step-started':
      return `==> ${e.step}`;
    case 'step-finished':
      return `<== ${e.step} (${(e.ms / 1000).toFixed(1)}s)`;
    case 'pushed':
      return `pushed ${e.ref}@${e.digest}`;
    case 'held':
      return `not moving ${e.ref}: ${e.reason}`;
    case 'retry':
      return `retrying ${e.ref} (attempt ${e.attempt}): ${e.reason}`;
    case 'bases':
      return `base images: ${e.refs.length > 0 ? e.refs.join(', ') : 'none'}${e.problems.map((p) => `; not followed: ${p}`).join('')}`;
  }
}

/** Masks every line and every event's text once more, whatever the producer did. */
export function maskingSink(inner: LogSink, secrets: Iterable<Secret | string | undefined>): LogSink {
  const list = [...secrets];
  return {
    line: (text) => inner.line(maskSecrets(text, list)),
    event: (e) => inner.event(JSON.parse(maskSecrets(JSON.stringify(e), list)) as PipelineEvent),
  };
}

export interface CollectingSink extends LogSink {
  lines: string[];
  events: PipelineEvent[];
}

export function collectingSink(): CollectingSink {
  const lines: string[] = [];
  const events: PipelineEvent[] = [];
  return { lines, events, line: (t) => void lines.push(t), event: (e) => void events.push(e) };
}

/** CLI progress: steps and pushes always, tool output only when `verbose`. */
export function stderrSink(verbose = false, write: (s: string) => void = (s) => void process.stderr.write(s)): LogSink {
  return {
    line: (text) => {
      if (verbose) write(`  ${text}\n`);
    },
    event: (e) => write(`${describeEvent(e)}\n`),
  };
}
