import { bootEpochMs, contenderFigures, isComplete, mesosCost, startedFromLog, type PodTimeline } from './real-cost.js';

/** A kube-mesos pod created at `t0`: its steps 10, 20 (offer wait), 30, 40, 50, 60 ms, kubelet sync `sync` ms. */
function mesosPod(name: string, t0: number, sync: number, offerBeforeSeen = false): PodTimeline {
  const seen = t0 + 10;
  const offer = offerBeforeSeen ? seen - 500 : seen + 20;
  const accept = Math.max(seen, offer) + 30;
  const launched = accept + 40;
  const starting = launched + 50;
  const bound = starting + 60;
  const started = bound + sync;
  return { name, contender: 'kube-mesos', created: t0, bound, started, running: started + 300, ready: started + 300, firstLog: started + 400, mesos: { seen, offer, accept, launched, starting, taskRunning: started + 310 } };
}

function kubeSchedulerPod(name: string, t0: number, bind: number, sync: number): PodTimeline {
  return { name, contender: 'kube-scheduler', created: t0, bound: t0 + bind, started: t0 + bind + sync, running: t0 + bind + sync + 300, ready: t0 + bind + sync + 300, firstLog: t0 + bind + sync + 400 };
}

describe('real-pods-compare figures', () => {
  it('splits kube-mesos\' way into steps that add up to create → container started', () => {
    const f = contenderFigures([mesosPod('a', 0, 1000)], 'kube-mesos');
    expect(Object.fromEntries(Object.entries(f.steps).map(([k, v]) => [k, v.p50]))).toEqual({
      watch_to_scheduler: 10,
      offer_wait: 20,
      cycle_to_accept: 30,
      accept_to_launch: 40,
      launch_to_task_starting: 50,
      bind: 60,
      kubelet_sync: 1000,
    });
    const sum = Object.values(f.steps).reduce((s, v) => s + v.p50!, 0);
    expect(sum).toBe(f.totals.create_to_container_started.p50);
    expect(f.after_start).toEqual({ started_to_running_in_api: { n: 1, p50: 300, p90: 300, max: 300 }, started_to_first_log_line: { n: 1, p50: 400, p90: 400, max: 400 } });
  });

  it('counts no offer wait when the offer was already held, and the cycle from when the pod was seen', () => {
    const f = contenderFigures([mesosPod('a', 0, 1000, true)], 'kube-mesos');
    expect(f.steps.offer_wait.p50).toBe(0);
    expect(f.steps.cycle_to_accept.p50).toBe(30);
  });

  it('gives p50/p90/max per contender and the difference kube-mesos − kube-scheduler', () => {
    const pods = [
      ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => mesosPod(`a${i}`, i * 10_000, 1000 + i * 10)),
      ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => kubeSchedulerPod(`b${i}`, i * 10_000 + 5000, 15 + i, 1000 + i * 10)),
    ];
    const m = contenderFigures(pods, 'kube-mesos');
    const k = contenderFigures(pods, 'kube-scheduler');
    expect(m.pods).toBe(10);
    expect(m.complete).toBe(10);
    expect(m.pods_per_node).toEqual({ '(none seen)': 10 });
    expect(m.totals.create_to_bound).toEqual({ n: 10, p50: 210, p90: 210, max: 210 });
    expect(m.totals.create_to_container_started).toEqual({ n: 10, p50: 1250, p90: 1290, max: 1300 });
    expect(k.totals.create_to_bound).toEqual({ n: 10, p50: 19, p90: 23, max: 24 });
    expect(k.steps).toEqual({ schedule_and_bind: { n: 10, p50: 19, p90: 23, max: 24 }, kubelet_sync: { n: 10, p50: 1040, p90: 1080, max: 1090 } });
    const cost = mesosCost(m, k);
    expect(cost.create_to_bound).toEqual({ p50: 191, p90: 187 });
    expect(cost.create_to_container_started).toEqual({ p50: 1250 - 1059, p90: 1290 - 1103 });
    expect(cost.parts_p50).toEqual({
      watch_to_scheduler: 10,
      offer_wait: 20,
      cycle_to_accept: 30,
      accept_to_launch: 40,
      launch_to_task_starting: 50,
      bind: 60,
      kube_scheduler_schedule_and_bind: 19,
      kubelet_sync_difference: 0,
    });
  });

  it('leaves out what was not seen instead of counting it as zero', () => {
    const p: PodTimeline = { name: 'x', contender: 'kube-mesos', created: 0, bound: 200, node: 'n1' };
    expect(isComplete(p)).toBe(false);
    const f = contenderFigures([p], 'kube-mesos');
    expect(f.pods_per_node).toEqual({ n1: 1 });
    expect(f.totals.create_to_bound).toEqual({ n: 1, p50: 200, p90: 200, max: 200 });
    expect(f.totals.create_to_container_started).toEqual({ n: 0, p50: null, p90: null, max: null });
    expect(f.steps.accept_to_launch.n).toBe(0);
    expect(mesosCost(f, contenderFigures([], 'kube-scheduler')).create_to_bound).toEqual({ p50: null, p90: null });
  });

  it('reads the boot time from the best /proc/uptime sample and the container\'s start from its first line', () => {
    // True boot at 1000 ms; uptime is truncated to 10 ms, so samples overestimate the boot by up to 10 ms.
    const boot = bootEpochMs([
      { nowMs: 101_009, uptimeText: '100.00 5.00\n' },
      { nowMs: 101_012, uptimeText: '100.01 5.00\n' },
      { nowMs: 101_020, uptimeText: '100.02 5.00\n' },
    ]);
    expect(boot).toBeCloseTo(1000, 6);
    expect(startedFromLog('first-line 200.25\n', boot)).toBeCloseTo(201_250, 6);
    expect(startedFromLog('', boot)).toBeUndefined();
    expect(() => bootEpochMs([{ nowMs: 1, uptimeText: 'garbage' }])).toThrow(/no readable/);
  });
});
