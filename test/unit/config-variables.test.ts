import { describe, expect, it } from 'vitest';
import type { VariableUse } from '../../src/core/config-problems.js';
import { readYaml, substitute } from '../../src/core/config-variables.js';
import { UserError } from '../../src/core/errors.js';

// autobuild.yml's text before the schema sees it: the YAML read (with `${VAR}` allowed anywhere),
// then `${VAR}` replaced from the environment with a record of where each value went. Rows say
// what a user gets: the data, or the one line that tells them what to fix.

const FILE = 'autobuild.yml';

function errorOf(run: () => unknown): UserError {
  let err: unknown;
  try {
    run();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UserError);
  expect((err as Error).message).not.toContain('\n');
  return err as UserError;
}

describe('readYaml: the data of the file', () => {
  it.each([
    { name: 'an empty file is an empty configuration', text: '', data: {} },
    { name: 'a file of comments only', text: '# nothing yet\n', data: {} },
    { name: 'a document of null (~)', text: '~\n', data: {} },
    {
      name: '${VAR} inside a flow mapping, as the README writes it, is kept for substitution',
      text: 'github: {token: ${GITHUB_TOKEN}, statuses: true}\n',
      data: { github: { token: '${GITHUB_TOKEN}', statuses: true } },
    },
    {
      name: '${VAR} and ${VAR:-default} in a flow list',
      text: 'webhooks: [${HOOK}, "${OTHER:-https://x}"]\n',
      data: { webhooks: ['${HOOK}', '${OTHER:-https://x}'] },
    },
    { name: '$${VAR} (an escaped reference) is kept as written', text: 'a: "$${X}"\n', data: { a: '$${X}' } },
    { name: 'a few anchors and aliases, as a real file uses them', text: 'x: &d {a: 1}\ny: *d\nz: *d\n', data: { x: { a: 1 }, y: { a: 1 }, z: { a: 1 } } },
    // The schema judges the shape: a list at the top is its error ("must be a mapping"), not this one's.
    { name: 'a list at the top level is returned as a list', text: '- a\n- b\n', data: ['a', 'b'] },
    { name: 'a scalar at the top level is returned as itself', text: 'hello\n', data: 'hello' },
  ])('$name', ({ text, data }) => {
    expect(readYaml(text, FILE)).toEqual(data);
  });

  it.each([
    {
      name: 'a duplicate key names its line',
      text: 'builder: docker\nconcurrency: 2\nbuilder: buildah\n',
      message: 'autobuild.yml:3:1: YAML syntax error: Map keys must be unique — fix the YAML at that line (indentation, quotes, a missing ":")',
    },
    {
      name: 'a duplicate key inside a repository',
      text: 'repositories:\n  o/app:\n    image: a\n    image: b\n',
      message: /^autobuild\.yml:4:5: YAML syntax error: Map keys must be unique — /,
    },
    {
      name: 'items at different indentation',
      text: 'a:\n  b: 1\n c: 2\n',
      message: /^autobuild\.yml:3:1: YAML syntax error: All mapping items must start at the same column — /,
    },
    { name: 'an unclosed quote', text: 'builder: "docker', message: /^autobuild\.yml:1:17: YAML syntax error: Missing closing "quote — / },
    {
      name: 'an alias bomb (billion laughs) is refused before it expands',
      text: 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
      message: 'autobuild.yml: YAML aliases (*name) expand more than 100 times — write the values out, or use fewer aliases',
    },
    // Before the fix both said "YAML aliases (*name) expand more than 100 times".
    {
      name: 'an alias to an anchor that does not exist',
      text: 'a: *nope\n',
      message: 'autobuild.yml: YAML alias *nope has no anchor &nope before it — set &nope on the value before the first *nope, or write the value out',
    },
    { name: 'an alias used before its anchor', text: 'y: *d\nx: &d 1\n', message: /^autobuild\.yml: YAML alias \*d has no anchor &d before it — / },
    // Before the fix: "Source contains multiple documents; please use YAML.parseAllDocuments()".
    {
      name: 'a second document',
      text: 'builder: docker\n---\nbuilder: buildah\n',
      message:
        'autobuild.yml:2:1: a second YAML document starts here ("---"); autobuild reads one — remove the "---" line, or merge the documents into one mapping',
    },
  ])('$name: one line', ({ text, message }) => {
    const err = errorOf(() => readYaml(text, FILE));
    if (typeof message === 'string') expect(err.message).toBe(message);
    else expect(err.message).toMatch(message);
  });
});

type Env = Record<string, string | undefined>;

function run(value: unknown, env: Env, path: (string | number)[]) {
  const used: VariableUse = { paths: new Map(), values: new Set() };
  const result = substitute(value, env, path, FILE, used);
  return { result, paths: Object.fromEntries(used.paths), values: [...used.values], buildArgs: used.buildArgs };
}

describe('substitute: ${VAR} replaced from the environment, and where each value went', () => {
  it.each([
    { name: 'a whole value', value: '${DATA}', env: { DATA: '/srv/ab' }, path: ['dataDir'], result: '/srv/ab', paths: { dataDir: ['DATA'] } },
    {
      name: 'two variables inside a longer string',
      value: 'https://${HOST}:${PORT}/hook',
      env: { HOST: 'ci.example.com', PORT: '8443' },
      path: ['server', 'host'],
      result: 'https://ci.example.com:8443/hook',
      paths: { 'server.host': ['HOST', 'PORT'] },
    },
    { name: '$${VAR} is the literal text ${VAR}', value: 'echo $${HOME}', env: { HOME: '/root' }, path: ['dataDir'], result: 'echo ${HOME}', paths: {} },
    { name: '$$ is one literal $', value: 'pa$$word', env: {}, path: ['dataDir'], result: 'pa$word', paths: {} },
    { name: '$VAR without braces is not a reference', value: '$HOME/data', env: { HOME: '/root' }, path: ['dataDir'], result: '$HOME/data', paths: {} },
    { name: '${VAR:-default} when unset', value: '${DATA:-./.autobuild}', env: {}, path: ['dataDir'], result: './.autobuild', paths: {} },
    {
      name: '${VAR:-default} when set',
      value: '${DATA:-./.autobuild}',
      env: { DATA: '/srv' },
      path: ['dataDir'],
      result: '/srv',
      paths: { dataDir: ['DATA'] },
    },
    { name: '${VAR:-} when unset is empty', value: 'x${SUFFIX:-}', env: {}, path: ['dataDir'], result: 'x', paths: {} },
    {
      name: 'a port from the environment is a number',
      value: '${APP_PORT}',
      env: { APP_PORT: '8081' },
      path: ['server', 'port'],
      result: 8081,
      paths: { 'server.port': ['APP_PORT'] },
    },
    {
      name: 'a port that is not a number stays text for the schema to refuse',
      value: '${APP_PORT}',
      env: { APP_PORT: '80x' },
      path: ['server', 'port'],
      result: '80x',
      paths: { 'server.port': ['APP_PORT'] },
    },
    {
      name: 'a switch from the environment is a boolean',
      value: '${STATUSES}',
      env: { STATUSES: 'false' },
      path: ['github', 'statuses'],
      result: false,
      paths: { 'github.statuses': ['STATUSES'] },
    },
    {
      name: 'an unset optional secret drops the key (as if not written)',
      value: '${AUTOBUILD_API_TOKEN}',
      env: {},
      path: ['apiToken'],
      result: undefined,
      paths: {},
    },
    {
      name: 'an unset registry password drops the key',
      value: '${REGISTRY_PASSWORD}',
      env: {},
      path: ['registries', 'ghcr.io', 'password'],
      result: undefined,
      paths: {},
    },
    {
      name: 'an optional secret with a default takes the default',
      value: '${TOKEN:-dev-token-0123456789}',
      env: {},
      path: ['apiToken'],
      result: 'dev-token-0123456789',
      paths: {},
    },
    {
      name: 'numbers, booleans and null pass through a mapping untouched',
      value: { u: '${USER_NAME}', n: 5, b: true, z: null },
      env: { USER_NAME: 'bot' },
      path: ['registries', 'ghcr.io'],
      result: { u: 'bot', n: 5, b: true, z: null },
      paths: { 'registries.ghcr.io.u': ['USER_NAME'] },
    },
  ])('$name', ({ value, env, path, result, paths }) => {
    const out = run(value, env as Env, path);
    expect(out.result).toEqual(result);
    expect(out.paths).toEqual(paths);
  });

  it('remembers every value it put in, so that no error can echo it', () => {
    const out = run({ password: '${REGISTRY_PASSWORD}', username: '${REGISTRY_USER}' }, { REGISTRY_PASSWORD: 'hunter2-secret', REGISTRY_USER: 'bot' }, [
      'registries',
      'ghcr.io',
    ]);
    expect(out.values.sort()).toEqual(['bot', 'hunter2-secret']);
  });

  it.each([
    { name: 'a build arg', value: { buildArgs: { TOKEN: '${NPM_TOKEN}', PLAIN: 'v1' } }, path: ['repositories', 'o/app'], buildArgs: ['npm-0123'] },
    {
      name: "a rule's build arg",
      value: { rules: [{ buildArgs: { TOKEN: 'Bearer ${NPM_TOKEN}' } }] },
      path: ['repositories', 'o/app'],
      buildArgs: ['Bearer npm-0123'],
    },
    { name: 'not a build arg (a label)', value: { labels: { token: '${NPM_TOKEN}' } }, path: ['repositories', 'o/app'], buildArgs: undefined },
  ])('a value from ${VAR} in $name is kept as a secret of the build', ({ value, path, buildArgs }) => {
    expect(run(value, { NPM_TOKEN: 'npm-0123' }, path).buildArgs).toEqual(buildArgs);
  });

  it.each([
    {
      name: 'an unset variable',
      value: '${DATA}',
      env: {},
      path: ['dataDir'],
      message: 'autobuild.yml: dataDir: environment variable DATA is not set — set DATA, or write the value directly (use $$ for a literal $)',
    },
    {
      name: 'a variable set to the empty string counts as unset',
      value: '${DATA}',
      env: { DATA: '' },
      path: ['dataDir'],
      message: /^autobuild\.yml: dataDir: environment variable DATA is not set — /,
    },
    {
      name: 'an unset variable inside a list names the item',
      value: ['https://a.example', '${HOOK_URL}'],
      env: {},
      path: ['repositories', 'o/app', 'webhooks'],
      message: /^autobuild\.yml: repositories\.o\/app\.webhooks\[1\]: environment variable HOOK_URL is not set — /,
    },
    {
      name: 'an optional secret inside a longer string still needs its variable',
      value: 'tok-${SUFFIX}',
      env: {},
      path: ['apiToken'],
      message: /^autobuild\.yml: apiToken: environment variable SUFFIX is not set — /,
    },
    // Before the fix these were kept as written: the literal text became the value (a guessable secret).
    {
      name: 'a name with a dash',
      value: '${WEBHOOK-SECRET}',
      env: {},
      path: ['webhookSecret'],
      message:
        'autobuild.yml: webhookSecret: "${WEBHOOK-SECRET}" is not a valid ${VAR} reference — write ${NAME} or ${NAME:-default} with NAME of letters, digits and _ (not starting with a digit); use $$ for a literal $',
    },
    {
      name: 'a name starting with a digit',
      value: 'x${1PASSWORD}',
      env: {},
      path: ['registries', 'ghcr.io', 'password'],
      message: /^autobuild\.yml: registries\.ghcr\.io\.password: "\$\{1PASSWORD\}" is not a valid \$\{VAR\} reference — /,
    },
    {
      name: 'an empty reference',
      value: '${}',
      env: {},
      path: ['dataDir'],
      message: /^autobuild\.yml: dataDir: "\$\{\}" is not a valid \$\{VAR\} reference — /,
    },
    {
      name: 'a missing closing brace',
      value: '${DATA',
      env: { DATA: '/srv' },
      path: ['dataDir'],
      message: /^autobuild\.yml: dataDir: "\$\{DATA" is not a valid \$\{VAR\} reference — /,
    },
    {
      name: 'a workflow expression pasted from GitHub Actions',
      value: '${{ secrets.TOKEN }}',
      env: {},
      path: ['github', 'token'],
      message: /^autobuild\.yml: github\.token: "\$\{\{ secrets\.TOKEN \}" is not a valid \$\{VAR\} reference — /,
    },
  ])('$name: one line', ({ value, env, path, message }) => {
    const err = errorOf(() => run(value, env as Env, path));
    if (typeof message === 'string') expect(err.message).toBe(message);
    else expect(err.message).toMatch(message);
  });
});
