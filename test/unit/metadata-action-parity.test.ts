// docker/metadata-action's own table (its __tests__/meta.test.ts, groups push, tag, latest, pr,
// pr-head-sha, release and raw), replayed through autobuild: the workflow context each row names
// (event, GITHUB_REF, GITHUB_SHA, payload), its `images`, `tags` and `flavor` inputs, and the tags
// metadata-action gives. Left out: rows using type=pep440 or {{date}}/{{commit_date}} (not
// supported; README "metadata-action") and the two rows with no event at all.
// Where metadata-action's `tags` input is empty it uses its default lines; autobuild then uses its
// preset, so those rows give metadata-action's defaults as lines.
import { afterEach, describe, expect, it } from 'vitest';
import { readInputs } from '../../src/action/inputs.js';
import { eventFromWorkflow, type WorkflowEvent } from '../../src/core/events.js';
import { parseFlavor } from '../../src/core/metadata-flavor.js';
import { evaluateTags, parseTags } from '../../src/core/metadata-tags.js';
import { plan } from '../../src/core/plan.js';
import { sanitizeTag } from '../../src/core/tag-names.js';
import type { RepositoryConfig } from '../../src/core/types.js';
import { buildable } from '../fixtures/events.js';
import { example } from '../support/webhook-payloads.js';

// The commits of metadata-action's fixtures.
const DEV_SHA = '860c1904a1ce19322e91ac35af1ab07466440c37';
const MASTER_SHA = '266574110acf203503badf966df2ea24b5d732d7';
const FEATURE_SHA = '983315b5e8d46e46fc4c49869e85e7ee5fb289ba';
const MERGE_SHA = 'a9c8c5828b91be19d9728548b24759e352367ef1';
const PR_HEAD_SHA = '3370e228f2209994d57af4427fe64e71bb79ac96';

function push(ref: string, sha: string, baseRef: string | null = null): WorkflowEvent {
  const p = example('push', (e) => e.ref === 'refs/heads/master' && e.deleted === false);
  p.ref = ref;
  p.after = sha;
  p.head_commit.id = sha;
  p.base_ref = baseRef;
  p.repository.default_branch = 'master';
  return { name: 'push', ref, sha, payload: p };
}

function pullRequest(name: 'pull_request' | 'pull_request_target'): WorkflowEvent {
  const p = example('pull_request', (e) => e.action === 'opened');
  p.number = 15;
  p.pull_request.number = 15;
  p.pull_request.head.sha = PR_HEAD_SHA;
  p.pull_request.head.ref = 'test-pr';
  p.pull_request.base.ref = 'master';
  p.repository.default_branch = 'master';
  // pull_request runs on the merge commit; pull_request_target on the base branch's last commit.
  return name === 'pull_request'
    ? { name, ref: 'refs/pull/15/merge', sha: MERGE_SHA, payload: p }
    : { name, ref: 'refs/heads/master', sha: MASTER_SHA, payload: p };
}

const pushDev = push('refs/heads/dev', DEV_SHA);
const pushMaster = push('refs/heads/master', MASTER_SHA);
const pushFeature = push('refs/heads/my/feature#1245', FEATURE_SHA);
const tagV111 = push('refs/tags/v1.1.1', DEV_SHA, 'refs/heads/master');
/** A tag push whose workflow had no event payload (metadata-action's tag fixtures). */
const tagOnly = (name: string): WorkflowEvent => ({ name: 'push', ref: `refs/tags/${name}`, sha: DEV_SHA });
const dispatchMaster: WorkflowEvent = (() => {
  const p = example('workflow_dispatch', (e) => e.ref === 'refs/heads/master');
  p.repository.default_branch = 'master';
  return { name: 'workflow_dispatch', ref: 'refs/heads/master', sha: DEV_SHA, payload: p };
})();
const releaseV111: WorkflowEvent = { name: 'release', ref: 'refs/tags/v1.1.1', sha: DEV_SHA, payload: example('release', (e) => e.action === 'created') };
const pullRequestEvent = pullRequest('pull_request');
const pullRequestTarget = pullRequest('pull_request_target');

/** metadata-action's lines when its `tags` input is empty (type=schedule never applies here). */
const METADATA_DEFAULT_TAGS = ['type=ref,event=branch', 'type=ref,event=tag', 'type=ref,event=pr'];

interface Row {
  id: string;
  event: WorkflowEvent;
  prHeadSha?: boolean;
  images: string[];
  tags: string[] | null;
  flavor?: string[];
  /** The tags of the first image, in metadata-action's order. */
  expected: string[];
  /** The images metadata-action gives tags for (enabled, lower-cased). */
  pushedImages?: string[];
}

const rows: Row[] = [
  { id: 'push/push01', event: pushDev, images: ['user/app'], tags: null, expected: ['dev'], pushedImages: ['user/app'] },
  { id: 'push/push02', event: pushMaster, images: ['user/app'], tags: ['type=edge'], expected: ['edge'], pushedImages: ['user/app'] },
  { id: 'push/push03', event: pushMaster, images: ['user/app'], tags: null, expected: ['master'], pushedImages: ['user/app'] },
  { id: 'push/push04', event: dispatchMaster, images: ['user/app'], tags: ['type=edge'], expected: ['edge'], pushedImages: ['user/app'] },
  { id: 'push/push05', event: pushDev, images: ['org/app', 'ghcr.io/user/app'], tags: null, expected: ['dev'], pushedImages: ['org/app', 'ghcr.io/user/app'] },
  {
    id: 'push/push06',
    event: pushMaster,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=edge'],
    expected: ['edge'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'push/push07',
    event: pushDev,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=ref,event=branch', 'type=sha'],
    expected: ['dev', 'sha-860c190'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'push/push08',
    event: pushMaster,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=edge', 'type=sha'],
    expected: ['edge', 'sha-2665741'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'push/push09',
    event: pushDev,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=edge,branch=dev', 'type=sha'],
    expected: ['edge', 'sha-860c190'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'push/push10',
    event: pushMaster,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=edge,branch=dev', 'type=sha'],
    expected: ['sha-2665741'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'push/push11',
    event: pushFeature,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=edge', 'type=sha'],
    expected: ['sha-983315b'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'push/push13',
    event: pushMaster,
    images: ['user/app'],
    tags: ['type=ref,priority=2000,event=branch', 'type=edge'],
    expected: ['master', 'edge'],
    pushedImages: ['user/app'],
  },
  {
    id: 'push/push15',
    event: pushMaster,
    images: ['user/app'],
    tags: ['type=match,pattern=v(.*),group=1,value=v1.2.3', 'type=edge'],
    expected: ['1.2.3', 'edge', 'latest'],
    pushedImages: ['user/app'],
  },
  {
    id: 'push/push16',
    event: pushMaster,
    images: ['user/app'],
    tags: ['type=match,enable=false,pattern=v(.*),group=1,value=v1.2.3', 'type=edge'],
    expected: ['edge'],
    pushedImages: ['user/app'],
  },
  {
    id: 'push/push18',
    event: pushDev,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=ref,event=branch', 'type=sha,format=long'],
    expected: ['dev', 'sha-860c1904a1ce19322e91ac35af1ab07466440c37'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'push/push19',
    event: pushDev,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=edge,branch=master', 'type=ref,event=branch,enable=false', 'type=sha,format=long', 'type=raw,value=defbranch,enable={{is_default_branch}}'],
    expected: ['sha-860c1904a1ce19322e91ac35af1ab07466440c37'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'push/push20',
    event: pushDev,
    images: ['org/app', 'ghcr.io/user/app,enable=false'],
    tags: ['type=edge,branch=master', 'type=ref,event=branch,enable=false', 'type=sha,format=long'],
    expected: ['sha-860c1904a1ce19322e91ac35af1ab07466440c37'],
    pushedImages: ['org/app'],
  },
  {
    id: 'push/push22',
    event: pushDev,
    images: ['org/app'],
    tags: ['type=edge,branch=master', 'type=sha,format=long', 'type=raw,value=notdefbranch,enable={{is_not_default_branch}}'],
    expected: ['notdefbranch', 'sha-860c1904a1ce19322e91ac35af1ab07466440c37'],
    pushedImages: ['org/app'],
  },
  { id: 'tag/tag01', event: tagOnly('release1'), images: ['user/app'], tags: null, expected: ['release1', 'latest'], pushedImages: ['user/app'] },
  { id: 'tag/tag02', event: tagOnly('20200110-RC2'), images: ['user/app'], tags: null, expected: ['20200110-RC2', 'latest'], pushedImages: ['user/app'] },
  {
    id: 'tag/tag03',
    event: tagOnly('20200110-RC2'),
    images: ['user/app'],
    tags: ['type=match,pattern=\\d{8}'],
    flavor: ['latest=false'],
    expected: ['20200110'],
    pushedImages: ['user/app'],
  },
  {
    id: 'tag/tag04',
    event: tagOnly('20200110-RC2'),
    images: ['user/app'],
    tags: ['type=match,pattern=(.*)-RC,group=1'],
    flavor: ['latest=false'],
    expected: ['20200110'],
    pushedImages: ['user/app'],
  },
  {
    id: 'tag/tag05',
    event: tagV111,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=match,"pattern=\\d.\\d.\\d"'],
    expected: ['1.1.1', 'latest'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag06',
    event: tagV111,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=match,"pattern=^v(\\d.\\d.\\d)$",group=1'],
    expected: ['1.1.1', 'latest'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag07',
    event: tagOnly('v2.0.8-beta.67'),
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=match,"pattern=\\d.\\d.\\d-(alpha|beta).\\d+"'],
    expected: ['2.0.8-beta.67', 'latest'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag08',
    event: tagOnly('v2.0.8-beta.67'),
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=match,"pattern=\\d.\\d"'],
    expected: ['2.0', 'latest'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag09',
    event: tagOnly('v2.0.8-beta.67'),
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=match,"pattern=v(.*)-beta.(.*)",group=1', 'type=match,"pattern=v(.*)-beta.(.*)",group=2'],
    expected: ['2.0.8', '67', 'latest'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  { id: 'tag/tag10', event: tagOnly('sometag'), images: ['org/app', 'ghcr.io/user/app'], tags: ['type=match,"pattern=\\d.\\d"'], expected: [] },
  {
    id: 'tag/tag11',
    event: tagV111,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=semver,pattern={{version}}', 'type=semver,pattern={{major}}.{{minor}}', 'type=semver,pattern={{major}}'],
    expected: ['1.1.1', '1.1', '1', 'latest'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag12',
    event: tagV111,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=semver,pattern={{version}}', 'type=semver,pattern={{major}}.{{minor}}.{{patch}}'],
    expected: ['1.1.1', 'latest'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag13',
    event: tagOnly('v2.0.8-beta.67'),
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=semver,pattern={{major}}.{{minor}}', 'type=semver,pattern={{major}}'],
    expected: ['2.0.8-beta.67'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag14',
    event: tagOnly('sometag'),
    images: ['ghcr.io/user/app'],
    tags: ['type=ref,event=tag', 'type=semver,pattern={{version}}', 'type=semver,pattern={{major}}.{{minor}}', 'type=semver,pattern={{major}}'],
    flavor: ['latest=false'],
    expected: ['sometag'],
    pushedImages: ['ghcr.io/user/app'],
  },
  {
    id: 'tag/tag15',
    event: tagOnly('v2.0.8-beta.67'),
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=raw,priority=2000,foo', 'type=semver,pattern={{version}}', 'type=match,"pattern=\\d.\\d"'],
    expected: ['foo', '2.0.8-beta.67', '2.0'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag16',
    event: tagV111,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=raw,priority=2000,foo', 'type=ref,event=tag', 'type=edge'],
    expected: ['foo', 'v1.1.1'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag17',
    event: tagOnly('p1/v1.0.0'),
    images: ['org/app', 'ghcr.io/user/app'],
    tags: [
      'type=match,"pattern=/^v(\\d.\\d.\\d)$/ig",group=1',
      'type=match,pattern=\\d.\\d.\\d',
      'type=match,pattern=\\d.\\d',
      'type=ref,event=pr',
      'type=sha',
    ],
    expected: ['1.0.0', '1.0', 'sha-860c190', 'latest'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag18',
    event: tagOnly('p1/v1.0.0'),
    images: ['org/app', 'ghcr.io/user/app'],
    tags: [
      'type=match,pattern=p1/v(\\d.\\d.\\d),group=1',
      'type=match,pattern=p1/v(\\d.\\d),group=1',
      'type=match,pattern=p1/v(\\d.\\d),group=3',
      'type=ref,event=pr',
      'type=sha',
    ],
    expected: ['1.0.0', '1.0', 'sha-860c190', 'latest'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag19',
    event: tagOnly('p1/v1.0.0'),
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=match,pattern=p1/v(\\d.\\d.\\d),group=1', 'type=match,pattern=p1/v(\\d.\\d),group=1,suffix=', 'type=ref,event=pr', 'type=sha'],
    flavor: ['suffix=-dev'],
    expected: ['1.0.0-dev', '1.0', 'sha-860c190-dev', 'latest'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag20',
    event: tagV111,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=raw,{{tag}}-{{sha}}-foo', 'type=raw,{{base_ref}}-foo', 'type=raw,defbranch-foo,enable={{is_default_branch}}'],
    expected: ['v1.1.1-860c190-foo', 'master-foo'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag21',
    event: tagV111,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=semver,pattern={{version}}', 'type=semver,pattern={{major}}.{{minor}}.{{patch}}'],
    flavor: ['suffix=-dev,onlatest=true'],
    expected: ['1.1.1-dev', 'latest-dev'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag22',
    event: tagV111,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=semver,pattern={{version}}', 'type=semver,pattern={{major}}.{{minor}}.{{patch}}'],
    flavor: ['prefix=foo-,onlatest=true', 'suffix=-dev,onlatest=true'],
    expected: ['foo-1.1.1-dev', 'foo-latest-dev'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag31',
    event: tagOnly('v2.0.8-beta.67'),
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=semver,pattern={{raw}}'],
    expected: ['v2.0.8-beta.67'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'tag/tag34',
    event: tagOnly('p1/v1.0.0'),
    images: ['org/app'],
    tags: ['type=semver,pattern={{version}},"match=v(\\d.\\d.\\d)$"'],
    expected: ['1.0.0', 'latest'],
    pushedImages: ['org/app'],
  },
  {
    id: 'latest/latest01',
    event: tagOnly('release1'),
    images: ['user/app'],
    tags: ['type=match,"pattern=^release\\d{1,2}"'],
    expected: ['release1', 'latest'],
    pushedImages: ['user/app'],
  },
  {
    id: 'latest/latest02',
    event: tagOnly('20200110-RC2'),
    images: ['user/app'],
    tags: ['type=match,"pattern=^\\d+-RC\\d{1,2}"'],
    expected: ['20200110-RC2', 'latest'],
    pushedImages: ['user/app'],
  },
  {
    id: 'latest/latest03',
    event: tagOnly('20200110-RC2'),
    images: ['user/app'],
    tags: ['type=match,pattern=\\d{8}'],
    expected: ['20200110', 'latest'],
    pushedImages: ['user/app'],
  },
  {
    id: 'latest/latest04',
    event: tagV111,
    images: ['user/app'],
    tags: ['type=match,"pattern=\\d.\\d.\\d"'],
    expected: ['1.1.1', 'latest'],
    pushedImages: ['user/app'],
  },
  {
    id: 'latest/latest05',
    event: tagV111,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: null,
    expected: ['v1.1.1', 'latest'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'latest/latest06',
    event: tagOnly('v2.0.8-beta.67'),
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=match,"pattern=\\d.\\d.\\d"'],
    expected: ['2.0.8', 'latest'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'latest/latest07',
    event: tagV111,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=ref,event=tag'],
    flavor: ['latest=false'],
    expected: ['v1.1.1'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'latest/latest08',
    event: tagV111,
    images: ['org/app', 'ghcr.io/MyUSER/MyApp'],
    tags: ['type=ref,event=tag'],
    flavor: ['latest=false'],
    expected: ['v1.1.1'],
    pushedImages: ['org/app', 'ghcr.io/myuser/myapp'],
  },
  {
    id: 'latest/latest09',
    event: tagV111,
    images: ['org/app', 'ghcr.io/MyUSER/MyApp'],
    tags: ['type=ref,event=tag'],
    flavor: ['latest=false'],
    expected: ['v1.1.1'],
    pushedImages: ['org/app', 'ghcr.io/myuser/myapp'],
  },
  { id: 'latest/latest10', event: tagOnly('v2.0.8-beta.67'), images: [], tags: ['type=match,"pattern=\\d.\\d.\\d"'], expected: ['2.0.8', 'latest'] },
  { id: 'pr/pr01', event: pullRequestEvent, images: ['user/app'], tags: null, expected: ['pr-15'], pushedImages: ['user/app'] },
  {
    id: 'pr/pr02',
    event: pullRequestEvent,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: null,
    expected: ['pr-15'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'pr/pr03',
    event: pullRequestEvent,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=ref,event=pr', 'type=sha'],
    expected: ['pr-15', 'sha-a9c8c58'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'pr/pr04',
    event: pullRequestEvent,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=sha,priority=2000', 'type=ref,event=pr'],
    expected: ['sha-a9c8c58', 'pr-15'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'pr/pr05',
    event: pullRequestEvent,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=ref,event=pr'],
    flavor: ['prefix=glo-', 'suffix=-bal'],
    expected: ['pr-15-bal'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'pr/pr06',
    event: pullRequestEvent,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=ref,event=pr,prefix='],
    flavor: ['prefix=glo-', 'suffix=-bal'],
    expected: ['15-bal'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'pr/pr07',
    event: pullRequestTarget,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=sha,priority=2000', 'type=ref,event=pr'],
    expected: ['sha-2665741', 'pr-15'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'pr/pr08',
    event: pullRequestTarget,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=ref,event=pr,prefix='],
    flavor: ['prefix=glo-', 'suffix=-bal'],
    expected: ['15-bal'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'pr/pr09',
    event: pullRequestTarget,
    images: ['org/app'],
    tags: ['type=ref,event=tag', 'type=ref,event=pr', 'type=ref,event=branch', 'type=sha', 'type=sha,format=long'],
    expected: ['pr-15', 'sha-2665741', 'sha-266574110acf203503badf966df2ea24b5d732d7'],
    pushedImages: ['org/app'],
  },
  {
    id: 'pr/pr10',
    event: pullRequestTarget,
    images: ['org/app'],
    tags: ['type=raw,value=mytag-{{base_ref}}', 'type=raw,mytag-defbranch,enable={{is_default_branch}}'],
    expected: ['mytag-master'],
    pushedImages: ['org/app'],
  },
  {
    id: 'pr/pr11',
    event: pullRequestEvent,
    images: ['org/app'],
    tags: ['type=raw,value=mytag-{{base_ref}}', 'type=raw,mytag-defbranch,enable={{is_default_branch}}'],
    expected: ['mytag-master'],
    pushedImages: ['org/app'],
  },
  { id: 'pr-head-sha/pr01', event: pullRequestEvent, prHeadSha: true, images: ['user/app'], tags: null, expected: ['pr-15'], pushedImages: ['user/app'] },
  {
    id: 'pr-head-sha/pr02',
    event: pullRequestEvent,
    prHeadSha: true,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: null,
    expected: ['pr-15'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'pr-head-sha/pr03',
    event: pullRequestEvent,
    prHeadSha: true,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=ref,event=pr', 'type=sha'],
    expected: ['pr-15', 'sha-3370e22'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'pr-head-sha/pr04',
    event: pullRequestEvent,
    prHeadSha: true,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=sha,priority=2000', 'type=ref,event=pr'],
    expected: ['sha-3370e22', 'pr-15'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'pr-head-sha/pr05',
    event: pullRequestEvent,
    prHeadSha: true,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=ref,event=pr'],
    flavor: ['prefix=glo-', 'suffix=-bal'],
    expected: ['pr-15-bal'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'pr-head-sha/pr06',
    event: pullRequestEvent,
    prHeadSha: true,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=ref,event=pr,prefix='],
    flavor: ['prefix=glo-', 'suffix=-bal'],
    expected: ['15-bal'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'pr-head-sha/pr07',
    event: pullRequestTarget,
    prHeadSha: true,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=sha,priority=2000', 'type=ref,event=pr'],
    expected: ['sha-3370e22', 'pr-15'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'pr-head-sha/pr08',
    event: pullRequestTarget,
    prHeadSha: true,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=ref,event=pr,prefix='],
    flavor: ['prefix=glo-', 'suffix=-bal'],
    expected: ['15-bal'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'pr-head-sha/pr09',
    event: pullRequestTarget,
    prHeadSha: true,
    images: ['org/app'],
    tags: ['type=ref,event=tag', 'type=ref,event=pr', 'type=ref,event=branch', 'type=sha', 'type=sha,format=long'],
    expected: ['pr-15', 'sha-3370e22', 'sha-3370e228f2209994d57af4427fe64e71bb79ac96'],
    pushedImages: ['org/app'],
  },
  {
    id: 'pr-head-sha/pr10',
    event: pullRequestTarget,
    prHeadSha: true,
    images: ['org/app'],
    tags: ['type=raw,value=mytag-{{base_ref}}', 'type=raw,mytag-defbranch,enable={{is_default_branch}}'],
    expected: ['mytag-master'],
    pushedImages: ['org/app'],
  },
  {
    id: 'pr-head-sha/pr11',
    event: pullRequestEvent,
    prHeadSha: true,
    images: ['org/app'],
    tags: ['type=raw,value=mytag-{{base_ref}}', 'type=raw,mytag-defbranch,enable={{is_default_branch}}'],
    expected: ['mytag-master'],
    pushedImages: ['org/app'],
  },
  { id: 'release/release01', event: releaseV111, images: ['user/app'], tags: null, expected: ['v1.1.1', 'latest'], pushedImages: ['user/app'] },
  {
    id: 'release/release02',
    event: releaseV111,
    images: ['user/app'],
    tags: ['type=ref,event=tag', 'type=raw,value=baseref-{{base_ref}}', 'type=raw,value=defbranch,enable={{is_default_branch}}'],
    expected: ['v1.1.1', 'baseref-', 'latest'],
    pushedImages: ['user/app'],
  },
  {
    id: 'raw/raw01',
    event: pushDev,
    images: ['user/app'],
    tags: ['type=ref,event=branch', 'type=raw,my', 'type=raw,custom', 'type=raw,tags'],
    expected: ['dev', 'my', 'custom', 'tags'],
    pushedImages: ['user/app'],
  },
  {
    id: 'raw/raw02',
    event: pushDev,
    images: ['user/app'],
    tags: ['type=ref,event=branch', 'type=raw,my'],
    expected: ['dev', 'my'],
    pushedImages: ['user/app'],
  },
  {
    id: 'raw/raw03',
    event: tagOnly('release1'),
    images: ['user/app'],
    tags: ['type=ref,event=tag', 'type=raw,my', 'type=raw,custom', 'type=raw,tags'],
    expected: ['release1', 'my', 'custom', 'tags', 'latest'],
    pushedImages: ['user/app'],
  },
  {
    id: 'raw/raw04',
    event: tagOnly('20200110-RC2'),
    images: ['user/app'],
    tags: ['type=match,pattern=\\d{8}', 'type=raw,my', 'type=raw,custom', 'type=raw,tags'],
    flavor: ['latest=false'],
    expected: ['20200110', 'my', 'custom', 'tags'],
    pushedImages: ['user/app'],
  },
  {
    id: 'raw/raw05',
    event: tagV111,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: [
      'type=semver,pattern={{version}}',
      'type=semver,pattern={{major}}.{{minor}}',
      'type=semver,pattern={{major}}',
      'type=raw,my',
      'type=raw,custom',
      'type=raw,tags',
    ],
    expected: ['1.1.1', '1.1', '1', 'my', 'custom', 'tags', 'latest'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'raw/raw06',
    event: tagV111,
    images: ['org/app', 'ghcr.io/user/app'],
    tags: ['type=raw,my', 'type=raw,custom', 'type=raw,tags'],
    expected: ['my', 'custom', 'tags'],
    pushedImages: ['org/app', 'ghcr.io/user/app'],
  },
  {
    id: 'raw/raw07',
    event: pushDev,
    images: ['user/app'],
    tags: ['type=ref,priority=90,event=branch', 'type=raw,my', 'type=raw,custom', 'type=raw,tags'],
    flavor: ['latest=true'],
    expected: ['my', 'custom', 'tags', 'dev', 'latest'],
    pushedImages: ['user/app'],
  },
  {
    id: 'raw/raw08',
    event: pushDev,
    images: ['user/app'],
    tags: ['type=match,pattern=\\d{8}', 'type=raw,my', 'type=raw,custom', 'type=raw,tags'],
    flavor: ['latest=false'],
    expected: ['my', 'custom', 'tags'],
    pushedImages: ['user/app'],
  },
  {
    id: 'raw/raw09',
    event: pushDev,
    images: ['user/app'],
    tags: ['type=match,pattern=\\d{8}', 'type=raw,my,prefix=foo-,suffix=-bar', 'type=raw,custom', 'type=raw,tags'],
    flavor: ['latest=false', 'prefix=glo-', 'suffix=-bal'],
    expected: ['foo-my-bar', 'glo-custom-bal', 'glo-tags-bal'],
    pushedImages: ['user/app'],
  },
  {
    id: 'raw/raw10',
    event: pushDev,
    images: ['user/app'],
    tags: ['type=raw,foo', 'type=raw,bar,enable=false', 'type=raw,baz,enable=true'],
    flavor: ['latest=false'],
    expected: ['foo', 'baz'],
    pushedImages: ['user/app'],
  },
];

const INPUTS = ['IMAGES', 'TAGS', 'FLAVOR'];
afterEach(() => {
  for (const name of INPUTS) delete process.env[`INPUT_${name}`];
});

describe("docker/metadata-action's own table gives the same tags through the Action's inputs", () => {
  it.each(rows)('$id', (row) => {
    const tags = (row.tags ?? METADATA_DEFAULT_TAGS).join('\n');
    const flavor = (row.flavor ?? []).join('\n');
    process.env['INPUT_IMAGES'] = (row.images.length > 0 ? row.images : ['user/app']).join('\n');
    process.env['INPUT_TAGS'] = tags;
    process.env['INPUT_FLAVOR'] = flavor;
    const inputs = readInputs();
    const event = buildable(eventFromWorkflow({ ...row.event, repository: 'docker/repo', prHeadSha: row.prHeadSha === true }));

    // The order metadata-action gives (main tag, the others, latest), before autobuild's push order.
    const meta = evaluateTags(parseTags(tags), event, parseFlavor(flavor));
    expect(meta.tags.map((t) => sanitizeTag(t.tag))).toEqual(row.expected);

    const config: RepositoryConfig = {
      images: inputs.images,
      preset: 'semver',
      rules: [],
      tags: inputs.tags,
      flavor: inputs.flavor,
      paths: [],
      dockerfile: 'Dockerfile',
      context: '.',
      buildArgs: {},
      labels: {},
      webhooks: [],
    };
    const result = plan({ event, repositories: { [event.repository ?? 'docker/repo']: config } });
    if (row.expected.length === 0) {
      expect(result.builds).toEqual([]);
      return;
    }
    expect(result.builds).toHaveLength(1);
    const build = result.builds[0]!;
    expect([...build.tags].sort()).toEqual([...row.expected].sort());
    if (row.expected.includes('latest')) expect(build.tags.at(-1)).toBe('latest');
    if (row.pushedImages) expect(build.images).toEqual(row.pushedImages);
  });
});
