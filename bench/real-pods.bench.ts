// Real pods (issue 21): `kubectl apply` → the container's first log line, for a pod on an agent whose real kubelet
// already runs (warm) and for one whose agent needs a new executor, containerd and kubelet first (cold). A real sandbox
// (control plane, emulator with cgroups isolation, real kubelets on containerd, registry, scheduler). Prints one JSON
// line. `npm run bench -- real-pods`. Knobs: BENCH_REAL_WARM (5), BENCH_REAL_COLD (3). Needs root and the node install.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { imageRef } from '../src/controlplane/node-artifacts.js';
import { startSandbox } from '../src/sandbox/sandbox.js';

const warmRuns = Number(process.env.BENCH_REAL_WARM ?? 5);
const coldRuns = Number(process.env.BENCH_REAL_COLD ?? 3);
const cacheDir = process.env.KUBE_MESOS_CACHE ?? join(homedir(), '.cache', 'kube-mesos');
const root = resolve(import.meta.dirname, '..');

function kubectl(kubeconfig: string, args: string[], input?: string): { code: number; out: string } {
  const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, '-n', 'default', ...args], { input, encoding: 'utf8' });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

const pod = (name: string, hostname: string | undefined) => `
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  annotations: ${JSON.stringify(hostname ? { 'kube-mesos.io/constraints': JSON.stringify([['@hostname', 'IS', hostname]]) } : {})}
spec:
  schedulerName: kube-mesos
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: ${imageRef('busybox')}
    command: ["sh", "-c", "echo first-line; exec sleep 3600"]
    resources: { requests: { cpu: 50m, memory: 16Mi } }
`;

/** ms from `kubectl apply` to the first log line (polled every 100 ms, as a user would). */
async function applyToFirstLog(kubeconfig: string, name: string, hostname: string | undefined): Promise<number> {
  const t0 = Date.now();
  const a = kubectl(kubeconfig, ['apply', '-f', '-'], pod(name, hostname));
  if (a.code !== 0) throw new Error(a.out);
  for (;;) {
    if (kubectl(kubeconfig, ['logs', name]).out.includes('first-line')) return Date.now() - t0;
    if (Date.now() - t0 > 180_000) throw new Error(`no log line of ${name} after 180 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { runs: s.length, minMs: s[0], medianMs: s[Math.floor(s.length / 2)], maxMs: s.at(-1), allMs: xs };
};

async function main(): Promise<void> {
  const sb = await startSandbox({
    dir: mkdtempSync(join(tmpdir(), 'kube-mesos-bench-real-')),
    cacheDir,
    kubelets: 'real',
    agents: 1,
    hostnamePrefix: 'bench-real-',
    zones: ['a'],
    region: 'r1',
    agentResources: 'cpus:2;mem:4096;disk:20000;ports:[31000-31100]',
    executorCommand: `'${process.execPath}' '${join(root, 'dist/cli/main.js')}' executor`,
    baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    listen: '127.0.0.1:0',
    set: [['placement.cycleInterval', '50ms']],
  });
  try {
    const kc = sb.kubeconfigPath;
    // A fresh control plane: kube-controller-manager makes the namespace's default ServiceAccount a moment after start,
    // and the ServiceAccount admission plugin refuses pods until then.
    for (const t0 = Date.now(); kubectl(kc, ['get', 'serviceaccount', 'default']).code !== 0; ) {
      if (Date.now() - t0 > 60_000) throw new Error('no default ServiceAccount after 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const cold: number[] = [];
    const warm: number[] = [];
    // Cold: each pod pinned to a fresh agent (no executor yet).
    const first = 'bench-real-0';
    cold.push(await applyToFirstLog(kc, 'cold-0', first));
    for (let i = 1; i < coldRuns; i++) {
      const added = sb.emulator.addAgents({ count: 1, zone: 'a' });
      if (!added.ok) throw new Error(added.error);
      cold.push(await applyToFirstLog(kc, `cold-${i}`, added.agents[0].hostname));
    }
    // Warm: the first agent's kubelet is up.
    for (let i = 0; i < warmRuns; i++) warm.push(await applyToFirstLog(kc, `warm-${i}`, first));
    process.stdout.write(JSON.stringify({ bench: 'real-pods', applyToFirstLogLine: { warmKubelet: stats(warm), newKubelet: stats(cold) } }) + '\n');
  } finally {
    await sb.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
