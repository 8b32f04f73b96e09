// The step's outputs from the build results, shaped like `autobuild build --json` so a workflow
// can use either. With several builds (rules with different Dockerfiles), `tags` lists them all
// and `json` is a list of documents; `digest`/`imageid`/`version` are the first build's.
import * as core from '@actions/core';
import type { BuildResult } from '../pipeline/pipeline.js';
import type { PlannedBuild } from '../core/types.js';

/** `build --json`: the result without the pipeline's `held` detail. */
type BuildDocument = Omit<BuildResult, 'held' | 'labels'>;

export interface ActionOutputs {
  tags: string;
  version: string;
  digest: string;
  imageid: string;
  json: string;
  /** docker/metadata-action's `labels`: KEY=VALUE lines, as the image got them. */
  labels: string;
  /** docker/metadata-action's `annotations`: `manifest:KEY=VALUE` lines (and `index:` for an index). */
  annotations: string;
  /** The platforms of the first build, comma-separated (empty: the engine's own). */
  platforms: string;
}

/** The `build --json` document of one result (README "Commands", `autobuild build`). */
function buildDocument(r: BuildResult): BuildDocument {
  return {
    images: r.images,
    tags: r.tags,
    refs: r.refs,
    digest: r.digest,
    imageId: r.imageId,
    pushed: r.pushed,
    ...(r.platforms ? { platforms: r.platforms } : {}),
  };
}

export function actionOutputs(done: { build: PlannedBuild; result: BuildResult }[]): ActionOutputs {
  const first = done[0];
  // Push order; when not pushing, the refs the image was tagged with locally.
  const refs = done.flatMap(({ build, result }) => (build.push ? result.pushed : result.refs));
  const docs = done.map(({ result }) => buildDocument(result));
  return {
    tags: refs.join('\n'),
    version: first?.build.version ?? '',
    digest: first?.result.digest ?? '',
    imageid: first?.result.imageId ?? '',
    json: docs.length === 1 ? JSON.stringify(docs[0]) : JSON.stringify(docs),
    ...metadataOutputs(first),
  };
}

/** labels/annotations as docker/metadata-action writes them, so later steps can pass them on. */
function metadataOutputs(first: { build: PlannedBuild; result: BuildResult } | undefined): Pick<ActionOutputs, 'labels' | 'annotations' | 'platforms'> {
  const labels = Object.entries(first?.result.labels ?? {});
  const levels = first?.build.platforms?.length ? ['manifest', 'index'] : ['manifest'];
  return {
    labels: labels.map(([k, v]) => `${k}=${v}`).join('\n'),
    annotations: levels.flatMap((level) => labels.filter(([k]) => k.startsWith('org.opencontainers.image.')).map(([k, v]) => `${level}:${k}=${v}`)).join('\n'),
    platforms: first?.build.platforms?.join(',') ?? '',
  };
}

export function setOutputs(outputs: ActionOutputs): void {
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value);
}
