// The job summary: what was pushed where (refs and digests), and why `latest` moved or did not,
// so a reader of the run page sees a held `latest` as a decision rather than a missing tag.
import * as core from '@actions/core';
import type { BuildResult } from '../pipeline/pipeline.js';
import { decideTags, parseVersion } from '../core/semver-tags.js';
import type { Plan, PlannedBuild } from '../core/types.js';

export interface BuildOutcome {
  build: PlannedBuild;
  /** Missing when the build failed before producing a result. */
  result?: BuildResult;
}

export interface RefRow {
  ref: string;
  digest: string;
  status: string;
}

/** One row per planned ref, in push order. */
export function refRows({ build, result }: BuildOutcome): RefRow[] {
  return build.refs.map((ref) => {
    const held = result?.held.find((h) => h.ref === ref);
    if (result?.pushed.includes(ref)) return { ref, digest: result.digest, status: 'pushed' };
    if (held) return { ref, digest: '', status: `held: ${held.reason}` };
    if (!build.push) return { ref, digest: '', status: 'built, not pushed' };
    return { ref, digest: '', status: result ? 'not pushed' : 'failed' };
  });
}

/** One sentence on `latest` for this build: pushed, held (and why), or not asked for. */
export function latestDecision({ build, result }: BuildOutcome, existingTags: string[]): string {
  const latestRefs = build.refs.filter((r) => r.endsWith(':latest'));
  if (latestRefs.length > 0) {
    const pushed = latestRefs.filter((r) => result?.pushed.includes(r));
    const held = result?.held.find((h) => latestRefs.includes(h.ref));
    if (pushed.length > 0) {
      const what = build.version ? `${build.version} is the highest version in the registry` : 'this build asks for it';
      return `latest pushed last, after every other tag: ${what}.`;
    }
    if (held) return `latest held at push time: ${held.reason}.`;
    if (!build.push) return 'latest would move to this build, but pushing is off (push: false or a pull request).';
    return 'latest was planned but not pushed: the build failed first.';
  }
  // Planning dropped it: ask the same decision again to say which registry tag kept it.
  const version = build.version ? parseVersion(build.version) : undefined;
  if (version && !version.prerelease) {
    const { held } = decideTags([{ tag: 'latest', kind: 'latest', version: version.version, scope: 'all' }], existingTags);
    if (held[0]) return `latest held: ${held[0].reason}.`;
  }
  if (version?.prerelease) return `latest not moved: ${version.version} is a prerelease.`;
  return `latest not moved: the ${build.ref} build does not ask for it (preset, rules or tags).`;
}

/** The whole summary as one Markdown document, via the toolkit's summary builder. */
export async function writeSummary(plan: Plan, outcomes: BuildOutcome[], existingTags: string[]): Promise<void> {
  // Outside a runner (or an old one) there is no summary file; the log already says it all.
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const s = core.summary.addHeading('autobuild', 2);
  for (const outcome of outcomes) {
    const { build } = outcome;
    s.addHeading(escapeHtml(`${build.repository} ${build.ref} (${build.sha.slice(0, 7)})`), 3);
    s.addTable([
      [
        { data: 'Reference', header: true },
        { data: 'Digest', header: true },
        { data: 'Result', header: true },
      ],
      ...refRows(outcome).map((r) => [code(r.ref), r.digest ? code(r.digest) : '—', escapeHtml(r.status)]),
    ]);
    if (outcome.result?.imageId) s.addRaw(`Image ID: ${code(outcome.result.imageId)}`, true);
    s.addRaw(`<p><strong>latest</strong>: ${escapeHtml(latestDecision(outcome, existingTags))}</p>`, true);
  }
  if (plan.builds.length === 0) s.addRaw('<p>Nothing to build for this event.</p>', true);
  if (plan.skipped.length > 0) {
    s.addRaw('<p>Not built or not tagged:</p>', true);
    s.addList(plan.skipped.map((k) => escapeHtml(k.reason)));
  }
  await s.write();
}

function code(text: string): string {
  return `<code>${escapeHtml(text)}</code>`;
}

// Branch names and reasons come from the event (untrusted); the summary is rendered as HTML.
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
