import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { UserError } from '../core/errors.js';
import { eventFromPayload, eventFromRef } from '../core/events.js';
import type { ForgeConfig } from '../core/forges.js';
import type { Plan, Skip, SourceEvent } from '../core/types.js';

// `autobuild plan`: which builds one GitHub event asks for, without building anything.
// Reads the payload (file or stdin), turns it into events through the same core readers and
// checks as the receivers (so it refuses what they refuse, in the same words), calls the same
// plan() the service and the Action call, and prints the plan as JSON (stdout) or as a summary (stderr).

interface PlanOptions {
  payload?: string;
  event: string;
  ref?: string;
  sha?: string;
  repository?: string;
  defaultBranch?: string;
  config?: string;
  existingTags?: string;
  json?: boolean;
  forge?: string;
}

async function readText(file: string, flag: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UserError(`${flag} ${file}: cannot read it: ${why}`, `give a readable file${flag === '--payload' ? ', or - for stdin' : ''}`);
  }
}

async function readPayload(file: string): Promise<unknown> {
  const text = await readText(file, '--payload');
  try {
    return JSON.parse(text);
  } catch (err) {
    const where = file === '-' ? 'stdin' : file;
    throw new UserError(`--payload ${where}: not valid JSON (${(err as Error).message.split('\n')[0]})`, 'give the webhook body exactly as GitHub sent it');
  }
}

/** One tag per line; blank lines ignored. */
async function readExistingTags(file: string): Promise<string[]> {
  const text = await readText(file, '--existing-tags');
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/**
 * A forge's delivery (`--forge HOST`): every event it carries (a Bitbucket push may carry
 * several), and a skip for each pull request named by an abbreviated commit, which only the
 * service (asking the forge's API) can build.
 */
async function forgeDeliveryEvents(opts: PlanOptions, forges: Record<string, ForgeConfig>): Promise<{ events: SourceEvent[]; skipped: Skip[] }> {
  const host = opts.forge!.toLowerCase();
  const entry = Object.entries(forges).find(([h]) => h.toLowerCase() === host);
  if (!entry) {
    const known = Object.keys(forges);
    throw new UserError(
      `--forge ${opts.forge}: no such host under forges: in autobuild.yml`,
      known.length > 0 ? `give one of ${known.join(', ')}` : 'add forges.<host> with its type to autobuild.yml',
    );
  }
  if (opts.payload === undefined) throw new UserError('--forge needs --payload', 'give the webhook body as the forge sent it: --payload FILE (or - for stdin)');
  if (opts.ref !== undefined || opts.sha !== undefined) throw new UserError('--forge takes a payload, not --ref/--sha', 'drop --ref and --sha');
  // Loaded here, not at the top: the three forges' readers would otherwise load with `--help`.
  const { forgeEvents, unresolvedHead, unresolvedHeadSkip } = await import('../core/forge-events.js');
  const events = forgeEvents(entry[1].type, opts.event, await readPayload(opts.payload), entry[0]);
  return {
    events: events.filter((event) => !unresolvedHead(event)),
    skipped: events.filter(unresolvedHead).map((event) => unresolvedHeadSkip(event, entry[0], false)),
  };
}

async function toEvent(opts: PlanOptions): Promise<SourceEvent> {
  if ((opts.ref === undefined) !== (opts.sha === undefined)) {
    throw new UserError(`${opts.ref === undefined ? '--sha' : '--ref'} was given alone`, 'give --ref and --sha together, as GITHUB_REF and GITHUB_SHA');
  }
  if (opts.payload === undefined && opts.ref === undefined) {
    throw new UserError('no event given', 'give --payload FILE (or - for stdin), or --ref REF --sha SHA');
  }
  const payload = opts.payload === undefined ? undefined : await readPayload(opts.payload);
  if (opts.ref !== undefined && opts.sha !== undefined) {
    return eventFromRef({
      name: opts.event,
      ref: opts.ref,
      sha: opts.sha,
      ...(opts.repository !== undefined ? { repository: opts.repository } : {}),
      ...(opts.defaultBranch !== undefined ? { defaultBranch: opts.defaultBranch } : {}),
      ...(payload !== undefined ? { payload } : {}),
    });
  }
  const event = eventFromPayload(opts.event, payload);
  if (opts.repository !== undefined) event.repository = opts.repository;
  if (opts.defaultBranch !== undefined) event.defaultBranch = opts.defaultBranch;
  return event;
}

function summary(result: Plan): string {
  const lines: string[] = [];
  for (const build of result.builds) {
    lines.push(
      `build ${build.repository} ${build.ref} at ${build.sha.slice(0, 12)} (context ${build.context}, ${build.dockerfile})${build.push ? '' : ', not pushed'}`,
    );
    for (const ref of build.refs) lines.push(`  ${ref}`);
  }
  for (const skip of result.skipped) lines.push(`skipped: ${skip.reason}`);
  if (result.builds.length === 0 && result.skipped.length === 0) lines.push('nothing to build');
  return `${lines.join('\n')}\n`;
}

export function planCommand(): Command {
  return new Command('plan')
    .description('show which builds one GitHub event asks for (builds nothing)')
    .option('--payload <file>', 'webhook payload JSON file, or - for stdin')
    .option('--event <name>', 'GitHub event name (X-GitHub-Event)', 'push')
    .option('--ref <ref>', 'full git ref, as GITHUB_REF: refs/heads/main, refs/tags/v1.2.3, refs/pull/7/merge')
    .option('--sha <sha>', 'commit to build, as GITHUB_SHA')
    .option('--repository <owner/name>', 'repository, when the payload has none or you want another')
    .option('--default-branch <name>', "the repository's default branch, when the payload has none")
    .option('--config <file>', 'autobuild.yml (default ./autobuild.yml if present, else $AUTOBUILD_CONFIG)')
    .option('--existing-tags <file>', 'tags already in the registry, one per line')
    .option('--json', 'print the plan as one JSON document on stdout')
    .option(
      '--forge <host>',
      'the payload came from the forge configured for HOST under forges: (--event is then its X-Gitlab-Event, X-Event-Key or X-Gitea-Event)',
    )
    .action(async (opts: PlanOptions) => {
      const [{ loadConfig }, { plan }] = await Promise.all([import('../adapters/config-file.js'), import('../core/plan.js')]);
      const config = await loadConfig(opts.config);
      const { events, skipped } = opts.forge !== undefined ? await forgeDeliveryEvents(opts, config.forges) : { events: [await toEvent(opts)], skipped: [] };
      const existingTags = opts.existingTags === undefined ? [] : await readExistingTags(opts.existingTags);
      const result: Plan = { builds: [], skipped };
      for (const event of events) {
        const one = plan({ event, repositories: config.repositories, existingTags });
        result.builds.push(...one.builds);
        result.skipped.push(...one.skipped);
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stderr.write(summary(result));
    });
}
