/**
 * A batch framework, as Spark or Chronos behave on Mesos: it wants more than the cluster has, so it accepts every offer,
 * fills it with as many short command tasks (`sleep N`, which the emulator finishes after N s) as fit, and declines
 * what is left (and offers nothing fits) with a short filter. Subscribes through the project's Mesos scheduler client.
 * Reports `ready` on SUBSCRIBED; a once-a-second line on stderr. Child of sharing.bench.ts.
 */
import { SchedulerClient } from '../../src/mesos/scheduler.js';
import type { Offer, SchedulerEvent, TaskInfo } from '../../src/mesos/types.js';
import { createLogger } from '../../src/telemetry/log.js';
import { childOptions, report } from './child.js';

export interface BatchFrameworkOptions {
  mesosUrl: string;
  name: string;
  taskCpus: number;
  taskMemMb: number;
  /** Mean task length; each task lasts between half and one and a half of it (seeded), so tasks do not end in waves. */
  taskSeconds: number;
  /** refuse_seconds on what is declined (the rest of an offer, offers nothing fits). */
  refuseSeconds: number;
}

const scalarOf = (o: Offer, name: string) => (o.resources ?? []).reduce((a, r) => a + (r.name === name && r.type === 'SCALAR' ? (r.scalar?.value ?? 0) : 0), 0);

async function main(): Promise<void> {
  const o = childOptions<BatchFrameworkOptions>();
  const log = createLogger({ level: 'warn', name: 'bench-batch' });
  const client = new SchedulerClient({ masters: [o.mesosUrl], framework: { user: 'root', name: o.name, failover_timeout: 0 }, log });
  const counts = { offers: 0, launched: 0, finished: 0, failed: 0, declined: 0, callErrors: 0 };
  let next = 0;
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const finished = new Set<string>(); // an update the agent resends before our ACK arrived counts once
  const settle = (p: Promise<unknown>) => p.catch(() => void counts.callErrors++);

  const onOffers = (offers: Offer[]) => {
    for (const offer of offers) {
      counts.offers++;
      const fit = Math.floor(Math.min(scalarOf(offer, 'cpus') / o.taskCpus, scalarOf(offer, 'mem') / o.taskMemMb));
      if (fit < 1) {
        counts.declined++;
        void settle(client.decline([offer.id.value], { refuse_seconds: o.refuseSeconds }));
        continue;
      }
      const tasks: TaskInfo[] = Array.from({ length: fit }, () => {
        const id = `${o.name}-${next++}`;
        return {
          name: id,
          task_id: { value: id },
          agent_id: offer.agent_id,
          resources: [
            { name: 'cpus', type: 'SCALAR', scalar: { value: o.taskCpus } },
            { name: 'mem', type: 'SCALAR', scalar: { value: o.taskMemMb } },
          ],
          command: { value: `sleep ${(o.taskSeconds * (0.5 + random())).toFixed(1)}` },
        };
      });
      counts.launched += fit;
      void settle(client.accept([offer.id.value], [{ type: 'LAUNCH', launch: { task_infos: tasks } }], { refuse_seconds: o.refuseSeconds }));
    }
  };

  client.on('event', (ev: SchedulerEvent) => {
    if (ev.type === 'OFFERS') onOffers(ev.offers.offers ?? []);
    else if (ev.type === 'UPDATE') {
      const st = ev.update.status;
      if (st.state === 'TASK_FINISHED' && !finished.has(st.task_id.value)) {
        finished.add(st.task_id.value);
        counts.finished++;
      }
      else if (st.state === 'TASK_FAILED' || st.state === 'TASK_LOST' || st.state === 'TASK_ERROR') counts.failed++;
      if (st.uuid) void settle(client.acknowledge(st));
    }
  });
  client.on('subscribed', (s) => report({ ready: true, frameworkId: s.frameworkId }));
  client.start();
  setInterval(() => process.stderr.write(`${JSON.stringify({ t: new Date().toISOString().slice(11, 23), ...counts })}\n`), 1000).unref();
  process.on('SIGTERM', () => {
    void (async () => {
      await Promise.race([client.teardown().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
      await Promise.race([client.stop(), new Promise((r) => setTimeout(r, 2000))]);
      process.exit(0);
    })();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench batch framework: ${String(err)}\n`);
  process.exit(1);
});
