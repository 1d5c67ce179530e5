// The `kube-mesos executor` and `kube-mesos hollow-kubelet` commands as processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { controlPlaneInfo, createTestNamespace, testKubeConfig, waitFor } from '../support/kube.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function cli(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string; stdout: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  const done = new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr, stdout })));
  return { child, done };
}

describe('kube-mesos executor (process)', () => {
  it('bad or missing environment → a clear message naming each variable, non-zero exit, no stack trace', async () => {
    const { done } = cli(['executor'], { MESOS_FRAMEWORK_ID: 'fw', KUBE_MESOS_NODE_LABELS: '{oops', KUBE_MESOS_NODE_CAPACITY: '{"cpu":"eight"}' });
    const r = await done;
    expect(r.code).toBe(1);
    for (const v of ['KUBE_MESOS_NODE_NAME is not set', 'KUBE_MESOS_NODE_LABELS is not valid JSON', 'KUBE_MESOS_NODE_CAPACITY: "cpu" is not a quantity', 'MESOS_AGENT_ENDPOINT', 'MESOS_EXECUTOR_ID']) {
      expect(r.stderr).toContain(v);
    }
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // No kubeconfig is fine: the executor obtains its node identity from the scheduler (docs/executor.md).
    expect(r.stderr).not.toContain('KUBE_MESOS_KUBECONFIG');
  });

  it('an unreadable kubeconfig is reported with its path', async () => {
    const { done } = cli(['executor'], {
      MESOS_AGENT_ENDPOINT: '127.0.0.1:1',
      MESOS_FRAMEWORK_ID: 'fw',
      MESOS_EXECUTOR_ID: 'e',
      KUBE_MESOS_NODE_NAME: 'n',
      KUBE_MESOS_NODE_CAPACITY: '{"cpu":"8","memory":"1Gi"}',
      KUBE_MESOS_KUBECONFIG: '/nonexistent/kubeconfig',
    });
    const r = await done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('KUBE_MESOS_KUBECONFIG=/nonexistent/kubeconfig');
  });
});

describe('kube-mesos hollow-kubelet (standalone)', () => {
  const nodeName = `hollow-cli-${randomBytes(3).toString('hex')}`;
  const core = () => testKubeConfig().makeApiClient(CoreV1Api);
  let child: ChildProcess | undefined;
  afterAll(async () => {
    child?.kill('SIGKILL');
    await core().deleteNode({ name: nodeName }).catch(() => {});
  });

  it('without --node-name is a usage error (exit 2)', async () => {
    const r = await cli(['hollow-kubelet', '--kubeconfig', controlPlaneInfo().kubeconfigPath]).done;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--node-name is required');
  });

  it('registers its Node Ready with the labels, runs a pod bound to it, and stops on SIGTERM', async () => {
    const ns = await createTestNamespace('hollow-cli');
    try {
      const p = cli(['hollow-kubelet', '--kubeconfig', controlPlaneInfo().kubeconfigPath, '--node-name', nodeName, '--labels', 'topology.kubernetes.io/zone=z1,rack=r7', '--log-level', 'warn']);
      child = p.child;
      const node = await waitFor(
        async () => {
          const n = await core().readNode({ name: nodeName });
          return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? n : undefined;
        },
        { timeoutMs: 30_000, what: `node ${nodeName} Ready` },
      );
      expect(node.metadata?.labels).toMatchObject({ 'topology.kubernetes.io/zone': 'z1', rack: 'r7', 'kubernetes.io/hostname': nodeName });
      await core().createNamespacedPod({ namespace: ns.name, body: { metadata: { name: 'p' }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] } } });
      const pod = await waitFor(
        async () => {
          const x = await core().readNamespacedPod({ name: 'p', namespace: ns.name });
          return x.status?.phase === 'Running' ? x : undefined;
        },
        { timeoutMs: 20_000, what: 'the pod Running' },
      );
      expect(pod.status?.podIP).toBeTruthy();
      await core().deleteNamespacedPod({ name: 'p', namespace: ns.name });
      await waitFor(() => core().readNamespacedPod({ name: 'p', namespace: ns.name }).then(() => false, () => true), { timeoutMs: 20_000, what: 'the pod gone' });
      p.child.kill('SIGTERM');
      const r = await p.done;
      expect(r.code).toBe(0);
      child = undefined;
    } finally {
      await ns.delete();
    }
  }, 90_000);
});
