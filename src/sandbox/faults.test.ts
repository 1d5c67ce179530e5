// The fault client against the real emulator's HTTP face (no framework: nothing launches, agents just change state).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator, type RunningEmulator } from '../emulator/index.js';
import { emulatorFaults } from './faults.js';

let emu: RunningEmulator;

beforeAll(async () => {
  emu = await startEmulator({ listen: '127.0.0.1:0', agents: 4, zones: ['a', 'b'], region: 'r1', executorMode: 'process' });
});
afterAll(async () => {
  await emu?.stop();
});

describe('emulatorFaults', () => {
  it('lists agents with zone and state, fails and recovers one', async () => {
    const f = emulatorFaults(emu.url);
    const listed = await f.agents();
    if (!listed.ok) throw new Error(listed.error);
    expect(listed.value.map((a) => [a.hostname, a.zone, a.state, a.reachable])).toEqual([
      ['agent-0', 'a', 'active', true],
      ['agent-1', 'b', 'active', true],
      ['agent-2', 'a', 'active', true],
      ['agent-3', 'b', 'active', true],
    ]);
    const id = listed.value[0].id;
    const failed = await f.agent(id, 'fail');
    expect(failed).toEqual({ ok: true, value: expect.objectContaining({ id, reachable: false }) });
    const after = await f.agents();
    expect(after.ok && after.value.find((a) => a.id === id)?.reachable).toBe(false);
    expect(await f.agent(id, 'recover')).toEqual({ ok: true, value: expect.objectContaining({ id, state: 'active', reachable: true }) });
  });

  it('fails and recovers a zone: exactly its agents change', async () => {
    const f = emulatorFaults(emu.url);
    const r = await f.zone('b', 'fail');
    if (!r.ok) throw new Error(r.error);
    expect(r.value.zone).toBe('b');
    const listed = await f.agents();
    if (!listed.ok) throw new Error(listed.error);
    expect(new Set(r.value.agents)).toEqual(new Set(listed.value.filter((a) => a.zone === 'b').map((a) => a.id)));
    expect(listed.value.map((a) => [a.zone, a.reachable])).toEqual([['a', true], ['b', false], ['a', true], ['b', false]]);
    expect((await f.zone('b', 'recover')).ok).toBe(true);
    const back = await f.agents();
    expect(back.ok && back.value.every((a) => a.reachable && a.state === 'active')).toBe(true);
  });

  it.each<[string, () => Promise<unknown>, number, RegExp]>([
    ['unknown agent', () => emulatorFaults(emu.url).agent('no-such-agent', 'fail'), 404, /not found/],
    ['unknown zone', () => emulatorFaults(emu.url).zone('z', 'fail'), 404, /no agents in zone "z"/],
  ])('passes on the emulator’s own refusal: %s', async (_name, run, status, error) => {
    const r = (await run()) as { ok: boolean; status: number; error: string };
    expect(r.ok).toBe(false);
    expect(r.status).toBe(status);
    expect(r.error).toMatch(error);
  });

  it('reports an emulator that is not there as 502, with the address', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const r = await emulatorFaults(`http://127.0.0.1:${port}`, { timeoutMs: 1000 }).agents();
    expect(r).toEqual({ ok: false, status: 502, error: expect.stringContaining(`127.0.0.1:${port}`) });
  });

  it('reports an emulator that hangs as 502 after the timeout', async () => {
    const server: Server = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const r = await emulatorFaults(`http://127.0.0.1:${port}`, { timeoutMs: 200 }).zone('a', 'fail');
      expect(r).toEqual({ ok: false, status: 502, error: expect.stringMatching(/did not answer/) });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it.each(['not a url', 'ftp://x:1'])('rejects a bad emulator URL at construction: %s', (u) => {
    expect(() => emulatorFaults(u)).toThrow(TypeError);
  });
});
