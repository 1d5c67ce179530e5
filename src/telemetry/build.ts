/** What this build is: the package version (from package.json, beside src/ and dist/ alike), Node and the platform. */
import { readFileSync } from 'node:fs';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Node's names for architectures → Go's (what client-go's User-Agent and `kubernetes_build_info{platform}` show). */
const GO_ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export interface BuildInfo {
  version: string;
  nodeVersion: string;
  /** `linux/amd64`, as Go writes GOOS/GOARCH. */
  platform: string;
}

export const BUILD_INFO: BuildInfo = Object.freeze({
  version: packageVersion(),
  nodeVersion: process.version,
  platform: `${process.platform}/${GO_ARCH[process.arch] ?? process.arch}`,
});

/** `kube-mesos/0.1.0 (linux/amd64)`, the shape client-go gives (`kube-scheduler/v1.20.2 (linux/amd64) kubernetes/faecb19`). */
export function userAgent(component = 'kube-mesos'): string {
  return `${component}/${BUILD_INFO.version} (${BUILD_INFO.platform})`;
}
