import type { FastifyInstance } from 'fastify';
import { resolveRemoteRef, type RemoteTarget } from '../adapters/git-remote.js';
import { BuildError, isUserError, UserError } from '../core/errors.js';
import { targetsForDockerTag } from '../core/dockerhub-rules.js';
import { checkRefName, eventFromRef } from '../core/events.js';
import type { ForgeConfig } from '../core/forges.js';
import type { CloneCredentials } from '../core/config.js';
import type { Secret } from '../core/secret.js';
import type { RepositoryConfig } from '../core/types.js';
import { sameSecret } from './auth/access-rule.js';
import { countWrongToken, refuseGuesser } from './auth/http-auth.js';
import { cloneSource } from './clone-source.js';
import type { Intake } from './intake.js';

// POST /api/trigger/<token>: Docker Hub's remote build trigger. The token in the path is the
// credential (compared in constant time with each repository's triggerToken); the body names
// what to build, which is resolved to a commit with `git ls-remote` and planned as a manual push.

export interface TriggerOptions {
  intake: Intake;
  /** Each repository's triggerToken, keyed like `repositories`. */
  triggerTokens: Record<string, Secret>;
  /** Credentials cut out of configured clone URLs, keyed like `repositories`. */
  cloneCredentials?: Record<string, CloneCredentials>;
  githubToken?: Secret;
  /** `HOST/PATH` repositories resolve their refs on their forge, with its token. */
  forges?: Record<string, ForgeConfig>;
}

interface TriggerBody {
  source_type?: unknown;
  source_name?: unknown;
  docker_tag?: unknown;
  build?: unknown;
}

function targetsOf(body: TriggerBody, repo: RepositoryConfig): RemoteTarget[] {
  if (typeof body.source_type === 'string' || body.source_name !== undefined) {
    const type = typeof body.source_type === 'string' ? body.source_type.toLowerCase() : '';
    if (type !== 'branch' && type !== 'tag')
      throw new UserError(
        `source_type must be "Branch" or "Tag", not ${JSON.stringify(body.source_type)}`,
        'send {"source_type":"Branch","source_name":"main"}',
      );
    if (typeof body.source_name !== 'string' || body.source_name === '')
      throw new UserError('source_name is missing', 'send the branch or tag name as source_name');
    // Checked before it reaches git: a name git would refuse is the sender's mistake (400), not git's (502).
    return [{ kind: type, name: checkRefName(body.source_name, 'source_name', 'send a branch or tag name, e.g. main or v1.2.3') }];
  }
  if (body.docker_tag !== undefined) {
    if (typeof body.docker_tag !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(body.docker_tag)) {
      throw new UserError('docker_tag must be a tag name ([A-Za-z0-9_][A-Za-z0-9_.-], at most 128 characters)', 'send {"docker_tag":"latest"}');
    }
    const targets = targetsForDockerTag(repo.rules, body.docker_tag);
    if (targets.length === 0)
      throw new UserError(`no rule of this repository produces the tag ${JSON.stringify(body.docker_tag)}`, 'send source_type and source_name instead');
    return targets;
  }
  if (body.build === true) return [{ kind: 'default' }];
  throw new UserError('the body names nothing to build', 'send {"build":true}, {"docker_tag":"..."} or {"source_type":"Branch"|"Tag","source_name":"..."}');
}

export async function registerTrigger(app: FastifyInstance, opts: TriggerOptions): Promise<void> {
  app.post<{ Params: { token: string } }>('/api/trigger/:token', async (request, reply) => {
    if (refuseGuesser(request, reply)) return reply;
    // Compare with every token, not stopping at a match, so timing says nothing about which matched.
    let repository: string | undefined;
    for (const [name, token] of Object.entries(opts.triggerTokens)) {
      if (!token.empty && sameSecret(request.params.token, token)) repository ??= name;
    }
    const repo = repository === undefined ? undefined : opts.intake.repositories[repository];
    if (repository === undefined || !repo) {
      countWrongToken(request);
      return reply.code(404).send({ error: 'unknown trigger token' });
    }
    const body = (request.body && typeof request.body === 'object' ? request.body : {}) as TriggerBody;
    const source = cloneSource(
      { forges: opts.forges ?? {}, github: opts.githubToken ? { token: opts.githubToken } : {}, cloneCredentials: opts.cloneCredentials ?? {} },
      repository,
      repo,
      `https://github.com/${repository}.git`,
    );
    const cloneUrl = source.cloneUrl!;
    const token = source.token;

    let resolved;
    try {
      const targets = targetsOf(body, repo);
      let lastError: unknown;
      for (const target of targets) {
        try {
          resolved = await resolveRemoteRef(cloneUrl, target, token ? { token } : {});
          break;
        } catch (err) {
          lastError = err;
        }
      }
      if (!resolved) throw lastError;
    } catch (err) {
      if (isUserError(err)) return reply.code(400).send({ error: err.message });
      if (err instanceof BuildError) return reply.code(502).send({ error: err.message });
      throw err;
    }

    const event = eventFromRef({
      name: 'push',
      ref: resolved.ref,
      sha: resolved.sha,
      repository,
      ...(resolved.defaultBranch ? { defaultBranch: resolved.defaultBranch } : {}),
      payload: { repository: { full_name: repository, clone_url: cloneUrl, default_branch: resolved.defaultBranch } },
    });
    const planned = await opts.intake.plan(event, true);
    let ids: string[];
    try {
      ids = await opts.intake.accept(planned, 'trigger');
    } catch (err) {
      request.log.warn({ error: (err as Error).message }, 'could not queue the triggered build');
      return reply.code(503).send({ error: 'the build queue (Redis) is unavailable; try again later' });
    }
    return reply.code(202).send({ builds: ids, skipped: planned.skipped });
  });
}
