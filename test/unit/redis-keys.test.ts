import { describe, expect, it } from 'vitest';
import { buildIds } from '../../src/service/build-queue.js';
import { deliveryName, INBOX_GROUP, PREFIX, redisKeys } from '../../src/service/redis-keys.js';

// Every Redis key autobuild writes. What an operator relies on: all of them sit under
// `autobuild:` (beside BullMQ's `bull:*`), and two different things never share a key, even
// when an id comes from outside (a delivery id header, a ref name, an image name) and holds `:`.

describe('key names (what `redis-cli --scan --pattern "autobuild:*"` shows)', () => {
  it.each([
    { name: 'a build record', key: redisKeys.build('3f2a9c-1'), expected: 'autobuild:build:3f2a9c-1' },
    { name: 'the build index', key: redisKeys.builds, expected: 'autobuild:builds' },
    {
      name: "a repository's builds, case-insensitive as repositories are",
      key: redisKeys.buildsOfRepository('Octo-Org/App'),
      expected: 'autobuild:builds:repo:octo-org/app',
    },
    { name: 'the queue order counter', key: redisKeys.buildSeq, expected: 'autobuild:build-seq' },
    { name: 'a branch (hashed)', key: redisKeys.branch('ab12'), expected: 'autobuild:branch:ab12' },
    {
      name: 'a GitHub delivery (its id as it is)',
      key: redisKeys.delivery('github', '72d3162e-cc78-11e3-81ab-4c9367dc0958'),
      expected: 'autobuild:delivery:72d3162e-cc78-11e3-81ab-4c9367dc0958',
    },
    { name: 'a GitLab delivery', key: redisKeys.delivery('gitlab', '72d3162e'), expected: 'autobuild:delivery:gitlab:72d3162e' },
    { name: 'the intake inbox', key: redisKeys.inbox, expected: 'autobuild:inbox' },
    { name: "a build's log", key: redisKeys.log('3f2a9c-1'), expected: 'autobuild:log:3f2a9c-1' },
    { name: "an image's lock", key: redisKeys.imageLock('ghcr.io/o/app'), expected: 'autobuild:lock:image:ghcr.io/o/app' },
    { name: 'the newest push of a tag', key: redisKeys.pushedSeq('ghcr.io/o/app:latest'), expected: 'autobuild:pushed-seq:ghcr.io/o/app:latest' },
    { name: 'the followed base images', key: redisKeys.baseWatch, expected: 'autobuild:base-watch' },
    { name: 'a base change rebuilt', key: redisKeys.baseRebuilt('cd34'), expected: 'autobuild:base-rebuilt:cd34' },
    { name: 'a dashboard session (hashed id)', key: redisKeys.session('ef56'), expected: 'autobuild:session:ef56' },
  ])('$name: $expected', ({ key, expected }) => {
    expect(key).toBe(expected);
    expect(key.startsWith(PREFIX)).toBe(true);
  });

  it('the intake consumer group is named for autobuild too', () => {
    expect(INBOX_GROUP).toBe('autobuild-intake');
  });
});

// Ids chosen by whoever sends the request, shaped to look like another kind's key.
const HOSTILE = [
  '',
  ':',
  'x',
  'x:y',
  'gitlab:x',
  'github:x',
  'image:x',
  'repo:x',
  'seq',
  's',
  '-seq',
  'build:x',
  'autobuild:x',
  'x\0y',
  'ghcr.io/o/app:latest',
  'Octo/App',
];
const FORGES = ['github', 'gitlab', 'bitbucket', 'gitea'];

/** Every key of every kind for every hostile id, with what it stands for. */
function allKeys(): Map<string, string> {
  const keys = new Map<string, string>();
  const add = (key: string, what: string) => {
    const before = keys.get(key);
    // Only buildsOfRepository folds case on purpose: Octo/App and octo/app are one repository.
    if (before !== undefined && before !== what) throw new Error(`${JSON.stringify(key)} is both ${before} and ${what}`);
    keys.set(key, what);
  };
  for (const key of [redisKeys.builds, redisKeys.buildSeq, redisKeys.inbox, redisKeys.baseWatch]) add(key, key);
  for (const id of HOSTILE) {
    add(redisKeys.build(id), `build ${id}`);
    add(redisKeys.buildsOfRepository(id), `builds of repository ${id.toLowerCase()}`);
    add(redisKeys.branch(id), `branch ${id}`);
    add(redisKeys.log(id), `log ${id}`);
    add(redisKeys.imageLock(id), `lock ${id}`);
    add(redisKeys.pushedSeq(id), `pushed ${id}`);
    add(redisKeys.baseRebuilt(id), `rebuilt ${id}`);
    add(redisKeys.session(id), `session ${id}`);
    for (const forge of FORGES) add(redisKeys.delivery(forge, id), `${forge} delivery ${id}`);
  }
  return keys;
}

describe('keys of different kinds never collide, whatever the ids hold', () => {
  it('every kind and every hostile id gives its own key, under autobuild:', () => {
    const keys = allKeys();
    for (const key of keys.keys()) expect(key.startsWith(PREFIX), key).toBe(true);
    expect(keys.size).toBeGreaterThan(HOSTILE.length * 12);
  });

  // Before the fix a GitHub delivery id "gitlab:X" had GitLab delivery X's key and build ids:
  // a GitHub sender could make GitLab's real delivery X read as a repeat (and not be built).
  it.each([
    { github: 'gitlab:72d3162e', other: ['gitlab', '72d3162e'] },
    { github: 'bitbucket:{8c6b1c6e}', other: ['bitbucket', '{8c6b1c6e}'] },
    { github: 'gitea:1', other: ['gitea', '1'] },
  ])('a GitHub delivery id $github is not $other.0 delivery $other.1', ({ github, other }) => {
    const [forge, id] = other as [string, string];
    expect(redisKeys.delivery('github', github)).not.toBe(redisKeys.delivery(forge, id));
    expect(deliveryName('github', github)).not.toBe(deliveryName(forge, id));
    expect(buildIds(2, deliveryName('github', github))).not.toEqual(buildIds(2, deliveryName(forge, id)));
  });

  it.each([
    { forge: 'github', id: '72d3162e-cc78-11e3-81ab-4c9367dc0958', name: '72d3162e-cc78-11e3-81ab-4c9367dc0958' },
    { forge: 'github', id: 'gitlab:x', name: 'github:gitlab:x' },
    { forge: 'gitlab', id: 'x', name: 'gitlab:x' },
    { forge: 'gitea', id: 'a:b', name: 'gitea:a:b' },
  ])('the $forge delivery $id is named $name (build ids and the delivery answer follow it)', ({ forge, id, name }) => {
    expect(deliveryName(forge, id)).toBe(name);
  });
});
