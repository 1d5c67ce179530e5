import { fail, type FilterPlugin } from '../framework.js';

export const REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";
const FAIL = fail(REASON_PORTS);

/**
 * Host ports already used by pods on the agent. A Mesos `ports` resource is one number whatever the protocol,
 * so TCP and UDP on the same port conflict here (kube-scheduler would allow that).
 */
export const nodePortsFilter: FilterPlugin<number[]> = {
  name: 'NodePorts',
  prepare: (pod) => (pod.ports.length ? pod.ports : undefined),
  filter: (ports, a) => {
    const used = a.usedPorts;
    if (!used) return undefined;
    for (const p of ports) if (used.has(p)) return FAIL;
    return undefined;
  },
};
