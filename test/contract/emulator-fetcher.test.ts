// The emulator's agent runs the Mesos fetcher before a process-mode executor starts: CommandInfo.uris land in the
// sandbox (cached per agent), and a failing URI fails the launch as slave.cpp executorLaunched() does.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchedulerClient } from '../../src/mesos/scheduler.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { eventually, rawRequest } from '../../src/emulator/testing.js';
import type { ExecutorInfo, Offer, SchedulerEvent, TaskInfo, TaskStatus } from '../../src/emulator/proto-types.js';

// Subscribes, answers LAUNCH with TASK_RUNNING; records where it runs from.
const EXECUTOR_JS = String.raw`
const http = require('http');
const fs = require('fs');
const crypto = require('crypto');
const env = process.env;
fs.writeFileSync('whoami.json', JSON.stringify({ argv: process.argv, cwd: process.cwd() }));
const [host, port] = env.MESOS_AGENT_ENDPOINT.split(':');
const headers = { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: 'Bearer ' + env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN };
const ids = { framework_id: { value: env.MESOS_FRAMEWORK_ID }, executor_id: { value: env.MESOS_EXECUTOR_ID } };
function post(body, onRes) {
  const req = http.request({ host, port, path: '/api/v1/executor', method: 'POST', headers }, onRes || ((res) => res.resume()));
  req.end(JSON.stringify(body));
}
post({ ...ids, type: 'SUBSCRIBE', subscribe: {} }, (res) => {
  let buf = Buffer.alloc(0);
  res.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl < 0) break;
      const len = Number(buf.subarray(0, nl).toString());
      if (buf.length < nl + 1 + len) break;
      const ev = JSON.parse(buf.subarray(nl + 1, nl + 1 + len).toString());
      buf = buf.subarray(nl + 1 + len);
      if (ev.type === 'LAUNCH') post({ ...ids, type: 'UPDATE', update: { status: { task_id: ev.launch.task.task_id, state: 'TASK_RUNNING', source: 'SOURCE_EXECUTOR', uuid: crypto.randomBytes(16).toString('base64') } } });
      if (ev.type === 'SHUTDOWN') process.exit(0);
    }
  });
});
`;

describe('the fetcher in process mode (slave.cpp launch path)', () => {
  let emu: RunningEmulator;
  let dir: string;
  let server: Server;
  let base = '';
  const hits = new Map<string, number>();
  const events: SchedulerEvent[] = [];
  let client: SchedulerClient;
  const used = new Set<string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'emu-fetch-'));
    server = createServer((req, res) => {
      const p = req.url ?? '/';
      hits.set(p, (hits.get(p) ?? 0) + 1);
      if (p === '/executor.cjs') res.end(EXECUTOR_JS);
      else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    emu = await startEmulator({ listen: '127.0.0.1:0', agents: 1, allocationIntervalMs: 50, executorMode: 'process', workDir: join(dir, 'work'), baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    client = new SchedulerClient({ masters: [emu.url], framework: { user: 'root', name: 'fetch-contract', checkpoint: true, failover_timeout: 60 } });
    client.on('event', (ev) => {
      events.push(ev);
      if (ev.type === 'UPDATE' && ev.update.status.uuid) void client.acknowledge(ev.update.status).catch(() => undefined);
    });
    client.start();
  });
  afterAll(async () => {
    await client.stop();
    await emu.stop();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const offer = () => eventually(() => events.flatMap((e) => (e.type === 'OFFERS' ? (e.offers.offers ?? []) : [])).find((o) => !used.has(o.id.value)));
  const update = (taskId: string, state: string) =>
    eventually(() => events.map((e) => (e.type === 'UPDATE' ? e.update.status : undefined)).find((s): s is TaskStatus => s?.task_id.value === taskId && s.state === state), 15_000);
  const launch = async (taskId: string, executor: ExecutorInfo): Promise<Offer> => {
    const o = await offer();
    used.add(o.id.value);
    const task: TaskInfo = { name: taskId, task_id: { value: taskId }, agent_id: o.agent_id, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }], executor };
    await client.accept([o.id.value], [{ type: 'LAUNCH', launch: { task_infos: [task] } }], { refuse_seconds: 0 });
    return o;
  };
  const sandboxOf = async (executorId: string) => {
    const st = JSON.parse((await rawRequest(emu.url, { method: 'GET', path: '/state' })).body) as { slaves: { executors: { id: string; directory: string }[] }[] };
    return st.slaves[0].executors.find((e) => e.id === executorId)?.directory;
  };
  const fetched = (id: string): ExecutorInfo => ({
    executor_id: { value: id },
    command: { value: `exec ${process.execPath} "$MESOS_SANDBOX/executor.cjs"`, uris: [{ value: `${base}/executor.cjs`, cache: true }] },
  });

  it('fetches the URIs into the sandbox before the command starts, which runs them from $MESOS_SANDBOX', async () => {
    await launch('f1', fetched('fetched-1'));
    await update('f1', 'TASK_RUNNING');
    const sb = (await sandboxOf('fetched-1'))!;
    expect(readFileSync(join(sb, 'executor.cjs'), 'utf8')).toBe(EXECUTOR_JS);
    const who = JSON.parse(readFileSync(join(sb, 'whoami.json'), 'utf8')) as { argv: string[]; cwd: string };
    expect(who.argv[1]).toBe(join(sb, 'executor.cjs'));
    expect(who.cwd).toBe(sb);
    expect(readFileSync(join(sb, 'stderr'), 'utf8')).toContain(`Fetched '${base}/executor.cjs'`);
  });

  it("a second executor on the same agent gets the cached copy (one download per agent)", async () => {
    await launch('f2', fetched('fetched-2'));
    await update('f2', 'TASK_RUNNING');
    const sb = (await sandboxOf('fetched-2'))!;
    expect(existsSync(join(sb, 'executor.cjs'))).toBe(true);
    expect(readFileSync(join(sb, 'stderr'), 'utf8')).toContain('(cache hit)');
    expect(hits.get('/executor.cjs')).toBe(1);
  });

  it('a failing URI fails the launch: TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED, the fetch error in the message; the command never runs', async () => {
    const bad: ExecutorInfo = {
      executor_id: { value: 'broken' },
      command: { value: `touch ${join(dir, 'ran')}; sleep 30`, uris: [{ value: `${base}/executor.cjs`, cache: true }, { value: `${base}/kubelet-missing`, executable: true, cache: true }] },
    };
    const o = await launch('f3', bad);
    const st = await update('f3', 'TASK_FAILED');
    expect(st).toMatchObject({ source: 'SOURCE_AGENT', reason: 'REASON_CONTAINER_LAUNCH_FAILED', agent_id: o.agent_id, executor_id: { value: 'broken' } });
    expect(st.message).toMatch(
      new RegExp(`^Failed to launch container: Failed to fetch all URIs for container '[0-9a-f-]+': Failed to fetch '${base}/kubelet-missing': Error downloading resource, received HTTP return code 404$`),
    );
    await eventually(() => events.find((e) => e.type === 'FAILURE' && e.failure.executor_id?.value === 'broken'));
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });
});
