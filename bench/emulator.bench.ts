// The emulator at scale: 5000 in-process agents, 1 s allocation interval, one framework (in a child process, so its
// CPU is not counted) that declines every offer with a short refuse. Prints one JSON line.
// `npm run bench -- emulator`; knobs: BENCH_AGENTS, BENCH_SECONDS.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SchedulerClient } from '../src/mesos/scheduler.js';
import { startEmulator } from '../src/emulator/index.js';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 5000);
const MEASURE_S = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_S = 3;

async function framework(url: string): Promise<void> {
  const client = new SchedulerClient({ masters: [url], framework: { user: 'bench', name: 'decliner', failover_timeout: 60 } });
  let offers = 0;
  client.on('event', (ev) => {
    if (ev.type !== 'OFFERS') return;
    const ids = (ev.offers.offers ?? []).map((o) => o.id.value);
    offers += ids.length;
    void client.decline(ids, { refuse_seconds: 0.2 }).catch((err: unknown) => process.stderr.write(`decline failed: ${String(err)}\n`));
  });
  client.start();
  const report = setInterval(() => process.stdout.write(`${JSON.stringify({ offers })}\n`), 1000);
  process.on('SIGTERM', () => {
    clearInterval(report);
    void client.stop().then(() => process.exit(0));
  });
}

async function main(): Promise<void> {
  const emu = await startEmulator({
    listen: '127.0.0.1:0',
    agents: AGENTS,
    zones: ['a', 'b', 'c'],
    region: 'r1',
    agentAttributes: 'rack:r{i%4}',
    allocationIntervalMs: 1000,
    executorMode: 'inprocess',
    executorFactory: async ({ signal }) => new Promise<void>((r) => signal.addEventListener('abort', () => r())),
  });
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--framework', emu.url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let received = 0;
  child.stdout.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.trim()) received = (JSON.parse(line) as { offers: number }).offers;
  });
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  const s0 = { ...emu.master.stats };
  const cpu0 = process.cpuUsage();
  const r0 = received;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, MEASURE_S * 1000));
  const cpu = process.cpuUsage(cpu0);
  const elapsed = (performance.now() - t0) / 1000;
  const s1 = emu.master.stats;
  const cycles = s1.allocationCycles - s0.allocationCycles;
  const line = {
    bench: 'emulator',
    agents: AGENTS,
    offers_per_sec: Math.round((s1.offersSent - s0.offersSent) / elapsed),
    offers_received_per_sec: Math.round((received - r0) / elapsed),
    cpu_ms_per_cycle: Math.round((cpu.user + cpu.system) / 1000 / Math.max(1, cycles)),
    allocate_ms_per_cycle: Math.round((s1.totalCycleMs - s0.totalCycleMs) / Math.max(1, cycles)),
    cycles,
    rss_mb: Math.round(process.memoryUsage().rss / 1048576),
  };
  child.kill('SIGTERM');
  await emu.stop();
  process.stdout.write(`${JSON.stringify(line)}\n`);
  process.exit(0);
}

if (process.argv[2] === '--framework') void framework(process.argv[3]);
else
  main().catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
