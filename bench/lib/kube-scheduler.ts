/** kube-scheduler 1.20 from the control-plane cache, configured with the bench's client QPS/burst, no leader election. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheLayout } from '../../src/controlplane/paths.js';
import { freePorts } from '../../src/controlplane/ports.js';
import { startProcess, type Child } from './child.js';

export interface KubeSchedulerOptions {
  cacheDir: string;
  kubeconfig: string;
  workDir: string;
  qps: number;
  burst: number;
}

/** KubeSchedulerConfiguration v1beta1: the default profile and plugins; only the client connection is set. */
export function kubeSchedulerConfig(o: Pick<KubeSchedulerOptions, 'kubeconfig' | 'qps' | 'burst'> & { insecurePort: number }): string {
  return [
    'apiVersion: kubescheduler.config.k8s.io/v1beta1',
    'kind: KubeSchedulerConfiguration',
    'clientConnection:',
    `  kubeconfig: ${JSON.stringify(o.kubeconfig)}`,
    `  qps: ${o.qps}`,
    `  burst: ${o.burst}`,
    'leaderElection:',
    '  leaderElect: false',
    // With --config, kube-scheduler 1.20 ignores --port=0 and (an empty address meaning the default) binds 0.0.0.0:10251,
    // which anything else on this shared machine may hold (kube-mesos' ops port defaults to it): a free loopback port.
    `healthzBindAddress: 127.0.0.1:${o.insecurePort}`,
    `metricsBindAddress: 127.0.0.1:${o.insecurePort}`,
    'profiles:',
    '  - schedulerName: default-scheduler',
    '',
  ].join('\n');
}

export async function startKubeScheduler(o: KubeSchedulerOptions): Promise<Child> {
  const config = join(o.workDir, 'kube-scheduler.yaml');
  const [insecurePort] = await freePorts(1);
  await writeFile(config, kubeSchedulerConfig({ ...o, insecurePort }));
  // No serving at all (ports 0): nothing else on this shared machine can collide with it.
  return startProcess(cacheLayout(o.cacheDir).binary('kube-scheduler'), [`--config=${config}`, '--port=0', '--secure-port=0', '--v=1'], join(o.workDir, 'kube-scheduler.log'));
}
