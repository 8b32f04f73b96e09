// The GitHub Action as the runner runs it: action.yml and dist/ alone in an empty directory (no
// node_modules), `node dist/main.js` then `node dist/post.js`, with the runner's environment
// (INPUT_*, GITHUB_*, RUNNER_TEMP, the output/state/summary files) against a private dockerd and
// real registries. Events are real @octokit/webhooks-examples payloads, changed only per row.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { busyboxDockerfile, makeFixtureRepo, startDockerd, startRegistry, tempDir, type Dockerd, type Fixture, type Registry } from '../support/engines.js';
import { example, pullRequestPayload, tagPushPayload } from '../support/webhook-payloads.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');
const USER = 'ci-bot';
const PASSWORD = 'S3cret-Registry-Pa55word';

interface ActionRun {
  /** Exit codes of main and post. */
  mainCode: number;
  postCode: number;
  /** stdout + stderr of main, with the runner's `::add-mask::` commands removed as the runner does. */
  log: string;
  postLog: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  /** Whether the saved credentials directory existed between main and post. */
  credentialsAfterMain: boolean;
}

/** The runner's `name<<DELIMITER\nvalue\nDELIMITER` file format (GITHUB_OUTPUT, GITHUB_STATE). */
function readCommandFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(file)) return out;
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (m) {
      const end = lines.indexOf(m[2]!, i + 1);
      out[m[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (lines[i]!.includes('=')) {
      const eq = lines[i]!.indexOf('=');
      out[lines[i]!.slice(0, eq)] = lines[i]!.slice(eq + 1);
    }
  }
  return out;
}

let dockerd: Dockerd;
let open: Registry;
let secured: Registry;
let actionDir: string;
let runnerRoot: string;
const fixtures: Fixture[] = [];
let runCount = 0;

/** Every input with its action.yml default, as the runner sets them, then the row's values. */
function inputEnv(inputs: Record<string, string>): Record<string, string> {
  const spec = parseYaml(readFileSync(join(actionDir, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> };
  const env: Record<string, string> = {};
  for (const [name, def] of Object.entries(spec.inputs)) env[`INPUT_${name.toUpperCase()}`] = def.default ?? '';
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  return env;
}

async function node(script: string, env: Record<string, string>): Promise<{ code: number; log: string }> {
  try {
    const r = await run('node', [join(actionDir, 'dist', script)], { env, cwd: env['GITHUB_WORKSPACE'], maxBuffer: 64 << 20 });
    return { code: 0, log: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, log: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

async function runAction(opts: {
  fixture: Fixture;
  event: string;
  payload: Record<string, any>;
  ref: string;
  inputs: Record<string, string>;
  /** Changes to the runner's environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
}): Promise<ActionRun> {
  const dir = join(runnerRoot, `run-${++runCount}`);
  mkdirSync(join(dir, 'temp'), { recursive: true });
  writeFileSync(join(dir, 'event.json'), JSON.stringify(opts.payload));
  for (const f of ['output', 'state', 'summary']) writeFileSync(join(dir, f), '');
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/root',
    DOCKER_HOST: dockerd.host,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: opts.event,
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
    GITHUB_REF: opts.ref,
    GITHUB_SHA: opts.fixture.sha,
    GITHUB_REPOSITORY: 'Codertocat/Hello-World',
    GITHUB_WORKSPACE: opts.fixture.dir,
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    RUNNER_TEMP: join(dir, 'temp'),
    ...inputEnv(opts.inputs),
  };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const main = await node('main.js', env);
  const state = readCommandFile(join(dir, 'state'));
  const credentialsAfterMain = state['credentials-dir'] !== undefined && existsSync(state['credentials-dir']);
  // The runner hands main's saved state to post as STATE_<name>.
  const postEnv = { ...env, ...Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v])) };
  const post = await node('post.js', postEnv);
  const unmask = (log: string) =>
    log
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n');
  return {
    mainCode: main.code,
    postCode: post.code,
    log: unmask(main.log),
    postLog: unmask(post.log),
    outputs: readCommandFile(join(dir, 'output')),
    state,
    summary: readFileSync(join(dir, 'summary'), 'utf8'),
    credentialsAfterMain,
  };
}

function fixture(content: string, dockerfile?: string): Fixture {
  const f = makeFixtureRepo({ content, ...(dockerfile ? { dockerfile } : {}) });
  fixtures.push(f);
  return f;
}

/** Registry HTTP API v2, as a user would check it with curl. */
async function registryGet(reg: Registry, path: string, method = 'GET', auth = false): Promise<Response> {
  const headers: Record<string, string> = {
    accept:
      'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json',
  };
  if (auth) headers['authorization'] = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  return fetch(`http://${reg.host}/v2/${path}`, { method, headers });
}

async function registryTags(reg: Registry, repo: string, auth = false): Promise<string[]> {
  const res = await registryGet(reg, `${repo}/tags/list`, 'GET', auth);
  if (res.status === 404) return [];
  const body = (await res.json()) as { tags?: string[] | null };
  return (body.tags ?? []).sort();
}

async function registryDigest(reg: Registry, repo: string, tag: string, auth = false): Promise<string | null> {
  const res = await registryGet(reg, `${repo}/manifests/${tag}`, 'HEAD', auth);
  return res.status === 200 ? res.headers.get('docker-content-digest') : null;
}

/** The summary table's rows as [ref, digest, result] (cells' text, tags stripped). */
function summaryRows(summary: string): string[][] {
  return [...summary.matchAll(/<tr>(.*?)<\/tr>/gs)]
    .map((m) => [...m[1]!.matchAll(/<td>(.*?)<\/td>/gs)].map((c) => c[1]!.replace(/<[^>]+>/g, '')))
    .filter((cells) => cells.length > 0);
}

beforeAll(async () => {
  [dockerd, open, secured] = await Promise.all([startDockerd(), startRegistry(), startRegistry({ username: USER, password: PASSWORD })]);
  // What the runner downloads: action.yml and dist/, nothing else (no node_modules, no sources).
  actionDir = tempDir('action');
  cpSync(join(repoRoot, 'action.yml'), join(actionDir, 'action.yml'));
  cpSync(join(repoRoot, 'dist'), join(actionDir, 'dist'), { recursive: true });
  runnerRoot = tempDir('runner');
});

afterAll(async () => {
  await Promise.all([dockerd?.stop(), open?.stop(), secured?.stop()]);
  for (const f of fixtures) f.cleanup();
  for (const d of [actionDir, runnerRoot]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('the bundle', () => {
  it('is what the sources build, byte for byte (CI rebuilds dist/ and compares)', async () => {
    const out = tempDir('bundle');
    try {
      await run('node', ['scripts/bundle-action.mjs', out], { cwd: repoRoot });
      const files = readdirSync(join(repoRoot, 'dist')).sort();
      expect(readdirSync(out).sort()).toEqual(files);
      for (const f of files) expect(readFileSync(join(out, f)).equals(readFileSync(join(repoRoot, 'dist', f))), f).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('the Action in a workflow step', () => {
  it('a tag push v1.2.3 pushes 1.2.3, 1.2, 1 and latest, and reports refs and digests', async () => {
    const f = fixture('release 1.2.3');
    const image = `${open.host}/octo/tag-push`;
    const r = await runAction({ fixture: f, event: 'push', payload: tagPushPayload('v1.2.3', f.sha), ref: 'refs/tags/v1.2.3', inputs: { images: image } });
    expect(r.mainCode, r.log).toBe(0);

    const refs = ['1.2.3', '1.2', '1', 'latest'].map((t) => `${image}:${t}`);
    expect(r.outputs['tags']!.split('\n')).toEqual(refs);
    expect(r.outputs['version']).toBe('1.2.3');
    expect(r.outputs['digest']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.outputs['imageid']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.parse(r.outputs['json']!)).toEqual({
      images: [image],
      tags: ['1.2.3', '1.2', '1', 'latest'],
      refs,
      digest: r.outputs['digest'],
      imageId: r.outputs['imageid'],
      pushed: refs,
    });

    expect(await registryTags(open, 'octo/tag-push')).toEqual(['1', '1.2', '1.2.3', 'latest']);
    for (const t of ['1.2.3', '1.2', '1', 'latest']) expect(await registryDigest(open, 'octo/tag-push', t)).toBe(r.outputs['digest']);

    expect(summaryRows(r.summary)).toEqual(refs.map((ref) => [ref, r.outputs['digest'], 'pushed']));
    expect(r.summary).toContain('latest pushed last');
    expect(r.postCode).toBe(0);
  });

  it('images given comma-separated in mixed case are lowercased and each gets every tag, latest last', async () => {
    const f = fixture('two images');
    const r = await runAction({
      fixture: f,
      event: 'push',
      payload: tagPushPayload('v0.9.0', f.sha),
      ref: 'refs/tags/v0.9.0',
      inputs: { images: `${open.host}/Octo/Multi-A, ${open.host}/octo/multi-b` },
    });
    expect(r.mainCode, r.log).toBe(0);
    const pushed = r.outputs['tags']!.split('\n');
    expect([...pushed].sort()).toEqual(
      ['multi-a', 'multi-b'].flatMap((repo) => ['0.9.0', '0.9', '0', 'latest'].map((t) => `${open.host}/octo/${repo}:${t}`)).sort(),
    );
    expect(pushed.slice(-2).every((ref) => ref.endsWith(':latest'))).toBe(true);
    for (const repo of ['octo/multi-a', 'octo/multi-b']) {
      expect(await registryTags(open, repo)).toEqual(['0', '0.9', '0.9.0', 'latest']);
      expect(await registryDigest(open, repo, 'latest')).toBe(r.outputs['digest']);
    }
  });

  it('a backport v1.2.9 after 2.0.0 moves 1.2 and 1 but latest stays on 2.0.0, and the summary says why', async () => {
    const image = `${open.host}/octo/backport`;
    const newer = fixture('release 2.0.0');
    const first = await runAction({
      fixture: newer,
      event: 'push',
      payload: tagPushPayload('v2.0.0', newer.sha),
      ref: 'refs/tags/v2.0.0',
      inputs: { images: image },
    });
    expect(first.mainCode, first.log).toBe(0);

    const older = fixture('release 1.2.9');
    const r = await runAction({
      fixture: older,
      event: 'push',
      payload: tagPushPayload('v1.2.9', older.sha),
      ref: 'refs/tags/v1.2.9',
      inputs: { images: image },
    });
    expect(r.mainCode, r.log).toBe(0);
    expect(r.outputs['tags']!.split('\n')).toEqual(['1.2.9', '1.2', '1'].map((t) => `${image}:${t}`));
    expect(r.outputs['digest']).not.toBe(first.outputs['digest']);

    expect(await registryDigest(open, 'octo/backport', 'latest')).toBe(first.outputs['digest']);
    expect(await registryDigest(open, 'octo/backport', '2')).toBe(first.outputs['digest']);
    for (const t of ['1.2.9', '1.2', '1']) expect(await registryDigest(open, 'octo/backport', t)).toBe(r.outputs['digest']);
    expect(r.summary).toMatch(/latest<\/strong>: latest held: .*2\.0\.0.*1\.2\.9 is lower/);
  });

  it('platforms, provenance and sbom from a pasted build-push-action step: one index, two notices, labels and annotations outputs', async () => {
    const f = fixture('platforms', 'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "echo", "hi"]\n');
    const image = `${open.host}/octo/platforms`;
    const r = await runAction({
      fixture: f,
      event: 'push',
      payload: tagPushPayload('v3.0.0', f.sha),
      ref: 'refs/tags/v3.0.0',
      inputs: { images: image, platforms: 'linux/amd64,linux/arm64', provenance: 'mode=max', sbom: 'true' },
    });
    expect(r.mainCode, r.log).toBe(0);
    expect(r.log).toMatch(/::notice::provenance: "mode=max" is accepted but no provenance attestation is attached/);
    expect(r.log).toMatch(/::notice::sbom: "true" is accepted but no SBOM attestation is attached/);
    const doc = JSON.parse(r.outputs['json']!) as { digest: string; platforms: { platform: string; digest: string }[] };
    expect(doc.platforms.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(r.outputs['platforms']).toBe('linux/amd64,linux/arm64');
    expect(r.outputs['labels']!.split('\n')).toContain('org.opencontainers.image.version=3.0.0');
    expect(r.outputs['annotations']!.split('\n')).toEqual(
      expect.arrayContaining([
        'manifest:org.opencontainers.image.version=3.0.0',
        'index:org.opencontainers.image.version=3.0.0',
        `manifest:org.opencontainers.image.revision=${f.sha}`,
      ]),
    );
    const res = await fetch(`http://${open.host}/v2/octo/platforms/manifests/latest`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json' },
    });
    expect(res.headers.get('docker-content-digest')).toBe(doc.digest);
    expect(res.headers.get('content-type')).toMatch(/manifest\.list|image\.index/);
  });

  it('a pull request builds the image but pushes nothing', async () => {
    const f = fixture('pull request');
    const image = `${open.host}/octo/pull-request`;
    const r = await runAction({
      fixture: f,
      event: 'pull_request',
      payload: pullRequestPayload({ number: 7, headSha: f.sha }),
      ref: 'refs/pull/7/merge',
      inputs: { images: image },
    });
    expect(r.mainCode, r.log).toBe(0);
    expect(await registryTags(open, 'octo/pull-request')).toEqual([]);
    expect(JSON.parse(r.outputs['json']!)).toMatchObject({ tags: ['pr-7'], pushed: [] });
    expect(r.outputs['imageid']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(summaryRows(r.summary)).toEqual([[`${image}:pr-7`, '—', 'built, not pushed']]);
  });

  it('a pull request is tagged with the commit the workflow checked out, or its head with DOCKER_METADATA_PR_HEAD_SHA', async () => {
    const f = fixture('pull request sha');
    const image = `${open.host}/octo/pr-sha`;
    // actions/checkout checks out the merge commit (GITHUB_SHA); the PR's head is another commit.
    const head = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';
    const inputs = { images: image, tags: 'type=ref,event=pr\ntype=sha' };
    const merge = await runAction({
      fixture: f,
      event: 'pull_request',
      payload: pullRequestPayload({ number: 7, headSha: head }),
      ref: 'refs/pull/7/merge',
      inputs,
    });
    expect(merge.mainCode, merge.log).toBe(0);
    expect(JSON.parse(merge.outputs['json']!)).toMatchObject({ tags: [`sha-${f.sha.slice(0, 7)}`, 'pr-7'], pushed: [] });
    const headRun = await runAction({
      fixture: f,
      event: 'pull_request',
      payload: pullRequestPayload({ number: 7, headSha: head }),
      ref: 'refs/pull/7/merge',
      inputs,
      env: { DOCKER_METADATA_PR_HEAD_SHA: 'true' },
    });
    expect(headRun.mainCode, headRun.log).toBe(0);
    expect(JSON.parse(headRun.outputs['json']!)).toMatchObject({ tags: ['sha-ec26c3e', 'pr-7'], pushed: [] });
  });

  it('images lines take enable=false, and a flavor applies to the preset when tags is empty', async () => {
    const f = fixture('flavored preset');
    const image = `${open.host}/octo/flavored`;
    const r = await runAction({
      fixture: f,
      event: 'push',
      payload: tagPushPayload('v3.1.0', f.sha),
      ref: 'refs/tags/v3.1.0',
      inputs: { images: `name=${image}\nname=${open.host}/octo/disabled,enable=false`, flavor: 'suffix=-slim' },
    });
    expect(r.mainCode, r.log).toBe(0);
    expect(r.outputs['tags']!.split('\n')).toEqual(['3.1.0-slim', '3.1-slim', '3-slim', 'latest'].map((t) => `${image}:${t}`));
    expect(await registryTags(open, 'octo/flavored')).toEqual(['3-slim', '3.1-slim', '3.1.0-slim', 'latest']);
    expect(await registryTags(open, 'octo/disabled')).toEqual([]);
  });

  it('a manual run (workflow_dispatch) on a tag plans from GITHUB_REF and GITHUB_SHA like a push of it', async () => {
    const f = fixture('dispatched');
    const image = `${open.host}/octo/dispatch`;
    const payload = example('workflow_dispatch', () => true);
    payload['ref'] = 'refs/tags/v4.0.0';
    const r = await runAction({ fixture: f, event: 'workflow_dispatch', payload, ref: 'refs/tags/v4.0.0', inputs: { images: image } });
    expect(r.mainCode, r.log).toBe(0);
    expect(r.outputs['tags']!.split('\n')).toEqual(['4.0.0', '4.0', '4', 'latest'].map((t) => `${image}:${t}`));
    expect(await registryTags(open, 'octo/dispatch')).toEqual(['4', '4.0', '4.0.0', 'latest']);
  });

  it('metadata-action tags lines, labels and build-args reach the image built', async () => {
    const dockerfile = [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
      'ARG GREETING=unset',
      'RUN echo "$GREETING" > /hello.txt',
      'CMD ["/bin/sh", "-c", "cat /hello.txt"]',
      '',
    ].join('\n');
    const f = fixture('metadata', dockerfile);
    const image = `${open.host}/octo/metadata`;
    const r = await runAction({
      fixture: f,
      event: 'push',
      payload: tagPushPayload('v2.5.1', f.sha),
      ref: 'refs/tags/v2.5.1',
      inputs: {
        images: image,
        tags: 'type=semver,pattern={{major}}.{{minor}}\ntype=sha',
        'build-args': 'GREETING=hello from build-args',
        labels: 'org.example.team=images\norg.example.note=a=b',
        push: 'false',
      },
    });
    expect(r.mainCode, r.log).toBe(0);
    const sha7 = f.sha.slice(0, 7);
    expect(JSON.parse(r.outputs['json']!)).toMatchObject({ tags: [`sha-${sha7}`, '2.5', 'latest'], pushed: [] });
    expect(await registryTags(open, 'octo/metadata')).toEqual([]);

    const env = { ...process.env, DOCKER_HOST: dockerd.host };
    // Not pushed: the image stays in the runner's engine, found by the `imageid` output.
    const inspect = await run('docker', ['image', 'inspect', '--format', '{{json .Config.Labels}}', r.outputs['imageid']!], { env });
    expect(JSON.parse(inspect.stdout)).toMatchObject({ 'org.example.team': 'images', 'org.example.note': 'a=b' });
    const out = await run('docker', ['run', '--rm', '--network', 'none', r.outputs['imageid']!], { env });
    expect(out.stdout.trim()).toBe('hello from build-args');
  });

  it('Docker Hub rules in `rules` tag a release-7 git tag as 7 and stable with preset none', async () => {
    const f = fixture('rules');
    const image = `${open.host}/octo/rules`;
    const r = await runAction({
      fixture: f,
      event: 'push',
      payload: tagPushPayload('release-7', f.sha),
      ref: 'refs/tags/release-7',
      inputs: {
        images: image,
        preset: 'none',
        push: 'false',
        rules: "- {sourceType: tag, source: '/^release-([0-9]+)$/', tag: '{\\1}'}\n- {sourceType: tag, source: '/^release-.*$/', tag: stable}\n",
      },
    });
    expect(r.mainCode, r.log).toBe(0);
    expect([...JSON.parse(r.outputs['json']!).tags].sort()).toEqual(['7', 'stable']);
  });

  it('a push to a feature branch builds nothing, and the summary says why', async () => {
    const f = fixture('feature branch');
    const payload = example('push', (e) => String(e['ref']).startsWith('refs/heads/'));
    payload['ref'] = 'refs/heads/feature/login';
    payload['after'] = f.sha;
    payload['head_commit'].id = f.sha;
    const r = await runAction({ fixture: f, event: 'push', payload, ref: 'refs/heads/feature/login', inputs: { images: `${open.host}/octo/feature` } });
    expect(r.mainCode, r.log).toBe(0);
    expect(r.outputs['tags']).toBe('');
    expect(r.log).toMatch(/::notice::nothing to build: .*feature\/login/);
    expect(r.summary).toContain('Nothing to build for this event.');
    expect(r.summary).toMatch(/<li>.*feature\/login.*<\/li>/);
    expect(await registryTags(open, 'octo/feature')).toEqual([]);
  });

  it('an authenticated registry gets the push, and the password appears in no log, output or summary', async () => {
    const f = fixture('authenticated');
    const image = `${secured.host}/octo/private`;
    const r = await runAction({
      fixture: f,
      event: 'push',
      payload: tagPushPayload('v3.1.0', f.sha),
      ref: 'refs/tags/v3.1.0',
      inputs: { images: image, username: USER, password: PASSWORD },
    });
    expect(r.mainCode, r.log).toBe(0);
    expect(await registryTags(secured, 'octo/private', true)).toEqual(['3', '3.1', '3.1.0', 'latest']);
    expect(await registryDigest(secured, 'octo/private', 'latest', true)).toBe(r.outputs['digest']);
    for (const text of [r.log, r.postLog, r.summary, JSON.stringify(r.outputs), JSON.stringify(r.state)]) {
      expect(text).not.toContain(PASSWORD);
    }
    // The login lived in a private DOCKER_CONFIG under RUNNER_TEMP that post removed.
    expect(r.credentialsAfterMain).toBe(true);
    expect(existsSync(r.state['credentials-dir']!)).toBe(false);
    expect(r.postCode).toBe(0);
  });

  it('builder: buildah pushes the same tags with no docker engine, and post removes its login', async () => {
    // buildah's images go to a storage of this test's own, removed with the runner directory.
    const storage = join(runnerRoot, 'buildah-storage');
    mkdirSync(storage, { recursive: true });
    const conf = join(storage, 'storage.conf');
    writeFileSync(conf, `[storage]\ndriver = "vfs"\nrunroot = "${join(storage, 'run')}"\ngraphroot = "${join(storage, 'graph')}"\n`);
    const f = fixture('buildah');
    const image = `${secured.host}/octo/buildah`;
    const r = await runAction({
      fixture: f,
      event: 'push',
      payload: tagPushPayload('v5.0.0', f.sha),
      ref: 'refs/tags/v5.0.0',
      inputs: { images: image, username: USER, password: PASSWORD, builder: 'buildah' },
      env: { DOCKER_HOST: undefined, CONTAINERS_STORAGE_CONF: conf },
    });
    expect(r.mainCode, r.log).toBe(0);
    expect(r.outputs['tags']!.split('\n')).toEqual(['5.0.0', '5.0', '5', 'latest'].map((t) => `${image}:${t}`));
    for (const t of ['5.0.0', '5.0', '5', 'latest']) expect(await registryDigest(secured, 'octo/buildah', t, true)).toBe(r.outputs['digest']);
    expect(r.log).not.toContain(PASSWORD);
    expect(r.credentialsAfterMain).toBe(true);
    expect(existsSync(r.state['credentials-dir']!)).toBe(false);
    expect(r.postCode).toBe(0);
  });

  it('a wrong password fails the step at login with one line naming the inputs, before any build', async () => {
    const f = fixture('wrong password');
    const wrong = 'Not-The-Right-Pa55word';
    const r = await runAction({
      fixture: f,
      event: 'push',
      payload: tagPushPayload('v1.0.0', f.sha),
      ref: 'refs/tags/v1.0.0',
      inputs: { images: `${secured.host}/octo/wrong-password`, username: USER, password: wrong },
    });
    expect(r.mainCode).toBe(1);
    const errors = r.log.split('\n').filter((l) => l.startsWith('::error::'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^::error::registry login to 127\.0\.0\.1:\d+ as ci-bot failed: .*401.* — check the `username` and `password` inputs/);
    expect(r.log).not.toContain(wrong);
    expect(r.log).not.toMatch(/Step 1\/\d+ : FROM/);
    expect(r.credentialsAfterMain).toBe(true);
    expect(existsSync(r.state['credentials-dir']!)).toBe(false);
  });

  it('a failing build fails the step with one line, and post still deletes the credentials', async () => {
    const broken = busyboxDockerfile('broken').replace('RUN echo', 'RUN /bin/busybox false && echo');
    const f = fixture('broken', broken);
    const image = `${secured.host}/octo/broken`;
    const r = await runAction({
      fixture: f,
      event: 'push',
      payload: tagPushPayload('v1.0.0', f.sha),
      ref: 'refs/tags/v1.0.0',
      inputs: { images: image, username: USER, password: PASSWORD },
    });
    expect(r.mainCode).toBe(1);
    const errors = r.log.split('\n').filter((l) => l.startsWith('::error::'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^::error::docker build .* failed with exit code 1 .*\(last output: .*(non-zero code|exit code): 1\)$/);
    expect(r.log).not.toContain(PASSWORD);
    expect(await registryTags(secured, 'octo/broken', true)).toEqual([]);
    expect(summaryRows(r.summary).map((row) => row[2])).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(r.summary).toContain('the build failed first');
    expect(r.credentialsAfterMain).toBe(true);
    expect(existsSync(r.state['credentials-dir']!)).toBe(false);
    expect(r.postCode).toBe(0);
  });

  // One row per mistake a user makes in the step's `with:`; nothing is built, post has nothing to do.
  it.each([
    {
      mistake: 'push is not a boolean',
      inputs: { push: 'maybe' },
      error: 'input `push` is "maybe", not a boolean — set `push:` to true or false, or leave it empty',
    },
    {
      mistake: 'images is empty',
      inputs: { images: ' ' },
      error: 'input `images` is empty — set `images:` to at least one image name, e.g. ghcr.io/owner/app',
    },
    {
      mistake: 'every image is disabled',
      inputs: { images: 'name=ghcr.io/octo/app,enable=false' },
      error: 'every line of input `images` has enable=false — enable at least one image, or skip the step with `if:`',
    },
    {
      mistake: 'an images line has an unknown attribute',
      inputs: { images: 'name=ghcr.io/octo/app,colour=red' },
      error: 'images line "name=ghcr.io/octo/app,colour=red": unknown attribute "colour" — write name=IMAGE and optionally enable=true|false',
    },
    {
      mistake: 'an image carries a tag',
      inputs: { images: 'ghcr.io/octo/app:1.0' },
      error:
        'input `images`: image "ghcr.io/octo/app:1.0" must not include a tag or digest — write just "ghcr.io/octo/app"; tags come from `tags`, `preset` or `rules`',
    },
    { mistake: 'preset is unknown', inputs: { preset: 'calver' }, error: 'input `preset` is "calver" — use semver, dockerhub or none' },
    {
      mistake: 'a build-args line has no =',
      inputs: { 'build-args': 'VERSION' },
      error: 'input `build-args`: line "VERSION" is not KEY=VALUE — write one KEY=VALUE per line under `build-args:`',
    },
    {
      mistake: 'a rule has an unknown key',
      inputs: { rules: '- {sourceType: tag, source: v1, tag: one, dockerfil: x}' },
      error: /^input `rules\[0\]\.dockerfil`: unknown key — did you mean "dockerfile"\?/,
    },
    {
      mistake: 'a rule has a bad sourceType',
      inputs: { rules: '- {sourceType: release, source: v1, tag: one}' },
      error: /^input `rules\[0\]\.sourceType`: .*branch.*tag/,
    },
    {
      mistake: 'a password without a username',
      inputs: { password: 'Some-Pa55word' },
      error: 'input `password` is set but `username` is empty — set `username:` for the registry login too',
    },
  ] as { mistake: string; inputs: Record<string, string>; error: string | RegExp }[])(
    'a bad input fails the step with one line naming it and the fix: $mistake',
    async ({ inputs, error }) => {
      const f = fixture('bad input');
      const r = await runAction({
        fixture: f,
        event: 'push',
        payload: tagPushPayload('v1.0.0', f.sha),
        ref: 'refs/tags/v1.0.0',
        inputs: { images: `${open.host}/octo/bad-input`, ...inputs },
      });
      expect(r.mainCode).toBe(1);
      const errors = r.log
        .split('\n')
        .filter((l) => l.startsWith('::error::'))
        .map((l) => l.slice('::error::'.length));
      expect(errors).toHaveLength(1);
      if (typeof error === 'string') expect(errors[0]).toBe(error);
      else expect(errors[0]).toMatch(error);
      expect(r.log).not.toMatch(/^\s+at /m);
      expect(r.state).toEqual({});
      expect(r.postCode).toBe(0);
    },
  );

  // The runner always writes the event file; a broken one is a set-up mistake, told in one line.
  it.each([
    {
      problem: 'names a file that does not exist',
      file: () => join(runnerRoot, 'no-such-event.json'),
      error: /^GITHUB_EVENT_PATH \S+no-such-event\.json does not exist — run autobuild as a step of a GitHub Actions workflow/,
    },
    {
      problem: 'is not JSON',
      file: () => {
        const p = join(runnerRoot, 'not-json.json');
        writeFileSync(p, 'ref: refs/tags/v1.0.0\n');
        return p;
      },
      error: /^GITHUB_EVENT_PATH \S+not-json\.json is not valid JSON \(.*\) — point GITHUB_EVENT_PATH at the webhook payload/,
    },
  ])('a GITHUB_EVENT_PATH that $problem fails the step with one line and no stack trace', async ({ file, error }) => {
    const f = fixture('bad event file');
    const r = await runAction({
      fixture: f,
      event: 'push',
      payload: tagPushPayload('v1.0.0', f.sha),
      ref: 'refs/tags/v1.0.0',
      inputs: { images: `${open.host}/octo/bad-event` },
      env: { GITHUB_EVENT_PATH: file() },
    });
    expect(r.mainCode).toBe(1);
    const errors = r.log
      .split('\n')
      .filter((l) => l.startsWith('::error::'))
      .map((l) => l.slice('::error::'.length));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(error);
    expect(r.log).not.toMatch(/^\s+at |SyntaxError/m);
    expect(await registryTags(open, 'octo/bad-event')).toEqual([]);
    expect(r.postCode).toBe(0);
  });
});

describe('Autotest in the Action', () => {
  const sut = [
    'services:',
    '  sut:',
    '    build: .',
    '    environment: [API_KEY]',
    '    command: ["/bin/sh", "-c", "echo sut key=$${API_KEY:-none}; test -n \\"$$API_KEY\\""]',
    '',
  ].join('\n');

  it('test: auto runs sut with the workflow env before pushing; a failing sut pushes nothing; test: false skips it', async () => {
    const f = makeFixtureRepo({ content: 'action autotest', files: { 'docker-compose.test.yml': sut } });
    fixtures.push(f);
    const image = `${open.host}/octo/action-autotest`;
    const push = (tag: string) => ({ fixture: f, event: 'push', payload: tagPushPayload(tag, f.sha), ref: `refs/tags/${tag}` });

    const failed = await runAction({ ...push('v1.0.0'), inputs: { images: image } });
    expect(failed.mainCode).toBe(1);
    expect(failed.log).toContain('sut key=none');
    expect(failed.log).toMatch(/::error::tests failed: sut in docker-compose\.test\.yml exited with code 1/);
    expect(await registryTags(open, 'octo/action-autotest')).toEqual([]);

    const value = `workflow-env-${Math.random().toString(36).slice(2)}`;
    const passed = await runAction({ ...push('v1.0.1'), inputs: { images: image }, env: { API_KEY: value } });
    expect(passed.mainCode, passed.log).toBe(0);
    expect(passed.log).toContain(`sut key=${value}`);
    expect(await registryTags(open, 'octo/action-autotest')).toEqual(['1', '1.0', '1.0.1', 'latest']);

    const skipped = await runAction({ ...push('v1.0.2'), inputs: { images: image, test: 'false' } });
    expect(skipped.mainCode, skipped.log).toBe(0);
    expect(skipped.log).not.toContain('sut key=');
    expect(await registryTags(open, 'octo/action-autotest')).toContain('1.0.2');
  });

  it('a bad test input is one line naming it', async () => {
    const f = fixture('bad test input');
    const r = await runAction({
      fixture: f,
      event: 'push',
      payload: tagPushPayload('v1.0.0', f.sha),
      ref: 'refs/tags/v1.0.0',
      inputs: { images: `${open.host}/octo/x`, test: 'sometimes' },
    });
    expect(r.mainCode).toBe(1);
    expect(r.log).toContain('::error::input `test` is "sometimes" — use auto (run *.test.yml when present) or false');
  });
});
