// plan(): one GitHub event + the repository's configuration + the registry's tags -> the builds
// to run and, for everything not built, why. Pure: the same input gives the same plan in the
// service, the CLI and the Action.
import { applyRules, dockerhubPresetTags, type RuleSource } from './dockerhub-rules.js';
import { PR_BUILD_ACTIONS } from './events.js';
import { forgeSkipReason } from './forge-events.js';
import { applyFlavor, parseFlavor } from './metadata-flavor.js';
import { evaluateTags, parseTags } from './metadata-tags.js';
import { filterPaths } from './paths-filter.js';
import { withTag } from './references.js';
import { classifyTag, decideTags, orderTags, parseVersion, semverPresetTags } from './semver-tags.js';
import { sanitizeTag } from './tag-names.js';
import type { BuildableEvent, OtherEvent, Plan, PlannedBuild, PullRequestEvent, PushEvent, RepositoryConfig, Skip, SourceEvent, TagInfo } from './types.js';

export interface PlanInput {
  event: SourceEvent;
  /** Keys `owner/name`, matched case-insensitively. */
  repositories: Record<string, RepositoryConfig>;
  /** Tags already in the registry (union over the images). */
  existingTags?: string[];
  /** A Docker Hub remote trigger: rules with `autobuild: false` apply too. */
  manual?: boolean;
}

/** Tags asked for by one source (preset, rule, tags lines), with the build settings it wants. */
interface Candidate {
  tags: TagInfo[];
  /** Who asked, for skip reasons: `preset semver`, `rules[0] (tag /.../)`, `tags`. */
  origin: string;
  dockerfile: string;
  context: string;
  buildArgs: Record<string, string>;
  platforms?: string[];
  target?: string;
}

const PR_ACTIONS = [...PR_BUILD_ACTIONS].join(', ');

export function plan(input: PlanInput): Plan {
  const { event } = input;
  const skipped: Skip[] = [];
  const ref = event.kind === 'ping' ? undefined : event.ref;
  const skip = (reason: string, extra: Partial<Skip> = {}): void => {
    skipped.push({ reason, ...(event.repository ? { repository: event.repository } : {}), ...(ref ? { ref } : {}), ...extra });
  };

  if (event.kind === 'ping') {
    skip('ping: GitHub is checking the webhook; there is nothing to build');
    return { builds: [], skipped };
  }
  const found = findRepository(input.repositories, event.repository);
  if (!found) {
    const name = event.repository ?? '(no repository in the payload)';
    skip(`repository ${name} is not configured — add it under repositories: in autobuild.yml (repositories.${name}.image)`);
    return { builds: [], skipped };
  }
  const [repository, config] = found;

  if (event.kind === 'other') {
    skip(unsupportedReason(event));
    return { builds: [], skipped };
  }
  if (event.kind === 'push' && event.deleted) {
    skip(`${event.refType} ${JSON.stringify(event.refName)} was deleted; nothing to build`);
    return { builds: [], skipped };
  }
  if (event.kind === 'push' && event.refType === 'branch') {
    const paths = filterPaths(config.paths, event.changedFiles);
    if (!paths.build) {
      skip(paths.reason ?? 'paths filter');
      return { builds: [], skipped };
    }
  }

  let candidates = event.kind === 'pull_request' ? pullRequestCandidates(config, event, skip) : pushCandidates(config, event, input.manual === true, skip);
  if (!hasTagLines(config) && config.flavor.trim() !== '') {
    const flavor = parseFlavor(config.flavor);
    candidates = candidates.map((c, i) => ({ ...c, tags: applyFlavor(c.tags, flavor, i === 0) }));
  }
  const builds = mergeCandidates(candidates, skip).flatMap((c) => {
    const build = toBuild(repository, config, event, c, input.existingTags ?? [], skip);
    return build ? [build] : [];
  });
  return { builds, skipped };
}

function findRepository(repositories: Record<string, RepositoryConfig>, name: string | undefined): [string, RepositoryConfig] | undefined {
  if (name === undefined) return undefined;
  const wanted = name.toLowerCase();
  const key = Object.keys(repositories).find((k) => k.toLowerCase() === wanted);
  const config = key === undefined ? undefined : repositories[key];
  return key === undefined || config === undefined ? undefined : [key, config];
}

/** Why an event that is neither a push nor a pull request to build builds nothing. */
function unsupportedReason(event: OtherEvent): string {
  // GitHub's event names below mean something else, or nothing, to another forge.
  if (event.forge !== undefined) return forgeSkipReason(event.forge, event);
  if (event.name === 'pull_request') {
    return `pull_request action ${JSON.stringify(event.action ?? '')} is not built — only ${PR_ACTIONS} are`;
  }
  if (event.name === 'push') return `push of ${JSON.stringify(event.ref ?? '')} is neither a branch nor a tag; nothing to build`;
  return `event ${JSON.stringify(event.name)}${event.action ? ` (action ${event.action})` : ''} is not built — only push and pull_request are`;
}

function baseCandidate(config: RepositoryConfig, origin: string, tags: TagInfo[]): Candidate {
  return {
    tags,
    origin,
    dockerfile: config.dockerfile,
    context: config.context,
    buildArgs: { ...config.buildArgs },
    ...(config.platforms ? { platforms: config.platforms } : {}),
    ...(config.target ? { target: config.target } : {}),
  };
}

function hasTagLines(config: RepositoryConfig): boolean {
  return config.tags.trim() !== '';
}

/** Pull requests build `pr-<number>` (never pushed); with `tags` lines, only type=ref,event=pr does. */
function pullRequestCandidates(config: RepositoryConfig, event: PullRequestEvent, skip: (r: string) => void): Candidate[] {
  if (hasTagLines(config)) {
    const result = evaluateTags(parseTags(config.tags), event, parseFlavor(config.flavor));
    if (result.tags.length === 0) {
      skip(`tags: no line gives a tag for pull request #${event.prNumber} — add type=ref,event=pr`);
      return [];
    }
    return [baseCandidate(config, 'tags', result.tags)];
  }
  return [baseCandidate(config, 'pull request', [{ tag: `pr-${event.prNumber}`, kind: 'moving' }])];
}

function pushCandidates(config: RepositoryConfig, event: PushEvent, manual: boolean, skip: (r: string, extra?: Partial<Skip>) => void): Candidate[] {
  const { refType, refName: name } = event;
  if (hasTagLines(config)) {
    const result = evaluateTags(parseTags(config.tags), event, parseFlavor(config.flavor));
    if (result.tags.length === 0) {
      skip(`tags: no line gives a tag for ${refType} ${JSON.stringify(name)}`);
      return [];
    }
    return [baseCandidate(config, 'tags', result.tags)];
  }

  const version = refType === 'tag' ? parseVersion(name)?.version : undefined;
  const classify = (tag: string) => classifyTag({ tag, fixed: refType === 'tag', ...(version ? { version } : {}) });
  const candidates: Candidate[] = [];
  let presetReason: string | undefined;

  if (config.preset === 'semver') {
    if (refType === 'tag') {
      candidates.push(baseCandidate(config, 'preset semver', semverPresetTags(name) ?? [{ tag: name, kind: 'immutable' }]));
    } else if (name === event.defaultBranch) {
      candidates.push(baseCandidate(config, 'preset semver', [{ tag: 'edge', kind: 'moving' }]));
    } else {
      presetReason = `preset semver builds only the default branch${event.defaultBranch ? ` (${JSON.stringify(event.defaultBranch)})` : ''} and tags, not branch ${JSON.stringify(name)} — add a rule with sourceType: branch to build it`;
    }
  } else if (config.preset === 'dockerhub') {
    const preset = dockerhubPresetTags({ refType, name }, event.defaultBranch);
    if ('tags' in preset) candidates.push(baseCandidate(config, 'preset dockerhub', preset.tags.map(classify)));
    else presetReason = preset.reason;
  }

  const source: RuleSource = { refType, name, manual };
  for (const outcome of applyRules(config.rules, source)) {
    if (!outcome.matched) {
      skip(outcome.reason, { rule: outcome.label });
      continue;
    }
    const { rule } = outcome;
    candidates.push({
      tags: outcome.tags.map(classify),
      origin: outcome.label,
      dockerfile: rule.dockerfile ?? config.dockerfile,
      context: rule.context ?? config.context,
      buildArgs: { ...config.buildArgs, ...rule.buildArgs },
      ...((rule.platforms ?? config.platforms) ? { platforms: rule.platforms ?? config.platforms } : {}),
      ...((rule.target ?? config.target) ? { target: rule.target ?? config.target } : {}),
    });
  }

  if (candidates.length === 0) {
    if (presetReason) skip(presetReason);
    else if (config.rules.length === 0)
      skip(`preset none and no rules: nothing builds ${refType} ${JSON.stringify(name)} — add a rule or choose preset semver or dockerhub`);
  }
  return candidates;
}

/** Sanitise every tag and merge sources that build the same thing (context, dockerfile, args). */
function mergeCandidates(candidates: Candidate[], skip: (r: string) => void): Candidate[] {
  const merged = new Map<string, Candidate>();
  for (const c of candidates) {
    const tags: TagInfo[] = [];
    for (const info of c.tags) {
      const tag = sanitizeTag(info.tag);
      if (tag === '') {
        skip(`${c.origin}: tag ${JSON.stringify(info.tag)} has no characters a tag may hold, so it was dropped`);
        continue;
      }
      tags.push({ ...info, tag });
    }
    if (tags.length === 0) continue;
    const args = Object.keys(c.buildArgs)
      .sort()
      .map((k) => [k, c.buildArgs[k]]);
    const key = JSON.stringify([c.context, c.dockerfile, args, c.platforms ?? null, c.target ?? null]);
    const into = merged.get(key);
    if (into) into.tags.push(...tags);
    else merged.set(key, { ...c, tags });
  }
  return [...merged.values()].map((c) => ({
    ...c,
    // The first source to ask for a tag decides its kind; later duplicates add nothing.
    tags: c.tags.filter((t, i) => c.tags.findIndex((u) => u.tag === t.tag) === i),
  }));
}

function toBuild(
  repository: string,
  config: RepositoryConfig,
  event: BuildableEvent,
  c: Candidate,
  existingTags: string[],
  skip: (r: string) => void,
): PlannedBuild | undefined {
  const { keep, held } = decideTags(orderTags(c.tags), existingTags);
  for (const h of held) skip(`${h.reason} (already in the registry)`);
  if (keep.length === 0) return undefined;
  const tags = keep.map((t) => t.tag);
  const version = event.refType === 'tag' ? parseVersion(event.refName)?.version : undefined;
  const tagVersion = version ?? keep.find((t) => t.version !== undefined)?.version;
  const cloneUrl = config.cloneUrl ?? event.cloneUrl;
  return {
    repository,
    ref: event.ref,
    sha: event.sha,
    images: [...config.images],
    context: c.context,
    dockerfile: c.dockerfile,
    buildArgs: c.buildArgs,
    labels: { ...config.labels },
    tags,
    refs: tags.flatMap((tag) => config.images.map((image) => withTag(image, tag))),
    // Pull requests are built, never pushed; an untrusted build pushes nothing whatever its ref.
    push: event.kind === 'push' && event.trusted,
    trusted: event.trusted,
    tagInfo: keep,
    ...(tagVersion ? { version: tagVersion } : {}),
    ...(event.refType === 'branch' && event.refName === event.defaultBranch ? { isDefaultBranch: true as const } : {}),
    ...(cloneUrl ? { cloneUrl } : {}),
    ...(event.commitMessage !== undefined ? { commitMessage: event.commitMessage } : {}),
    ...(c.platforms ? { platforms: c.platforms } : {}),
    ...(c.target ? { target: c.target } : {}),
    ...(config.pull ? { pull: true } : {}),
    ...(config.noCache ? { noCache: true } : {}),
    ...(config.cacheFrom ? { cacheFrom: config.cacheFrom } : {}),
    ...(config.cacheTo ? { cacheTo: config.cacheTo } : {}),
  };
}
