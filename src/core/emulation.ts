import { platformParts } from './build-settings.js';

// Which platforms of a build need CPU emulation on this host: a `RUN` step executes the
// platform's own binaries, which the kernel runs only through a binfmt_misc handler (qemu-user)
// unless the host's CPU is that architecture. Pure: the caller passes the host's architecture
// and the Dockerfile text; the adapter looks at /proc.

/** Node's `process.arch` in the OCI platform vocabulary. */
export function ociArchitecture(nodeArch: string): string {
  return (
    ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[nodeArch] ??
    nodeArch
  );
}

/** The binfmt_misc entry qemu-user-static registers for an architecture (`qemu-aarch64`). */
const QEMU: Record<string, string> = {
  amd64: 'qemu-x86_64',
  arm64: 'qemu-aarch64',
  arm: 'qemu-arm',
  ppc64le: 'qemu-ppc64le',
  s390x: 'qemu-s390x',
  riscv64: 'qemu-riscv64',
  mips64le: 'qemu-mips64el',
  '386': 'qemu-i386',
  loong64: 'qemu-loongarch64',
};

/** Architectures an x86_64 (or arm64) kernel runs without emulation. */
const NATIVE: Record<string, string[]> = { amd64: ['amd64', '386'], arm64: ['arm64', 'arm'] };

/** The binfmt handler a platform needs on this host, or undefined when it runs natively. */
export function emulatorFor(platform: string, hostArch: string): string | undefined {
  const { architecture } = platformParts(platform);
  if ((NATIVE[hostArch] ?? [hostArch]).includes(architecture)) return undefined;
  return QEMU[architecture] ?? `qemu-${architecture}`;
}

/**
 * Whether the Dockerfile runs anything for the target platform: a `RUN` in a stage that is not
 * pinned to the build machine (`FROM --platform=$BUILDPLATFORM`, the cross-compiling pattern).
 */
export function runsTargetBinaries(dockerfile: string): boolean {
  let native = false;
  for (const raw of dockerfile.split('\n')) {
    const line = raw.trim();
    const from = /^FROM\s+(.*)$/i.exec(line);
    if (from) {
      native = /--platform=\$\{?BUILDPLATFORM\}?/.test(from[1]!);
      continue;
    }
    if (/^RUN\s/i.test(line) && !native) return true;
  }
  return false;
}

/** One line for a build that needs emulation the machine does not have. */
export function missingEmulationMessage(platform: string, handler: string, hostArch: string): string {
  return `${platform} needs CPU emulation for the Dockerfile's RUN steps on this ${hostArch} machine, and binfmt_misc has no ${handler} handler — install qemu-user-static and register it (README: "Foreign platforms"), or drop ${platform} from platforms`;
}
