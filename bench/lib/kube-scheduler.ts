/** kube-scheduler 1.20 from the control-plane cache, configured with the bench's client QPS/burst, no leader election. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheLayout } from '../../src/controlplane/paths.js';
import { startProcess, type Child } from './child.js';

export interface KubeSchedulerOptions {
  cacheDir: string;
  kubeconfig: string;
  workDir: string;
  qps: number;
  burst: number;
}

/** KubeSchedulerConfiguration v1beta1: the default profile and plugins; only the client connection is set. */
export function kubeSchedulerConfig(o: Pick<KubeSchedulerOptions, 'kubeconfig' | 'qps' | 'burst'>): string {
  return [
    'apiVersion: kubescheduler.config.k8s.io/v1beta1',
    'kind: KubeSchedulerConfiguration',
    'clientConnection:',
    `  kubeconfig: ${JSON.stringify(o.kubeconfig)}`,
    `  qps: ${o.qps}`,
    `  burst: ${o.burst}`,
    'leaderElection:',
    '  leaderElect: false',
    // No insecure healthz/metrics listener: with --config, kube-scheduler 1.20 ignores --port=0 and binds 0.0.0.0:10251,
    // which anything else on this shared machine may hold (kube-mesos' ops port defaults to it).
    'healthzBindAddress: ""',
    'metricsBindAddress: ""',
    'profiles:',
    '  - schedulerName: default-scheduler',
    '',
  ].join('\n');
}

export async function startKubeScheduler(o: KubeSchedulerOptions): Promise<Child> {
  const config = join(o.workDir, 'kube-scheduler.yaml');
  await writeFile(config, kubeSchedulerConfig(o));
  // No serving at all (ports 0): nothing else on this shared machine can collide with it.
  return startProcess(cacheLayout(o.cacheDir).binary('kube-scheduler'), [`--config=${config}`, '--port=0', '--secure-port=0', '--v=1'], join(o.workDir, 'kube-scheduler.log'));
}
