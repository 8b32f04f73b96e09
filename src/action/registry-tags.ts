// Tags already in the registry, so planning never moves `latest` or a version tag backward.
// A registry that cannot be read (new repository, no pull rights yet) counts as empty: the
// pipeline decides moving tags again right before pushing them, against the same registry.
import * as core from '@actions/core';
import { RegistryClient, type RegistryAuth } from '../adapters/registry-client.js';
import { BuildError, UserError } from '../core/errors.js';

/** The union of every image's tags. */
export async function readExistingTags(images: string[], registries: Record<string, RegistryAuth>): Promise<string[]> {
  const client = new RegistryClient(registries);
  const all = new Set<string>();
  for (const image of images) {
    try {
      for (const tag of await client.listTags(image)) all.add(tag);
    } catch (err) {
      // The client's hint speaks of autobuild.yml; keep only what went wrong.
      const why = err instanceof BuildError || err instanceof UserError ? err.problem : err instanceof Error ? err.message : String(err);
      core.warning(`could not list the tags of ${image}, planning as if it had none: ${why}`);
    }
  }
  return [...all].sort();
}
