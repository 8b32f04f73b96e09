// The Action's inputs (action.yml), read once and checked, so the rest of the step works with
// plain typed values. Shapes mirror docker/metadata-action and docker/build-push-action inputs.
import * as core from '@actions/core';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../core/errors.js';
import { normalizeImageInput } from '../core/references.js';
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
}

/** Reads every input. The password is masked in the runner's log before anything else runs. */
export function readInputs(): ActionInputs {
  const rawPassword = core.getInput('password');
  if (rawPassword !== '') core.setSecret(rawPassword);
  const password = rawPassword === '' ? undefined : new Secret(rawPassword);

  const images = splitList(core.getInput('images'), true).map(readImage);
  if (images.length === 0) {
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
  };
}

/** One image name, lowercased as docker/metadata-action does; tags come from the rules, not here. */
function readImage(text: string): string {
  const ref = normalizeImageInput(text);
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new UserError(`input \`images\`: "${text}" includes a tag or digest`, `write just "${ref.name}"; tags come from \`tags\`, \`preset\` or \`rules\``);
  }
  return text.toLowerCase();
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

function readBuilder(text: string): 'docker' | 'buildah' {
  if (text === 'docker' || text === 'buildah') return text;
  throw new UserError(`input \`builder\` is "${text}"`, 'use docker or buildah');
}

const ruleKeys = new Set(['sourceType', 'source', 'tag', 'dockerfile', 'context', 'buildArgs', 'autobuild']);

/** The `rules` input: a YAML list of Docker Hub build rules (CONTRACT.md section 2). */
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
  return doc.map((item, i) => parseRule(item, `rules[${i}]`));
}

function parseRule(item: unknown, where: string): BuildRule {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new UserError(`input \`${where}\` is not a mapping`, 'give sourceType, source and tag keys');
  }
  const r = item as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!ruleKeys.has(key)) {
      throw new UserError(`input \`${where}.${key}\` is not a build rule key`, `use ${[...ruleKeys].join(', ')}`);
    }
  }
  if (r.sourceType !== 'branch' && r.sourceType !== 'tag') {
    throw new UserError(`input \`${where}.sourceType\` is ${JSON.stringify(r.sourceType)}`, 'use branch or tag');
  }
  const text = (key: string, required: boolean): string | undefined => {
    const v = r[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v === '') {
      throw new UserError(`input \`${where}.${key}\` must be a non-empty string`, `quote it, e.g. ${key}: "..."`);
    }
    return v;
  };
  const rule: BuildRule = { sourceType: r.sourceType, source: text('source', true)!, tag: text('tag', true)! };
  const dockerfile = text('dockerfile', false);
  const context = text('context', false);
  if (dockerfile !== undefined) rule.dockerfile = dockerfile;
  if (context !== undefined) rule.context = context;
  if (r.buildArgs !== undefined) rule.buildArgs = ruleBuildArgs(r.buildArgs, `${where}.buildArgs`);
  if (r.autobuild !== undefined) {
    if (typeof r.autobuild !== 'boolean') {
      throw new UserError(`input \`${where}.autobuild\` must be true or false`, 'write autobuild: true or autobuild: false');
    }
    rule.autobuild = r.autobuild;
  }
  return rule;
}

function ruleBuildArgs(value: unknown, where: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserError(`input \`${where}\` is not a mapping`, 'write buildArgs: {KEY: value}');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'object' && v !== null) {
      throw new UserError(`input \`${where}.${k}\` is not a scalar`, 'give a string or number');
    }
    out[k] = String(v);
  }
  return out;
}
