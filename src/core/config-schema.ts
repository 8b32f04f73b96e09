import { z } from 'zod';
import { REPOSITORY_DEFAULTS } from './plan-inputs.js';

// The one definition of autobuild.yml (README "Configuration"). config.ts validates with it and
// turns the result into a typed Config; the editor JSON Schema is generated from it, so the two
// cannot drift. Checks that need other core modules (image names, regexes, tags lines) live in
// config.ts; this file says only which keys exist, their types and their defaults.

/** Build args and labels: YAML writes `VERSION: 1` as a number, which users mean as text. */
const stringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).describe('KEY: value pairs');

/** metadata-action inputs are newline-separated text; a YAML list of lines is accepted too. */
const lines = z.union([z.string(), z.array(z.string()).transform((l) => l.join('\n'))]);

/** A list that may also be written as one string, split on `separator`. */
const listOf = (separator: RegExp) =>
  z.union([z.string(), z.array(z.string())]).transform((v) => (typeof v === 'string' ? v.split(separator) : v).map((s) => s.trim()).filter((s) => s !== ''));
/** Cache lines hold commas themselves (`type=registry,ref=...`), so only newlines split them. */
const list = listOf(/\n/);
const platforms = listOf(/[,\n]/).describe('os/arch[/variant] list, e.g. [linux/amd64, linux/arm64]: one image per platform in one image index');
const target = z.string().min(1).describe('the Dockerfile stage to build');

export const buildRuleSchema = z
  .strictObject({
    sourceType: z.enum(['branch', 'tag']).describe('whether the rule matches pushed branches or tags'),
    source: z.string().min(1).describe('a branch/tag name, or /REGEX/ matching the whole name'),
    tag: z.string().describe('tag template: {sourceref} and {\\1}.. regex groups; several separated by commas'),
    dockerfile: z.string().min(1).optional(),
    context: z.string().min(1).optional(),
    buildArgs: stringMap.optional(),
    autobuild: z.boolean().optional().describe('false: only built by a remote trigger'),
    platforms: platforms.optional(),
    target: target.optional(),
  })
  .describe('a Docker Hub build rule');

const NOTIFICATION_EVENTS = ['queued', 'started', 'succeeded', 'failed', 'canceled'] as const;

const notificationSchema = z
  .strictObject({
    url: z.url().describe('where to POST'),
    events: z
      .array(z.enum(NOTIFICATION_EVENTS))
      .min(1)
      .default([...NOTIFICATION_EVENTS])
      .describe('which build states to tell; default all'),
    format: z.enum(['json', 'slack']).default('json').describe('json: the build record; slack: {"text": ...} (Slack, Mattermost, Discord /slack)'),
    secret: z.string().optional().describe('signs the body: X-Autobuild-Signature-256: sha256=<HMAC>'),
  })
  .describe('a receiver told of build state changes');

const forgeSchema = z
  .strictObject({
    type: z.enum(['gitlab', 'bitbucket', 'gitea', 'forgejo']).describe('forgejo is read as gitea'),
    webhookSecret: z.string().optional().describe("the webhook's secret token (GitLab) or secret (Bitbucket, Gitea)"),
    token: z.string().optional().describe('API and clone token (Bitbucket: app password)'),
    username: z.string().min(1).optional().describe("Bitbucket: the app password's account"),
    apiUrl: z.url().optional().describe('REST API base; default https://HOST/api/v4 (GitLab), https://api.bitbucket.org/2.0, https://HOST/api/v1 (Gitea)'),
    statuses: z.boolean().default(true).describe('set build statuses on commits when a token is set'),
  })
  .describe('a forge besides GitHub, keyed by its host');

const repositorySchema = z
  .strictObject({
    image: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).describe('image name, or a list of them: every tag goes to each'),
    cloneUrl: z.string().min(1).optional().describe("default: the payload's clone_url"),
    preset: z.enum(['semver', 'dockerhub', 'none']).default(REPOSITORY_DEFAULTS.preset),
    rules: z.array(buildRuleSchema).default([]).describe("Docker Hub build rules, added to the preset's"),
    tags: lines.default('').describe('docker/metadata-action `tags` lines, used instead of preset and rules'),
    flavor: lines.default('').describe('docker/metadata-action `flavor` lines'),
    paths: z.array(z.string().min(1)).default([]).describe('globs; a push touching none of them is skipped'),
    dockerfile: z.string().min(1).default(REPOSITORY_DEFAULTS.dockerfile),
    context: z.string().min(1).default(REPOSITORY_DEFAULTS.context),
    buildArgs: stringMap.default({}),
    labels: stringMap.default({}).describe('image labels, as docker/build-push-action `labels`'),
    webhooks: z.array(z.url()).default([]).describe('URLs told of each push, Docker Hub payload format'),
    triggerToken: z.string().min(1).optional().describe('enables POST /api/trigger/<token>'),
    notifications: z.array(notificationSchema).default([]).describe("receivers of this repository's build states, besides the top-level ones"),
    platforms: platforms.optional(),
    target: target.optional(),
    pull: z.boolean().optional().describe('always fetch the newest base images'),
    rebuildOnBaseChange: z.boolean().optional().describe('rebuild the newest release and the default branch when a FROM image changes in its registry'),
    noCache: z.boolean().optional().describe('build without the layer cache'),
    cacheFrom: list
      .optional()
      .describe('build-push-action cache-from lines, e.g. type=registry,ref=IMAGE:buildcache; the service default is the repository <first image>-buildcache'),
    cacheTo: list.optional().describe('build-push-action cache-to lines; [] turns the service default off'),
    secrets: z.record(z.string(), z.string()).optional().describe('build secrets ID: ${VAR} for RUN --mount=type=secret,id=ID'),
    env: stringMap.default({}).describe("Docker Hub's build environment variables: seen by hooks and tests, masked in every log, never stored"),
    autotest: z
      .enum(['off', 'internal', 'external'])
      .default('internal')
      .describe(
        'Docker Hub Autotest: run *.test.yml (service sut) before pushing; pull requests tested from this repository (internal) or also forks (external)',
      ),
    submodules: z.boolean().default(true).describe('check out git submodules recursively'),
    sshKey: z.string().optional().describe("private key for ssh submodules (Docker Hub's SSH_PRIVATE)"),
    knownHosts: lines.default('').describe('known_hosts lines for ssh submodules, added to the built-in GitHub, GitLab and Bitbucket keys'),
    timeoutMinutes: z.number().positive().optional().describe("this repository's build timeout, over the global timeoutMinutes"),
  })
  .describe("one repository to build: 'owner/name' on GitHub, 'HOST/PATH' on a forge under forges:");

const registrySchema = z.strictObject({
  username: z.string().min(1).optional(),
  password: z.string().optional(),
  insecure: z.boolean().default(false).describe('plain HTTP; loopback hosts always are'),
});

export const configSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080).describe('env PORT overrides it'),
        publicUrl: z.url().optional().describe('where users reach the dashboard; default http://<host>:<port>'),
      })
      .default({ host: '127.0.0.1', port: 8080 }),
    redis: z.string().min(1).optional().describe('redis:// URL; env REDIS_URL; omitted: an embedded redis-server'),
    dataDir: z.string().min(1).default('./.autobuild').describe('build logs, embedded Redis data, generated api token'),
    webhookSecret: z.string().optional().describe('GitHub webhook secret'),
    apiToken: z.string().optional().describe('omitted: generated once, kept in dataDir'),
    builder: z.enum(['docker', 'buildah']).default('docker'),
    concurrency: z.number().int().min(1).default(1).describe('builds at once per worker'),
    timeoutMinutes: z.number().positive().default(60).describe('a build running longer is stopped (Docker Hub allowed 4 hours: 240)'),
    baseImagePollMinutes: z.number().positive().default(60).describe('how often base images of rebuildOnBaseChange repositories are checked'),
    github: z
      .strictObject({
        token: z.string().optional(),
        apiUrl: z.url().default('https://api.github.com'),
        statuses: z.boolean().default(true).describe('set commit statuses'),
      })
      .default({ apiUrl: 'https://api.github.com', statuses: true }),
    registries: z.record(z.string(), registrySchema).default({}).describe('credentials per registry host'),
    forges: z.record(z.string(), forgeSchema).default({}).describe('GitLab, Bitbucket, Gitea/Forgejo, keyed by host'),
    notifications: z.array(notificationSchema).default([]).describe('receivers of every build state change'),
    repositories: z.record(z.string(), repositorySchema).default({}).describe("keyed 'owner/name' (GitHub) or 'HOST/PATH' (forges); only these are built"),
    mirrors: z
      .record(z.string(), z.array(z.url()))
      .default({})
      .describe('pull-through mirrors for FROM pulls, per registry host: {docker.io: [https://mirror.example.com]}'),
  })
  .describe('autobuild.yml');

export type ConfigOutput = z.output<typeof configSchema>;

/** The secret-bearing keys: a whole-value `${VAR}` with VAR unset leaves them unset. */
export function isOptionalSecretKey(path: readonly (string | number)[]): boolean {
  const key = path.join('.');
  if (key === 'webhookSecret' || key === 'apiToken' || key === 'github.token') return true;
  if (path.length === 3 && path[0] === 'forges' && (path[2] === 'webhookSecret' || path[2] === 'token')) return true;
  if (path.length === 3 && path[0] === 'notifications' && path[2] === 'secret') return true;
  if (path.length === 5 && path[0] === 'repositories' && path[2] === 'notifications' && path[4] === 'secret') return true;
  if (path.length === 4 && path[0] === 'repositories' && path[2] === 'secrets') return true;
  if (path[0] === 'repositories' && path.length === 4 && path[2] === 'env') return true;
  return (
    path.length === 3 &&
    ((path[0] === 'registries' && path[2] === 'password') || (path[0] === 'repositories' && (path[2] === 'triggerToken' || path[2] === 'sshKey')))
  );
}

/** JSON Schema of autobuild.yml for editors (as written, so keys with defaults are optional). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'autobuild.yml',
  };
}
