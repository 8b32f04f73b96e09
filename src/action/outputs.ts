// The step's outputs from the build results, shaped like `autobuild build --json` so a workflow
// can use either. With several builds (rules with different Dockerfiles), `tags` lists them all
// and `json` is a list of documents; `digest`/`imageid`/`version` are the first build's.
import * as core from '@actions/core';
import type { BuildResult } from '../build/pipeline.js';
import type { PlannedBuild } from '../core/types.js';

/** `build --json`: the result without the pipeline's `held` detail. */
export type BuildDocument = Omit<BuildResult, 'held'>;

export interface ActionOutputs {
  tags: string;
  version: string;
  digest: string;
  imageid: string;
  json: string;
}

/** The `build --json` document of one result (CONTRACT.md section 4). */
export function buildDocument(r: BuildResult): BuildDocument {
  return { images: r.images, tags: r.tags, refs: r.refs, digest: r.digest, imageId: r.imageId, pushed: r.pushed };
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
  };
}

export function setOutputs(outputs: ActionOutputs): void {
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value);
}
