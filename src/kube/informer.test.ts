import { ResilientInformer, objectKey } from './informer.js';
import { until } from '../../test/support/until.js';
import { FakeListWatch } from './testing/fake-source.js';

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec: { n: number };
}
const obj = (name: string, n = 0, namespace = 'ns'): Obj => ({ metadata: { name, namespace }, spec: { n } });

function setup() {
  const src = new FakeListWatch<Obj>();
  const inf = new ResilientInformer<Obj>(src, { freeze: true, backoff: { initialMs: 1, maxMs: 20, random: () => 0.5 } });
  const log: string[] = [];
  inf.on('add', (o) => log.push(`add ${objectKey(o)} ${o.spec.n}`));
  inf.on('update', (o, old) => log.push(`update ${objectKey(o)} ${old.spec.n}->${o.spec.n}`));
  inf.on('delete', (o) => log.push(`delete ${objectKey(o)}`));
  return { src, inf, log };
}

describe('ResilientInformer', () => {
  it('lists, becomes ready, then follows create/update/delete in order', async () => {
    const { src, inf, log } = setup();
    src.upsert(obj('a', 1));
    inf.start();
    await inf.ready;
    expect(inf.hasSynced()).toBe(true);
    expect(log).toEqual(['add ns/a 1']);
    await until(() => src.activeWatches === 1, 'watch');
    src.upsert(obj('b', 2));
    src.upsert(obj('a', 3));
    src.remove('ns/b');
    await until(() => log.length === 4, 'events');
    expect(log).toEqual(['add ns/a 1', 'add ns/b 2', 'update ns/a 1->3', 'delete ns/b']);
    expect(inf.list().map(objectKey)).toEqual(['ns/a']);
    expect(inf.get('ns/a')?.spec.n).toBe(3);
    await inf.stop();
  });

  it('hands out frozen objects: a handler that mutates one fails, and the informer carries on', async () => {
    const { src, inf, log } = setup();
    const errors: unknown[] = [];
    inf.on('add', (o) => {
      try {
        (o.spec as { n: number }).n = 99;
      } catch (err) {
        errors.push(err);
        throw err;
      }
    });
    inf.start();
    await inf.ready;
    await until(() => src.activeWatches === 1, 'watch');
    src.upsert(obj('a', 1));
    src.upsert(obj('b', 2));
    await until(() => log.length === 2, 'events');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBeInstanceOf(TypeError);
    expect(inf.get('ns/a')?.spec.n).toBe(1);
    await inf.stop();
  });

  it('survives an outage: retries with backoff and misses nothing created meanwhile', async () => {
    const { src, inf, log } = setup();
    inf.start();
    await inf.ready;
    await until(() => src.activeWatches === 1, 'watch');
    src.down = true;
    src.breakWatches();
    const callsBefore = src.watchCalls;
    await until(() => src.watchCalls >= callsBefore + 3, 'several failed re-watches');
    // objects change while the informer cannot reach the server
    src.upsert(obj('p1'));
    src.upsert(obj('p2'));
    src.down = false;
    await until(() => log.length === 2, 'catch-up');
    expect(log).toEqual(['add ns/p1 0', 'add ns/p2 0']);
    expect(inf.stats.failures).toBeGreaterThanOrEqual(3);
    expect(inf.stats.relistsGone).toBe(0);
    await inf.stop();
  });

  it('re-lists after 410 Gone and emits deletes for objects removed while it was away', async () => {
    const { src, inf, log } = setup();
    src.upsert(obj('keep', 1));
    src.upsert(obj('gone', 1));
    inf.start();
    await inf.ready;
    await until(() => src.activeWatches === 1, 'watch');
    src.down = true;
    src.breakWatches();
    src.remove('ns/gone');
    src.upsert(obj('keep', 2));
    src.upsert(obj('new', 1));
    src.compact();
    src.down = false;
    await until(() => log.length === 5, 'relist diff');
    expect(log.slice(2).sort()).toEqual(['add ns/new 1', 'delete ns/gone', 'update ns/keep 1->2']);
    expect(inf.stats.relistsGone).toBe(1);
    expect(src.lists).toBe(2);
    await inf.stop();
  });

  it.each([
    [410, 'relists', 2],
    [500, 'resumes the watch', 1],
  ])('on an ERROR event %i it %s', async (code, _what, lists) => {
    const { src, inf, log } = setup();
    inf.start();
    await inf.ready;
    await until(() => src.activeWatches === 1, 'watch');
    src.sendError(code);
    await until(() => src.activeWatches === 1 && src.watchCalls === 2, 'new watch');
    src.upsert(obj('x'));
    await until(() => log.length === 1, 'event after error');
    expect(src.lists).toBe(lists);
    await inf.stop();
  });

  it('stop() ends a pending backoff at once, and rejects ready when never synced', async () => {
    const src = new FakeListWatch<Obj>();
    src.down = true;
    const inf = new ResilientInformer<Obj>(src, { backoff: { initialMs: 60_000, maxMs: 60_000 } });
    inf.start();
    await until(() => src.lists === 1, 'first list');
    const t0 = Date.now();
    await inf.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(inf.ready).rejects.toThrow(/stopped before/);
  });
});
