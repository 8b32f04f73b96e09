import { readFile } from 'node:fs/promises';
import { BuildError } from '../core/errors.js';
import { emulatorFor, missingEmulationMessage, ociArchitecture, runsTargetBinaries } from '../core/emulation.js';

// Before a multi-platform build runs foreign RUN steps: is the kernel's binfmt_misc handler for
// each foreign architecture registered and enabled? Without it the build would fail much later
// with "exec format error" buried in the log; this says so in one line before building.

const BINFMT = '/proc/sys/fs/binfmt_misc';

export async function binfmtEnabled(handler: string, dir = BINFMT): Promise<boolean> {
  const text = await readFile(`${dir}/${handler}`, 'utf8').catch(() => '');
  return text.split('\n')[0]?.trim() === 'enabled';
}

export async function checkEmulation(platforms: string[], dockerfileText: string, hostArch = ociArchitecture(process.arch)): Promise<void> {
  if (!runsTargetBinaries(dockerfileText)) return;
  for (const platform of platforms) {
    const handler = emulatorFor(platform, hostArch);
    if (handler && !(await binfmtEnabled(handler))) throw new BuildError(missingEmulationMessage(platform, handler, hostArch));
  }
}

/** A build that failed because a foreign binary could not run, told as the missing emulation. */
export function emulationFailure(err: unknown, platforms: string[], hostArch = ociArchitecture(process.arch)): BuildError | undefined {
  if (!(err instanceof BuildError) || !err.tail.some((l) => /exec format error/i.test(l))) return undefined;
  const foreign = platforms.find((p) => emulatorFor(p, hostArch));
  if (!foreign) return undefined;
  return new BuildError(missingEmulationMessage(foreign, emulatorFor(foreign, hostArch)!, hostArch), { tail: err.tail });
}
