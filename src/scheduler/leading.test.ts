// Issue 16 item 8, last part: a leadership loss while start() is pending must not leave a non-leader that subscribes.
// A real LeaderElector on a fake Lease and virtual time; a fake Mesos that counts SUBSCRIBEs; the start is held at the
// framework-id read (a deferred the test resolves) as a slow or retried ConfigMap read holds it.
import { LeaderElector } from '../kube/leader.js';
import { FakeLease } from '../kube/testing/fake-lease.js';
import { FakeClock } from '../time/fake-clock.js';
import { seededRandom, sleep } from '../time/backoff.js';
import { silentLogger } from '../telemetry/log.js';
import { LeaderWork, type LeadingService } from './leading.js';

const STEP_MS = 10;
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

/** The master's side: who subscribed, and whether they still lead when they do. */
class FakeMesos {
  readonly subscriptions: { by: string; leading: boolean }[] = [];
}

class FakeService implements LeadingService {
  stopped = 0;
  constructor(
    private readonly mesos: FakeMesos,
    private readonly id: string,
    private readonly isLeading: () => boolean,
  ) {}
  subscribe(): void {
    this.mesos.subscriptions.push({ by: this.id, leading: this.isLeading() });
  }
  async stop(): Promise<void> {
    await Promise.resolve();
    this.stopped++;
  }
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function setup() {
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const lease = new FakeLease();
  const mesos = new FakeMesos();
  const frameworkIdRead = deferred<string | undefined>();
  const services: FakeService[] = [];
  const errors: unknown[] = [];
  const work = new LeaderWork<FakeService>({
    prepare: async (leadership) => {
      const fid = await frameworkIdRead.promise; // the start is pending here
      if (leadership.aborted && fid === 'aborted') return undefined;
      const svc = new FakeService(mesos, `service-${services.length}`, () => elector.isLeader());
      services.push(svc);
      return svc;
    },
    log: silentLogger(),
    onError: (err) => errors.push(err),
  });
  const elector: LeaderElector = new LeaderElector({
    lease,
    identity: 'a',
    leaseDurationMs: 1000,
    renewDeadlineMs: 600,
    retryPeriodMs: 50,
    now: () => clock.now(),
    sleep: (ms, signal) => sleep(ms, clock, signal),
    random: seededRandom(1),
    onStartedLeading: (signal) => void work.started(signal),
    onStoppedLeading: () => {},
  });
  const ctrl = new AbortController();
  let finished = false;
  const run = elector.run(ctrl.signal).then(() => (finished = true));
  const until = async (cond: () => boolean, what: string, maxMs = 10_000) => {
    await settle();
    for (let t = 0; !cond(); t += STEP_MS) {
      if (t >= maxMs) throw new Error(`no ${what} within ${maxMs} virtual ms`);
      clock.advance(STEP_MS);
      await settle();
    }
  };
  return { lease, mesos, frameworkIdRead, services, errors, work, elector, ctrl, run, until, finished: () => finished };
}

describe('LeaderWork', () => {
  it('leadership lost while the start is pending: the service it then produces never subscribes, and is stopped', async () => {
    const t = setup();
    await t.until(() => t.elector.isLeader(), 'leadership');
    t.lease.down = true; // renewals fail: leadership ends after the renew deadline
    await t.until(t.finished, 'run() to return after losing the lease');
    expect(t.elector.isLeader()).toBe(false);
    let stopped = false;
    const stopping = t.work.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false); // stop() waits for the pending start
    t.frameworkIdRead.resolve('fw-1'); // the read finally answers
    await stopping;
    expect(t.mesos.subscriptions).toEqual([]);
    expect(t.services.map((s) => s.stopped)).toEqual([1]);
    expect(t.work.service).toBeUndefined();
    expect(t.errors).toEqual([]);
  });

  it('leadership kept: subscribes once, as the leader; stop() stops it', async () => {
    const t = setup();
    await t.until(() => t.elector.isLeader(), 'leadership');
    t.frameworkIdRead.resolve('fw-1');
    await t.until(() => t.mesos.subscriptions.length > 0, 'a subscription');
    expect(t.mesos.subscriptions).toEqual([{ by: 'service-0', leading: true }]);
    t.ctrl.abort();
    await t.until(t.finished, 'run() to return');
    await t.work.stop();
    await t.work.stop();
    expect(t.services.map((s) => s.stopped)).toEqual([1]);
  });

  it('a start that gives up (aborted, nothing produced) subscribes nothing and stops nothing', async () => {
    const t = setup();
    await t.until(() => t.elector.isLeader(), 'leadership');
    t.lease.down = true;
    await t.until(t.finished, 'run() to return after losing the lease');
    t.frameworkIdRead.resolve('aborted');
    await t.work.stop();
    expect(t.mesos.subscriptions).toEqual([]);
    expect(t.services).toEqual([]);
  });

  it('a start that throws is reported, not left unhandled', async () => {
    const errors: unknown[] = [];
    const work = new LeaderWork<FakeService>({ prepare: () => Promise.reject(new Error('boom')), log: silentLogger(), onError: (e) => errors.push(e) });
    const term = await work.started(new AbortController().signal);
    await work.stop();
    expect(errors).toEqual([new Error('boom')]);
    expect(term).toEqual({ kind: 'failed', error: new Error('boom') });
  });
});
