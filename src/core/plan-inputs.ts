// The one way the entry points turn their inputs into the planner's: autobuild.yml (config.ts),
// the CLI's flags and the Action's inputs all name images and fill a repository's defaults here,
// so `--image Octo/App`, `image: Octo/App` and `images: Octo/App` give the same refs.
import { UserError } from './errors.js';
import { familiarName, normalizeImageInput } from './references.js';
import type { RepositoryConfig } from './types.js';

/** What a repository builds when nothing says otherwise (autobuild.yml's schema defaults too). */
export const REPOSITORY_DEFAULTS = {
  preset: 'semver',
  dockerfile: 'Dockerfile',
  context: '.',
} as const;

/** A repository's configuration with every field not given at its default. */
export function repositoryConfig(fields: Partial<RepositoryConfig> & { images: string[] }): RepositoryConfig {
  return {
    preset: REPOSITORY_DEFAULTS.preset,
    rules: [],
    tags: '',
    flavor: '',
    paths: [],
    dockerfile: REPOSITORY_DEFAULTS.dockerfile,
    context: REPOSITORY_DEFAULTS.context,
    buildArgs: {},
    labels: {},
    webhooks: [],
    ...fields,
  };
}

/**
 * An image name as every entry point reads it: lower-cased (as docker/metadata-action does),
 * without a tag or digest, in the short form docker prints (`alice/app`, `ghcr.io/o/a`). Throws
 * a UserError whose problem names the value; the caller says where it was written and, in
 * `tagsFrom`, where tags come from in its own words.
 */
export function imageName(text: string, tagsFrom = 'the preset, rules or tags lines'): string {
  let ref;
  try {
    ref = normalizeImageInput(text);
  } catch (err) {
    // The message quotes the lower-cased name it parsed; say what was written when that differs.
    const written = text.trim();
    if (err instanceof UserError && written !== written.toLowerCase()) throw new UserError(`image ${JSON.stringify(written)}: ${err.problem}`, err.hint);
    throw err;
  }
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new UserError(
      `image ${JSON.stringify(text)} must not include a tag or digest`,
      `write just ${JSON.stringify(familiarName(ref))}; tags come from ${tagsFrom}`,
    );
  }
  return familiarName(ref);
}
