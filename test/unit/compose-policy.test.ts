// What a fork's test file may ask of the shared docker engine: one row per way out of the sandbox.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { untrustedComposeProblems } from '../../src/core/compose-policy.js';

const ROOT = '/work/build/src';
const check = (yaml: string) => untrustedComposeProblems(parse(yaml), 'docker-compose.test.yml', ROOT, ROOT);

const allowed: [string, string][] = [
  ['sut built from the repository', 'services:\n  sut:\n    build: .\n    command: run_tests.sh'],
  [
    'a linked service from an image with a named volume',
    'services:\n  db:\n    image: postgres\n    volumes: [data:/var/lib/postgresql]\n  sut:\n    build: {context: ., dockerfile: Dockerfile}\n    depends_on: [db]\nvolumes:\n  data: {}',
  ],
  ['a bind mount of a directory of the repository', 'services:\n  sut:\n    build: .\n    volumes: ["./tests:/tests:ro"]'],
  ['an env_file inside the repository', 'services:\n  sut:\n    build: .\n    env_file: [tests/test.env]'],
];

const refused: [string, string, RegExp][] = [
  ['the host root mounted', 'services:\n  sut:\n    build: .\n    volumes: ["/:/host"]', /services\.sut\.volumes: "\/" is outside the repository/],
  [
    'the docker socket mounted (long syntax)',
    'services:\n  sut:\n    build: .\n    volumes: [{type: bind, source: /var/run/docker.sock, target: /s}]',
    /"\/var\/run\/docker\.sock" is outside/,
  ],
  ['a path climbing out of the repository', 'services:\n  sut:\n    build: .\n    volumes: ["../../..:/up"]', /is outside the repository/],
  ['the home directory', 'services:\n  sut:\n    build: .\n    volumes: ["~/.ssh:/keys"]', /"~\/\.ssh" is outside/],
  ['privileged', 'services:\n  sut:\n    build: .\n    privileged: true', /services\.sut\.privileged is not allowed/],
  ['extra capabilities', 'services:\n  sut:\n    build: .\n    cap_add: [SYS_ADMIN]', /cap_add is not allowed/],
  ['the host network', 'services:\n  sut:\n    build: .\n    network_mode: host', /network_mode is not allowed/],
  ['the host PID namespace', 'services:\n  sut:\n    build: .\n    pid: host', /pid is not allowed/],
  ['a device', 'services:\n  sut:\n    build: .\n    devices: ["/dev/sda:/dev/sda"]', /devices is not allowed/],
  ['a build context outside the repository', 'services:\n  sut:\n    build: /etc', /context "\/etc" is outside/],
  ['a remote build context', 'services:\n  sut:\n    build: https://example.com/x.git', /context "https:\/\/example\.com\/x\.git" is outside/],
  [
    'an env_file from the host',
    'services:\n  sut:\n    build: .\n    env_file: /etc/autobuild/secrets.env',
    /env_file: "\/etc\/autobuild\/secrets\.env" is outside/,
  ],
  [
    'a volume bound to a host path by driver options',
    'services:\n  sut:\n    build: .\n    volumes: [x:/x]\nvolumes:\n  x: {driver_opts: {type: none, o: bind, device: /}}',
    /volumes\.x: driver options are not allowed/,
  ],
  [
    'a secret read from a host file',
    'services:\n  sut:\n    build: .\nsecrets:\n  k: {file: /root/.ssh/id_rsa}',
    /secrets\.k: only a file inside the repository/,
  ],
  ['a path taken from the host environment', 'services:\n  sut:\n    build: .\n    volumes: ["${HOME}:/h"]', /is outside the repository/],
];

describe('untrustedComposeProblems', () => {
  it.each(allowed)('allows %s', (_name, yaml) => expect(check(yaml)).toEqual([]));
  it.each(refused)('refuses %s', (_name, yaml, why) => {
    const problems = check(yaml);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(why);
  });
});
