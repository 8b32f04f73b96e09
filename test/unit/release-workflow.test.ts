import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The release workflow dogfoods the Action: read it as GitHub will, against action.yml.

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('.github/workflows/release.yml', () => {
  const workflow = parse(readFileSync(join(repoRoot, '.github', 'workflows', 'release.yml'), 'utf8'));
  const action = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8'));

  it("on a version tag, pushes the image with this repository's own Action, for two platforms", () => {
    expect(workflow.on.push.tags).toEqual(['v*.*.*']);
    expect(workflow.permissions.packages).toBe('write');
    const steps = workflow.jobs.image.steps as { uses?: string; with?: Record<string, unknown> }[];
    const own = steps.find((s) => s.uses === './');
    expect(own?.with?.images).toBe('ghcr.io/${{ github.repository }}');
    expect(String(own?.with?.platforms).split(',')).toEqual(['linux/amd64', 'linux/arm64']);
    expect(own?.with?.password).toBe('${{ secrets.GITHUB_TOKEN }}');
    // Every input it passes is one action.yml declares: a renamed input breaks this, not a release.
    for (const key of Object.keys(own?.with ?? {})) expect(Object.keys(action.inputs)).toContain(key);
    // The checkout comes first: `uses: ./` runs the committed dist/ of the tagged commit.
    expect(steps[0]!.uses).toMatch(/^actions\/checkout@/);
  });
});
