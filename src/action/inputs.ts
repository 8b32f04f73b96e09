// The Action's inputs (action.yml), read once and checked, so the rest of the step works with
// plain typed values. Shapes mirror docker/metadata-action and docker/build-push-action inputs.
import * as core from '@actions/core';
import { parse as parseYaml } from 'yaml';
import { readFileSync } from 'node:fs';
import { parseCacheSpec, parsePlatforms, type BuildSettings } from '../core/build-settings.js';
import { UserError } from '../core/errors.js';
import { keyPath, ruleProblems } from '../core/config-problems.js';
import { buildRuleSchema } from '../core/config-schema.js';
import { parseImagesInput } from '../core/metadata-images.js';
import { imageName } from '../core/plan-inputs.js';
import { Secret } from '../core/secret.js';
import type { BuildRule, Preset } from '../core/types.js';

export interface ActionInputs {
  images: string[];
  tags: string;
  flavor: string;
  preset: Preset;
  rules: BuildRule[];
  context: string;
  file: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  /** `undefined` when the input is empty: the event decides (no push on pull_request). */
  push?: boolean;
  registry?: string;
  username?: string;
  password?: Secret;
  builder: 'docker' | 'buildah';
  /** platforms, target, pull, no-cache, cache-from, cache-to (build-push-action's inputs). */
  settings: BuildSettings;
  /** From `secrets`, `secret-envs`, `secret-files`; every value masked in the runner's log. */
  secrets: Record<string, Secret>;
  /** build-push-action inputs accepted for pasted steps, with what autobuild does about them. */
  notices: string[];
  /** `test: auto` runs Autotest when *.test.yml files exist; `false` skips it. */
  test: boolean;
}

/** Reads every input. The password is masked in the runner's log before anything else runs. */
export function readInputs(): ActionInputs {
  const rawPassword = core.getInput('password');
  if (rawPassword !== '') core.setSecret(rawPassword);
  const password = rawPassword === '' ? undefined : new Secret(rawPassword);

  const imagesText = core.getInput('images');
  const images = parseImagesInput(imagesText).map(readImage);
  if (images.length === 0) {
    if (splitList(imagesText, true).length > 0) {
      throw new UserError('every line of input `images` has enable=false', 'enable at least one image, or skip the step with `if:`');
    }
    throw new UserError('input `images` is empty', 'set `images:` to at least one image name, e.g. ghcr.io/owner/app');
  }
  const username = core.getInput('username') || undefined;
  if (password && !username) {
    throw new UserError('input `password` is set but `username` is empty', 'set `username:` for the registry login too');
  }
  return {
    images,
    tags: core.getInput('tags', { trimWhitespace: false }).trim(),
    flavor: core.getInput('flavor', { trimWhitespace: false }).trim(),
    preset: readPreset(core.getInput('preset') || 'semver'),
    rules: parseRules(core.getInput('rules', { trimWhitespace: false })),
    context: core.getInput('context') || '.',
    file: core.getInput('file') || 'Dockerfile',
    buildArgs: parseKeyValues('build-args', core.getInput('build-args', { trimWhitespace: false })),
    labels: parseKeyValues('labels', core.getInput('labels', { trimWhitespace: false })),
    push: parseOptionalBoolean('push', core.getInput('push')),
    registry: core.getInput('registry') || undefined,
    username,
    password,
    builder: readBuilder(core.getInput('builder') || 'docker'),
    settings: readSettings(),
    secrets: readSecrets(),
    notices: attestationNotices(),
    test: readTest(core.getInput('test') || 'auto'),
  };
}

function readSettings(): BuildSettings {
  const out: BuildSettings = {};
  const platforms = core.getInput('platforms');
  if (platforms) out.platforms = parsePlatforms(splitList(platforms, true), 'input `platforms`');
  for (const [input, key] of [
    ['cache-from', 'cacheFrom'],
    ['cache-to', 'cacheTo'],
  ] as const) {
    const lines = splitList(core.getInput(input, { trimWhitespace: false }), false);
    for (const line of lines) parseCacheSpec(line, `input \`${input}\``);
    if (lines.length > 0) out[key] = lines;
  }
  const target = core.getInput('target');
  if (target) out.target = target;
  if (parseOptionalBoolean('pull', core.getInput('pull'))) out.pull = true;
  if (parseOptionalBoolean('no-cache', core.getInput('no-cache'))) out.noCache = true;
  return out;
}

/** build-push-action's three secret inputs; each value is masked before anything else runs. */
function readSecrets(): Record<string, Secret> {
  const out: Record<string, Secret> = {};
  const add = (id: string, value: string) => {
    if (value !== '') core.setSecret(value);
    out[id] = new Secret(value);
  };
  for (const line of splitList(core.getInput('secrets', { trimWhitespace: false }), false)) {
    const eq = line.indexOf('=');
    // Never echo the line: its value is the secret.
    if (eq <= 0) throw new UserError('input `secrets`: a line is not ID=value', 'write one ID=value per line under `secrets:`');
    add(line.slice(0, eq).trim(), line.slice(eq + 1));
  }
  for (const [id, name] of Object.entries(parseKeyValues('secret-envs', core.getInput('secret-envs', { trimWhitespace: false })))) {
    const value = process.env[name.trim()];
    if (value === undefined)
      throw new UserError(
        `input \`secret-envs\`: ${id} names environment variable ${name.trim()}, which is not set`,
        `set it in the step's env:, e.g. ${name.trim()}: \${{ secrets.${name.trim()} }}`,
      );
    add(id, value);
  }
  for (const [id, file] of Object.entries(parseKeyValues('secret-files', core.getInput('secret-files', { trimWhitespace: false })))) {
    let value: string;
    try {
      value = readFileSync(file.trim(), 'utf8');
    } catch {
      throw new UserError(
        `input \`secret-files\`: ${id} names ${file.trim()}, which cannot be read`,
        'give a path to a readable file, relative to the workspace or absolute',
      );
    }
    add(id, value);
  }
  return out;
}

/**
 * `provenance` and `sbom` are accepted so a pasted build-push-action step runs; neither builder
 * here writes attestations (that needs buildx's docker-container driver), so a set value gets a
 * one-line notice instead of an unknown-input failure.
 */
function attestationNotices(): string[] {
  const notices: string[] = [];
  for (const input of ['provenance', 'sbom']) {
    const value = core.getInput(input).trim();
    if (value === '' || value.toLowerCase() === 'false') continue;
    notices.push(
      `${input}: ${JSON.stringify(value)} is accepted but no ${input === 'sbom' ? 'SBOM' : 'provenance'} attestation is attached — the docker (BuildKit without buildx) and buildah builders here do not produce attestations`,
    );
  }
  return notices;
}

/** One image name, read as autobuild.yml and the CLI read it (plan-inputs.ts). */
function readImage(text: string): string {
  try {
    return imageName(text, '`tags`, `preset` or `rules`');
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`input \`images\`: ${err.problem}`, err.hint);
    throw err;
  }
}

/** Newline-separated, and comma-separated too when `commas` (as metadata-action's `images`). */
export function splitList(text: string, commas: boolean): string[] {
  const items = text.split(/\r?\n/).flatMap((line) => (commas ? line.split(',') : [line]));
  return items.map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('#'));
}

/** `KEY=VALUE` lines; the value keeps everything after the first `=` (it may contain `=`). */
export function parseKeyValues(input: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of splitList(text, false)) {
    const eq = line.indexOf('=');
    if (eq <= 0) {
      throw new UserError(`input \`${input}\`: line "${line}" is not KEY=VALUE`, `write one KEY=VALUE per line under \`${input}:\``);
    }
    out[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return out;
}

export function parseOptionalBoolean(input: string, text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (t === '') return undefined;
  if (t === 'true') return true;
  if (t === 'false') return false;
  throw new UserError(`input \`${input}\` is "${text}", not a boolean`, `set \`${input}:\` to true or false, or leave it empty`);
}

function readPreset(text: string): Preset {
  if (text === 'semver' || text === 'dockerhub' || text === 'none') return text;
  throw new UserError(`input \`preset\` is "${text}"`, 'use semver, dockerhub or none');
}

function readTest(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === 'auto' || t === 'true') return true;
  if (t === 'false') return false;
  throw new UserError(`input \`test\` is "${text}"`, 'use auto (run *.test.yml when present) or false');
}

function readBuilder(text: string): 'docker' | 'buildah' {
  if (text === 'docker' || text === 'buildah') return text;
  throw new UserError(`input \`builder\` is "${text}"`, 'use docker or buildah');
}

/** The `rules` input: a YAML list of Docker Hub build rules, checked by the same schema as autobuild.yml. */
export function parseRules(text: string): BuildRule[] {
  if (text.trim() === '') return [];
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new UserError(`input \`rules\` is not valid YAML: ${why}`, 'write a YAML list of {sourceType, source, tag}');
  }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) {
    throw new UserError('input `rules` is not a YAML list', 'start each rule with "- ", e.g. - {sourceType: tag, source: /^v(.*)$/, tag: "{\\1}"}');
  }
  return doc.map((item, i) => {
    const parsed = buildRuleSchema.safeParse(item);
    if (parsed.success) return parsed.data;
    const problem = ruleProblems(
      parsed.error.issues.map((issue) => ({ ...issue, path: [i, ...issue.path] })),
      doc,
    )[0]!;
    throw new UserError(
      `input \`rules${keyPath(problem.path)}\`: ${problem.problem}`,
      problem.hint ?? 'a rule has sourceType (branch|tag), source and tag, and optionally dockerfile, context, buildArgs, autobuild',
    );
  });
}
