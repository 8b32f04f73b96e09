import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/adapters/config-file.js';
import { configJsonSchema } from '../../src/core/config-schema.js';
import { defaultConfig, parseConfig, type Config } from '../../src/core/config.js';
import { UserError } from '../../src/core/errors.js';
import { Secret } from '../../src/core/secret.js';

// The core keys of the README's autobuild.yml reference, every one written out, as a user would copy them.
const contractExample = `
server: {host: 127.0.0.1, port: 8080}
redis: redis://127.0.0.1:6379
dataDir: ./.autobuild
webhookSecret: \${GITHUB_WEBHOOK_SECRET}
apiToken: \${AUTOBUILD_API_TOKEN}
builder: docker
concurrency: 1
timeoutMinutes: 60
github: {token: \${GITHUB_TOKEN}, apiUrl: https://api.github.com, statuses: true}
registries:
  registry.example.com: {username: bot, password: \${REGISTRY_PASSWORD}, insecure: false}
repositories:
  octo-org/app:
    image: registry.example.com/octo/app
    cloneUrl: https://github.com/octo-org/app.git
    preset: semver
    rules: []
    tags: ""
    flavor: ""
    paths: []
    dockerfile: Dockerfile
    context: .
    buildArgs: {}
    webhooks: []
    triggerToken: \${APP_TRIGGER_TOKEN}
`;

const secrets = {
  GITHUB_WEBHOOK_SECRET: 'hook-secret-value',
  AUTOBUILD_API_TOKEN: 'api-token-value-0123',
  GITHUB_TOKEN: 'ghp_token_value',
  REGISTRY_PASSWORD: 'registry-password',
  APP_TRIGGER_TOKEN: 'trigger-token-value',
};

const minimal = (extra = '') => `repositories:\n  octo-org/app:\n    image: registry.example.com/octo/app\n${extra}`;

const good: { name: string; text: string; env?: Record<string, string>; check: (c: Config) => void }[] = [
  {
    name: "the contract's example loads with every secret wrapped",
    text: contractExample,
    env: secrets,
    check: (c) => {
      expect(c.webhookSecret?.reveal()).toBe('hook-secret-value');
      expect(c.apiToken?.reveal()).toBe('api-token-value-0123');
      expect(c.github.token?.reveal()).toBe('ghp_token_value');
      expect(c.registries['registry.example.com']).toMatchObject({ username: 'bot', insecure: false });
      expect(c.registries['registry.example.com']?.password?.reveal()).toBe('registry-password');
      expect(c.triggerTokens['octo-org/app']?.reveal()).toBe('trigger-token-value');
      expect(c.repositories['octo-org/app']).toMatchObject({ images: ['registry.example.com/octo/app'], cloneUrl: 'https://github.com/octo-org/app.git' });
      expect(c.redis).toBe('redis://127.0.0.1:6379');
    },
  },
  {
    name: 'secrets never print: JSON and inspect show ***',
    text: contractExample,
    env: secrets,
    check: (c) => {
      const printed = JSON.stringify(c) + inspect(c, { depth: 10 });
      for (const value of Object.values(secrets)) expect(printed).not.toContain(value);
      expect(c.repositories['octo-org/app']).not.toHaveProperty('triggerToken');
    },
  },
  {
    name: 'unset optional secrets stay unset',
    text: contractExample,
    env: {},
    check: (c) => {
      expect(c.webhookSecret).toBeUndefined();
      expect(c.apiToken).toBeUndefined();
      expect(c.github.token).toBeUndefined();
      expect(c.registries['registry.example.com']?.password).toBeUndefined();
      expect(c.triggerTokens).toEqual({});
    },
  },
  {
    name: 'defaults fill every key left out',
    text: minimal(),
    check: (c) => {
      expect(c.server).toEqual({ host: '127.0.0.1', port: 8080 });
      expect(c.redis).toBeUndefined();
      expect(c).toMatchObject({ dataDir: './.autobuild', builder: 'docker', concurrency: 1, timeoutMinutes: 60 });
      expect(c.github).toEqual({ apiUrl: 'https://api.github.com', statuses: true });
      expect(c.repositories['octo-org/app']).toEqual({
        images: ['registry.example.com/octo/app'],
        preset: 'semver',
        rules: [],
        tags: '',
        flavor: '',
        paths: [],
        dockerfile: 'Dockerfile',
        context: '.',
        buildArgs: {},
        labels: {},
        webhooks: [],
        autotest: 'internal',
        submodules: true,
        knownHosts: '',
      });
      expect(c.buildEnv).toEqual({});
      expect(c.sshKeys).toEqual({});
    },
  },
  {
    name: "Docker Hub's settings: env values (${VAR} too) and sshKey become secrets kept out of the repository config",
    text: minimal(
      '    env: {API_URL: https://api.example.com, TOKEN: "${DEPLOY_TOKEN}", UNSET: "${NOT_SET}"}\n    sshKey: ${SSH_PRIVATE}\n    autotest: external\n    submodules: false\n    timeoutMinutes: 240\n    knownHosts: |\n      git.example.com ssh-ed25519 AAAA\n',
    ),
    env: { DEPLOY_TOKEN: 'deploy-token-value', SSH_PRIVATE: '-----BEGIN KEY-----\nabc\n-----END KEY-----' },
    check: (c) => {
      const env = c.buildEnv['octo-org/app']!;
      expect(Object.keys(env)).toEqual(['API_URL', 'TOKEN']);
      expect(env.TOKEN).toBeInstanceOf(Secret);
      expect(env.TOKEN!.reveal()).toBe('deploy-token-value');
      expect(env.API_URL!.reveal()).toBe('https://api.example.com');
      expect(c.sshKeys['octo-org/app']!.reveal()).toContain('abc');
      expect(c.repositories['octo-org/app']).toMatchObject({
        autotest: 'external',
        submodules: false,
        timeoutMinutes: 240,
        knownHosts: 'git.example.com ssh-ed25519 AAAA\n',
      });
      // Nothing secret travels with the repository's config (it goes into plans and jobs).
      expect(JSON.stringify(c.repositories)).not.toMatch(/deploy-token-value|BEGIN KEY|api\.example\.com/);
    },
  },
  {
    name: 'an empty file is all defaults',
    text: '',
    check: (c) => expect(c.repositories).toEqual({}),
  },
  {
    name: 'PORT overrides server.port',
    text: 'server: {port: 8080}',
    env: { PORT: '9123' },
    check: (c) => expect(c.server.port).toBe(9123),
  },
  {
    name: 'REDIS_URL overrides redis',
    text: 'redis: redis://a:6379',
    env: { REDIS_URL: 'redis://b:6380' },
    check: (c) => expect(c.redis).toBe('redis://b:6380'),
  },
  {
    name: '${VAR} inside a longer value and ${VAR:-default}',
    text: 'dataDir: ${HOME_DIR}/autobuild\nredis: ${R:-redis://127.0.0.1:6379}',
    env: { HOME_DIR: '/srv' },
    check: (c) => {
      expect(c.dataDir).toBe('/srv/autobuild');
      expect(c.redis).toBe('redis://127.0.0.1:6379');
    },
  },
  {
    name: 'a whole ${VAR} becomes a number or boolean where one is expected, text elsewhere',
    text: 'server: {port: ${APP_PORT}}\ngithub: {statuses: ${STATUSES}}\n' + minimal('    buildArgs: {VERSION: ${V}}\n'),
    env: { APP_PORT: '9000', STATUSES: 'false', V: '1.0' },
    check: (c) => {
      expect(c.server.port).toBe(9000);
      expect(c.github.statuses).toBe(false);
      expect(c.repositories['octo-org/app']?.buildArgs).toEqual({ VERSION: '1.0' });
    },
  },
  {
    name: 'a default applies to an unset secret',
    text: 'apiToken: ${TOKEN:-fallback-token-0123}',
    check: (c) => expect(c.apiToken?.reveal()).toBe('fallback-token-0123'),
  },
  {
    name: '$$ writes a literal dollar',
    text: 'dataDir: ./$${NOT_A_VAR}',
    check: (c) => expect(c.dataDir).toBe('./${NOT_A_VAR}'),
  },
  {
    name: 'image names are lowercased and normalised to the short form',
    text: 'repositories:\n  Octo-Org/App:\n    image: [Registry.Example.com/Octo/App, index.docker.io/Alice/App, docker.io/library/ubuntu]',
    check: (c) => expect(c.repositories['Octo-Org/App']?.images).toEqual(['registry.example.com/octo/app', 'alice/app', 'ubuntu']),
  },
  {
    name: 'numbers in buildArgs and labels become text',
    text: minimal('    buildArgs: {VERSION: 1.5, DEBUG: true}\n    labels: {org.opencontainers.image.version: 2}'),
    check: (c) => {
      expect(c.repositories['octo-org/app']?.buildArgs).toEqual({ VERSION: '1.5', DEBUG: 'true' });
      expect(c.repositories['octo-org/app']?.labels).toEqual({ 'org.opencontainers.image.version': '2' });
    },
  },
  {
    name: 'rules with a regex source and metadata-action lines are kept',
    text: minimal(
      [
        '    rules:',
        '      - {sourceType: tag, source: "/^v([0-9.]+)$/", tag: "{\\\\1}"}',
        '      - {sourceType: branch, source: main, tag: latest, autobuild: false, buildArgs: {A: b}}',
        '    tags: |',
        '      type=semver,pattern={{version}}',
        '      type=ref,event=branch',
        '    flavor: [latest=auto, "prefix=app-,onlatest=true"]',
      ].join('\n') + '\n',
    ),
    check: (c) => {
      const repo = c.repositories['octo-org/app']!;
      expect(repo.rules).toEqual([
        { sourceType: 'tag', source: '/^v([0-9.]+)$/', tag: '{\\1}' },
        { sourceType: 'branch', source: 'main', tag: 'latest', autobuild: false, buildArgs: { A: 'b' } },
      ]);
      expect(repo.tags).toBe('type=semver,pattern={{version}}\ntype=ref,event=branch\n');
      expect(repo.flavor).toBe('latest=auto\nprefix=app-,onlatest=true');
    },
  },
  {
    name: 'registries keyed by host with a port or docker.io',
    text: 'registries:\n  127.0.0.1:5000: {insecure: true}\n  docker.io: {username: bot}\n  "[::1]:5000": {}',
    check: (c) => expect(Object.keys(c.registries)).toEqual(['127.0.0.1:5000', 'docker.io', '[::1]:5000']),
  },
];

const credentialRows: { name: string; text: string; env?: Record<string, string>; check: (c: Config) => void }[] = [
  {
    name: 'credentials in a cloneUrl are cut out of the URL into a secret',
    text: minimal('    cloneUrl: "https://bot:${CLONE_PASS}@git.example.com/octo/app.git"\n'),
    env: { CLONE_PASS: 'p@ss-word-1234' },
    check: (c) => {
      expect(c.repositories['octo-org/app']?.cloneUrl).toBe('https://git.example.com/octo/app.git');
      expect(c.cloneCredentials['octo-org/app']?.userinfo.reveal()).toBe('bot:p@ss-word-1234');
      expect(JSON.stringify(c)).not.toContain('word-1234');
      expect(inspect(c, { depth: 10 })).not.toContain('word-1234');
    },
  },
  {
    name: 'a token written as the user of a cloneUrl is a secret too',
    text: minimal('    cloneUrl: "https://ghp_tokenvalue123@github.com/octo-org/app.git"\n'),
    check: (c) => {
      expect(c.repositories['octo-org/app']?.cloneUrl).toBe('https://github.com/octo-org/app.git');
      expect(c.cloneCredentials['octo-org/app']?.forms.map((f) => f.reveal())).toContain('ghp_tokenvalue123');
    },
  },
  {
    name: 'build-arg values from ${VAR} are listed as secrets; plain values are not',
    text: minimal(
      '    buildArgs: {NPM_TOKEN: "${NPM_TOKEN}", MODE: production}\n    rules: [{sourceType: tag, source: x, tag: y, buildArgs: {KEY: "k-${SUFFIX}"}}]\n',
    ),
    env: { NPM_TOKEN: 'npm-secret-value', SUFFIX: 'suffix-secret' },
    check: (c) => {
      expect(c.buildArgSecrets.map((s) => s.reveal()).sort()).toEqual(['k-suffix-secret', 'npm-secret-value']);
      expect(c.repositories['octo-org/app']?.buildArgs).toEqual({ NPM_TOKEN: 'npm-secret-value', MODE: 'production' });
    },
  },
  {
    name: 'a Dockerfile read from the context may climb back to the root',
    text: minimal('    context: app\n    dockerfile: ../Dockerfile\n'),
    check: (c) => expect(c.repositories['octo-org/app']).toMatchObject({ context: 'app', dockerfile: '../Dockerfile' }),
  },
];
good.push(...credentialRows);

const bad: { name: string; text: string; env?: Record<string, string>; message: RegExp }[] = [
  {
    name: 'a context that leaves the checkout',
    text: minimal('    context: ../..\n'),
    message: /repositories\.octo-org\/app\.context: "..\/.." leaves the repository's checkout — give a path inside the repository/,
  },
  {
    name: 'an absolute context',
    text: minimal('    context: /etc\n'),
    message: /repositories\.octo-org\/app\.context: "\/etc" leaves the repository's checkout/,
  },
  {
    name: 'a Dockerfile that leaves the checkout',
    text: minimal('    dockerfile: ../../etc/passwd\n'),
    message: /repositories\.octo-org\/app\.dockerfile: "..\/..\/etc\/passwd" leaves the repository's checkout/,
  },
  {
    name: "a rule's Dockerfile that leaves the checkout",
    text: minimal('    rules: [{sourceType: tag, source: x, tag: y, dockerfile: /etc/shadow}]\n'),
    message: /repositories\.octo-org\/app\.rules\[0\]\.dockerfile: "\/etc\/shadow" leaves the repository's checkout/,
  },
  { name: 'an unknown top-level key', text: 'servr: {}', message: /^autobuild\.yml: servr: unknown key — did you mean "server"\?/ },
  {
    name: 'a typo in a repository key',
    text: minimal('    dockerfle: x\n'),
    message: /^autobuild\.yml: repositories\.octo-org\/app\.dockerfle: unknown key — did you mean "dockerfile"/,
  },
  {
    name: 'an unknown key in a rule',
    text: minimal('    rules: [{sourceType: tag, source: x, tag: y, branch: z}]\n'),
    message: /repositories\.octo-org\/app\.rules\[0\]\.branch: unknown key/,
  },
  {
    name: 'an unknown key under a registry',
    text: 'registries:\n  ghcr.io: {user: x}',
    message: /registries\.ghcr\.io\.user: unknown key — did you mean "username"/,
  },
  { name: 'a missing image', text: 'repositories:\n  octo-org/app: {}', message: /repositories\.octo-org\/app\.image: is required/ },
  {
    name: 'an uppercase-free bad image',
    text: minimal().replace('registry.example.com/octo/app', 'octo//app'),
    message: /repositories\.octo-org\/app\.image: invalid image reference "octo\/\/app"/,
  },
  {
    name: 'a bad image in a list names its index',
    text: 'repositories:\n  o/a:\n    image: [good/one, "bad image"]',
    message: /repositories\.o\/a\.image\[1\]: invalid image reference "bad image"/,
  },
  {
    name: 'an image with a tag',
    text: 'repositories:\n  o/a: {image: "o/a:1.0"}',
    message: /repositories\.o\/a\.image: image "o\/a:1.0" must not include a tag/,
  },
  { name: 'an empty image list', text: 'repositories:\n  o/a: {image: []}', message: /repositories\.o\/a\.image: must list at least 1 item/ },
  {
    name: 'a repository key that is not owner/name',
    text: 'repositories:\n  app: {image: a/b}',
    message: /repositories\.app: is not a GitHub repository — write the key as owner\/name/,
  },
  {
    name: 'the same repository twice in different case',
    text: 'repositories:\n  o/a: {image: a/b}\n  O/A: {image: a/b}',
    message: /repositories\.O\/A: names the same repository as o\/a/,
  },
  {
    name: 'a rule regex that does not compile',
    text: minimal('    rules: [{sourceType: tag, source: "/v(\\\\d+/", tag: x}]\n'),
    message: /repositories\.octo-org\/app\.rules\[0\]\.source: invalid regular expression \/v\(\\d\+\/: Unterminated group/,
  },
  {
    name: 'a rule with an unknown sourceType',
    text: minimal('    rules: [{sourceType: pr, source: x, tag: y}]\n'),
    message: /rules\[0\]\.sourceType: must be one of branch, tag/,
  },
  {
    name: 'an unknown tags type',
    text: minimal('    tags: "type=nightly"\n'),
    message: /repositories\.octo-org\/app\.tags: tags line "type=nightly": unknown type/,
  },
  {
    name: 'a bad flavor entry',
    text: minimal('    flavor: "latest=maybe"\n'),
    message: /repositories\.octo-org\/app\.flavor: flavor line "latest=maybe": latest=maybe is not auto, true or false/,
  },
  {
    name: 'an unknown preset',
    text: minimal('    preset: gitflow\n'),
    message: /repositories\.octo-org\/app\.preset: must be one of semver, dockerhub, none \(got text "gitflow"\)/,
  },
  { name: 'an unknown builder', text: 'builder: podman', message: /^autobuild\.yml: builder: must be one of docker, buildah/ },
  { name: 'concurrency zero', text: 'concurrency: 0', message: /concurrency: must be at least 1/ },
  { name: 'a port as text', text: 'server: {port: http}', message: /server\.port: must be a whole number|server\.port: must be a number/ },
  {
    name: 'a webhook that is not a URL',
    text: minimal('    webhooks: [not a url]\n'),
    message: /repositories\.octo-org\/app\.webhooks\[0\]: must be a valid URL/,
  },
  {
    name: 'a registry given as a URL',
    text: 'registries:\n  https://ghcr.io: {}',
    message: /registries\.https:\/\/ghcr\.io: must be a registry host, not a URL — write "ghcr\.io"/,
  },
  { name: 'a registry host that is not a host', text: 'registries:\n  myregistry: {}', message: /registries\.myregistry: is not a registry host/ },
  { name: 'an unset variable in a non-secret key', text: 'dataDir: ${DATA}/x', message: /^autobuild\.yml: dataDir: environment variable DATA is not set/ },
  { name: 'an unset variable inside a secret value', text: 'apiToken: tok-${SUFFIX}', message: /apiToken: environment variable SUFFIX is not set/ },
  { name: 'a YAML syntax error gives file:line', text: 'server:\n  host: [127.0.0.1\nport: 1', message: /^autobuild\.yml:\d+:\d+: YAML syntax error/ },
  { name: 'a duplicate key', text: 'builder: docker\nbuilder: buildah', message: /^autobuild\.yml:2:\d+: YAML syntax error: Map keys must be unique/ },
  { name: 'a list at the top level', text: '- a\n- b', message: /autobuild\.yml: the top level must be a mapping/ },
  { name: 'a bad PORT', text: '', env: { PORT: 'eighty' }, message: /^PORT: "eighty" is not a port number/ },
  { name: 'redis that is not a URL', text: 'redis: not a url', message: /^autobuild\.yml: redis: is not a Redis URL — write redis:\/\// },
  { name: 'a bad REDIS_URL', text: '', env: { REDIS_URL: 'localhost 6379' }, message: /^REDIS_URL is not a Redis URL — / },
  {
    name: 'a ${VAR} of the wrong type names the variable, not its value',
    text: 'concurrency: ${N}',
    env: { N: 'many-s3cr3t' },
    message: /^autobuild\.yml: concurrency: must be a number \(got the value of \$\{N\}\) — (?!.*s3cr3t)/,
  },
  {
    name: 'YAML aliases expanding exponentially',
    text: 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
    message: /^autobuild\.yml: YAML aliases \(\*name\) expand more than 100 times — /,
  },
  {
    name: 'an API token shorter than 16 characters',
    text: 'apiToken: ${TOKEN}',
    env: { TOKEN: 'hunter2-secret' },
    message: /^autobuild\.yml: apiToken: is 14 characters long; a token needs at least 16 — generate one with `openssl rand -hex 32`/,
  },
  {
    name: 'a trigger token shorter than 16 characters',
    text: minimal('    triggerToken: abc\n'),
    message: /repositories\.octo-org\/app\.triggerToken: is 3 characters long; a token needs at least 16/,
  },
  {
    name: 'an env name no shell accepts',
    text: minimal('    env: {"MY-VAR": x}\n'),
    message: /repositories\.octo-org\/app\.env\.MY-VAR: is not a variable name/,
  },
  {
    name: 'an unknown autotest mode',
    text: minimal('    autotest: forks\n'),
    message: /repositories\.octo-org\/app\.autotest: must be one of off, internal, external/,
  },
  { name: 'a repository timeout of zero', text: minimal('    timeoutMinutes: 0\n'), message: /repositories\.octo-org\/app\.timeoutMinutes: must be/ },
  {
    name: 'an env value of the wrong type never echoes the value',
    text: minimal('    env: {TOKEN: [s3cr3t-list]}\n'),
    message: /repositories\.octo-org\/app\.env\.TOKEN: must be (?!.*s3cr3t)/,
  },
];

describe('parseConfig accepts', () => {
  it.each(good)('$name', ({ text, env, check }) => {
    check(parseConfig(text, env ?? {}, 'autobuild.yml'));
  });
});

describe('parseConfig rejects with the key path', () => {
  it.each(bad)('$name', ({ text, env, message }) => {
    let caught: unknown;
    try {
      parseConfig(text, env ?? {}, 'autobuild.yml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UserError);
    const text1 = (caught as Error).message;
    expect(text1).toMatch(message);
    expect(text1).not.toContain('\n');
    expect(text1).toContain(' — ');
  });

  it('never echoes a secret value in an error', () => {
    expect(() => parseConfig('apiToken: 12345678', {}, 'a.yml')).toThrow(/apiToken: must be text — /);
    expect(() => parseConfig('apiToken: 12345678', {}, 'a.yml')).not.toThrow(/12345678/);
  });

  it('never echoes a short token in its error', () => {
    expect(() => parseConfig('apiToken: ${TOKEN}', { TOKEN: 'hunter2-secret' }, 'a.yml')).not.toThrow(/hunter2/);
  });

  it('counts the further problems', () => {
    expect(() => parseConfig('builder: x\nconcurrency: 0\ntimeoutMinutes: -1', {}, 'a.yml')).toThrow(/\(and 2 more problems\)$/);
  });
});

describe('defaultConfig', () => {
  it('takes the secrets from the environment the example file names', () => {
    const c = defaultConfig({ GITHUB_WEBHOOK_SECRET: 'whsec', GITHUB_TOKEN: 'ght', PORT: '9999' });
    expect(c.webhookSecret).toBeInstanceOf(Secret);
    expect(c.webhookSecret?.reveal()).toBe('whsec');
    expect(c.github.token?.reveal()).toBe('ght');
    expect(c.apiToken).toBeUndefined();
    expect(c.server.port).toBe(9999);
    expect(c.repositories).toEqual({});
    expect(c.file).toBeUndefined();
  });
});

describe('configJsonSchema', () => {
  it('describes every top-level key and forbids unknown ones', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown>; additionalProperties: unknown };
    expect(Object.keys(schema.properties).sort()).toEqual([
      'apiToken',
      'baseImagePollMinutes',
      'builder',
      'concurrency',
      'dataDir',
      'forges',
      'github',
      'mirrors',
      'notifications',
      'redis',
      'registries',
      'repositories',
      'server',
      'timeoutMinutes',
      'webhookSecret',
    ]);
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('loadConfig picks the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autobuild-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  write('explicit.yml', 'concurrency: 3');
  write('env.yml', 'concurrency: 4');

  it('--config FILE wins', async () => {
    expect((await loadConfig(join(dir, 'explicit.yml'), { AUTOBUILD_CONFIG: join(dir, 'env.yml') }, dir)).concurrency).toBe(3);
  });
  it('./autobuild.yml is used when present', async () => {
    write('autobuild.yml', 'concurrency: 5');
    const c = await loadConfig(undefined, { AUTOBUILD_CONFIG: join(dir, 'env.yml') }, dir);
    expect(c.concurrency).toBe(5);
    expect(c.file).toBe('autobuild.yml');
    rmSync(join(dir, 'autobuild.yml'));
  });
  it('$AUTOBUILD_CONFIG is used next', async () => {
    expect((await loadConfig(undefined, { AUTOBUILD_CONFIG: join(dir, 'env.yml') }, dir)).concurrency).toBe(4);
  });
  it('no file at all gives the defaults', async () => {
    const c = await loadConfig(undefined, {}, dir);
    expect(c.concurrency).toBe(1);
    expect(c.file).toBeUndefined();
  });
  it('a missing --config file is a UserError naming it', async () => {
    await expect(loadConfig('nope.yml', {}, dir)).rejects.toThrow(/cannot read config file nope\.yml: no such file/);
  });
  it('a missing $AUTOBUILD_CONFIG file is a UserError naming the variable', async () => {
    await expect(loadConfig(undefined, { AUTOBUILD_CONFIG: 'gone.yml' }, dir)).rejects.toThrow(/AUTOBUILD_CONFIG names gone\.yml/);
  });
  it('errors name the file', async () => {
    write('broken.yml', 'builder: podman');
    await expect(loadConfig('broken.yml', {}, dir)).rejects.toThrow(/^broken\.yml: builder: must be one of/);
  });
});
