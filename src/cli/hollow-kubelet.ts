import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../telemetry/log.js';
import { stringFlag, UsageError, type Command } from './command.js';

export const command: Command = {
  name: 'hollow-kubelet',
  summary: 'Run a kubelet stand-in for tests and the sandbox',
  details: 'Registers the Node (or takes it over), keeps it Ready with a fresh Lease, moves pods bound to it to Running and finishes\ndeletions. Test hook: pod annotation kube-mesos.io/hollow-exit-code: "0" (Succeeded) or "1" (Failed).',
  flags: {
    kubeconfig: { type: 'string', description: 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)', value: '<file>' },
    'node-name': { type: 'string', description: 'Name of the Node to register (required)', value: '<name>' },
    labels: { type: 'string', description: 'Extra Node labels', value: 'k=v,…' },
    taints: { type: 'string', description: 'Node taints', value: 'k=v:Effect,…' },
    capacity: { type: 'string', description: 'Node capacity = allocatable', value: 'cpu=8,memory=16Gi,pods=110', default: 'cpu=8,memory=16Gi,pods=110' },
    'honour-grace-period': { type: 'boolean', description: 'Wait out a deleted pod\'s grace period (default: finish deletions at once)' },
    'log-level': { type: 'string', description: 'Log level', value: '<level>', default: 'info' },
  },
  async run(args, io) {
    const { labelKeyError, labelValueError, isQuantity } = await import('../executor/env.js');
    const nodeName = stringFlag(args, 'node-name');
    if (!nodeName) throw new UsageError('--node-name is required');
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName)) throw new UsageError(`--node-name "${nodeName}" is not a valid node name`);
    const pairs = (flag: string): Array<[string, string]> =>
      (stringFlag(args, flag) ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((kv) => {
          const i = kv.indexOf('=');
          if (i <= 0) throw new UsageError(`--${flag}: "${kv}" is not key=value`);
          return [kv.slice(0, i), kv.slice(i + 1)];
        });
    const labels: Record<string, string> = {};
    for (const [k, v] of pairs('labels')) {
      const e = labelKeyError(k) ?? labelValueError(k, v);
      if (e) throw new UsageError(`--labels: ${e}`);
      labels[k] = v;
    }
    const taints = pairs('taints').map(([k, rest]) => {
      const m = /^(.*):(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(rest);
      if (!m) throw new UsageError(`--taints: "${k}=${rest}" must be key=value:Effect`);
      return m[1] ? { key: k, value: m[1], effect: m[2] } : { key: k, effect: m[2] };
    });
    const capacity: Record<string, string> = {};
    for (const [k, v] of pairs('capacity')) {
      if (!isQuantity(v)) throw new UsageError(`--capacity: "${k}=${v}" is not a quantity`);
      capacity[k] = v;
    }
    const kc = new KubeConfig();
    const file = stringFlag(args, 'kubeconfig');
    try {
      if (file) kc.loadFromFile(file);
      else kc.loadFromDefault();
    } catch (err) {
      io.stderr.write(`kube-mesos hollow-kubelet: cannot load kubeconfig${file ? ` ${file}` : ''}: ${(err as Error).message}\n`);
      return 1;
    }
    const log = createLogger({ level: stringFlag(args, 'log-level'), destination: io.stderr, name: 'hollow-kubelet' });
    const { KubeHttp } = await import('../kube/http.js');
    const { KubeClient } = await import('../kube/client.js');
    const { createKubeletApi } = await import('../executor/kube-api.js');
    const { InformerPodSource, nodePodInformer } = await import('../executor/pod-source.js');
    const { HollowKubelet } = await import('../executor/hollow-kubelet.js');
    let http;
    try {
      http = new KubeHttp(kc);
    } catch (err) {
      io.stderr.write(`kube-mesos hollow-kubelet: ${(err as Error).message}\n`);
      return 1;
    }
    const informer = nodePodInformer(http, nodeName, { log });
    const kubelet = new HollowKubelet({
      nodeName,
      labels,
      taints,
      capacity,
      api: createKubeletApi(new KubeClient(http)),
      pods: new InformerPodSource(informer),
      honourGracePeriod: args.values['honour-grace-period'] === true,
      log,
    });
    informer.start();
    kubelet.start();
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await kubelet.stop();
    await informer.stop();
    http.close();
    return 0;
  },
};
