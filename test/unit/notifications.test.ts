import { describe, expect, it } from 'vitest';
import { notificationBody, slackText, targetsFor, type NotificationTarget, type NotifiedBuild } from '../../src/core/notifications.js';

const build: NotifiedBuild = {
  id: '3f2a9c-1',
  repository: 'gitlab.com/group/app',
  ref: 'refs/tags/v1.2.3',
  sha: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7',
  images: ['registry.example.com/group/app'],
  tags: ['1.2.3', '1.2', '1', 'latest'],
  status: 'succeeded',
  createdAt: '2026-01-01T10:00:00.000Z',
  startedAt: '2026-01-01T10:00:05.000Z',
  finishedAt: '2026-01-01T10:01:17.000Z',
  digest: 'sha256:' + 'b'.repeat(64),
  error: null,
};
const URL = 'https://autobuild.example.com/#/builds/3f2a9c-1';

describe('notification bodies', () => {
  it('Slack text names the status, repository, ref, tags and duration, and links the build page', () => {
    expect(slackText('succeeded', build, URL)).toBe(
      'autobuild: *succeeded* gitlab.com/group/app v1.2.3 (82b3d5a) → 1.2.3, 1.2, 1, latest in 1m 12s — <https://autobuild.example.com/#/builds/3f2a9c-1|build 3f2a9c-1>',
    );
  });

  it('a failed build says why, with Slack control characters escaped', () => {
    const text = slackText('failed', { ...build, status: 'failed', error: 'step <build> failed & stopped\nmore' }, URL);
    expect(text).toContain('*failed*');
    expect(text).toContain(': step &lt;build&gt; failed &amp; stopped —');
  });

  it('a rebuild for a changed base image says so', () => {
    const reason = `base image docker.io/library/alpine:3.20 changed sha256:${'a'.repeat(64)} -> sha256:${'b'.repeat(64)}`;
    expect(slackText('queued', { ...build, status: 'queued', startedAt: null, finishedAt: null, reason }, URL)).toContain(
      ` (${reason.replace('->', '-&gt;')}) — <`,
    );
  });

  it('queued and started have no duration yet', () => {
    expect(slackText('queued', { ...build, status: 'queued', startedAt: null, finishedAt: null }, URL)).not.toMatch(/ in \d/);
  });

  it('json is the build record with the event and the build page', () => {
    expect(JSON.parse(notificationBody('json', 'succeeded', build, URL))).toEqual({ event: 'succeeded', url: URL, ...build });
    expect(JSON.parse(notificationBody('slack', 'succeeded', build, URL))).toEqual({ text: slackText('succeeded', build, URL) });
  });
});

describe('which receivers hear of an event', () => {
  const t = (id: string, events: NotificationTarget['events']): NotificationTarget => ({ id, url: `https://x.example/${id}`, events, format: 'json' });
  const global = [t('all', ['queued', 'started', 'succeeded', 'failed', 'canceled']), t('failures', ['failed'])];
  const own = { 'GitLab.com/Group/App': [t('app', ['succeeded'])], 'other/repo': [t('other', ['succeeded'])] };

  it.each([
    ['succeeded', 'gitlab.com/group/app', ['all', 'app']],
    ['failed', 'gitlab.com/group/app', ['all', 'failures']],
    ['succeeded', 'octo-org/app', ['all']],
    ['started', 'other/repo', ['all']],
  ] as const)('%s of %s -> %j', (event, repository, ids) => {
    expect(targetsFor(event, repository, global, own).map((x) => x.id)).toEqual(ids);
  });
});
