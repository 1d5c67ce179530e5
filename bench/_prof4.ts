import { performance } from 'node:perf_hooks';
import { AgentTable, agentLabels, plan } from '../src/placement/index.js';
import type { AgentView, PlanConfig, PodSpecView } from '../src/placement/index.js';
const N = Number(process.argv[2] ?? 50000);
const ZONES = ['a','b','c'];
const agents: AgentView[] = [];
for (let i = 0; i < N; i++) { const zone = ZONES[i%3]; const id=`agent-${i}`; const hostname=`host-${i}.example`; const attributes={rack:`r${i%20}`};
  agents.push({ id, hostname, nodeName: undefined, zone, region: 'r1', attributes, labels: agentLabels({id,hostname,zone,region:'r1',attributes}), taints: [], unschedulable: false, offered: [{ role: '*', res: { cpus: 64, mem: 262144, disk: 500000 }, ports: [[31000, 32000]] }], kubelet: undefined, pods: [] }); }
const mk = (off: number) => { const pods: PodSpecView[] = [];
for (let i = off; i < off+1000; i++) { const app = `app-${Math.floor(i/500)}`; const labels = {app};
  pods.push({ key:`b/${i}`, uid:`u${i}`, namespace:'bench', name:`p${i}`, labels, annotations:{}, ownerUid:`o-${app}`, priority:0, createdAtMs:i, requests:{cpus:[0.1,0.25,0.5][i%3], mem:[128,256,512][(i/3|0)%3], disk:0}, limits:{}, hostPorts:[], tolerations:[], topologySpreadConstraints:[{ maxSkew:1, topologyKey:'topology.kubernetes.io/zone', whenUnsatisfiable:'DoNotSchedule', labelSelector:{matchLabels:labels}}], roles:['*'], constraints:[] }); } return pods; };
const cfg: PlanConfig = { executor: { cpus: 0.1, mem: 64, disk: 0 }, defaultScoring: 'spread', preferExistingKubelet: true, maxPodsPerKubelet: 250, defaultRoles: ['*'] };
if (process.argv[4] === 'warm') { const w = new AgentTable(); const c0 = process.cpuUsage(); for (let k = 0; k < 3; k++) plan(agents.slice(0, 3000), mk(50000 + k*1000), cfg, w); const c = process.cpuUsage(c0); console.log('warm cpu', ((c.user+c.system)/1000).toFixed(1)); }
const t = new AgentTable();
const presync = process.argv[3] !== 'cold';
if (presync) { const c0 = process.cpuUsage(); t.sync(agents, cfg); const c = process.cpuUsage(c0); console.log('presync cpu', ((c.user+c.system)/1000).toFixed(1)); }
global.gc?.();
for (let k = 0; k < 4; k++) {
const c0 = process.cpuUsage(); const t0 = performance.now();
plan(agents, mk(k*1000), cfg, t);
const c1 = process.cpuUsage(c0);
console.log('plan', k, (performance.now()-t0).toFixed(1), 'cpu', ((c1.user+c1.system)/1000).toFixed(1));
}
