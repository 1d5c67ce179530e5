// ZooKeeperClient against a scripted in-process server speaking the wire protocol: the paths a real server rarely
// shows on demand (it declares the session expired, sends garbage, refuses credentials, goes silent).
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type Socket } from 'node:net';
import { ZooKeeperClient, ZkCode, type ZkSessionInfo } from './client.js';
import { FrameDecoder, JuteReader, JuteWriter } from './jute.js';

interface ConnectRequest {
  sessionId: bigint;
  timeoutMs: number;
  lastZxid: bigint;
}

/** Each accepted connection is handed to `onConnect` with its decoded handshake; later frames go to `onFrame`. */
class FakeZk {
  server!: Server;
  port = 0;
  readonly handshakes: ConnectRequest[] = [];
  private readonly sockets = new Set<Socket>();
  onConnect: (s: Socket, req: ConnectRequest) => void = (s) => this.accept(s, 0x1234n, 4000);
  onFrame: (s: Socket, xid: number, op: number, body: JuteReader) => void = () => undefined;
  answerPings = true;

  async listen(): Promise<void> {
    this.server = createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      const dec = new FrameDecoder();
      let first = true;
      s.on('error', () => undefined);
      s.on('data', (chunk: Buffer) => {
        for (const f of dec.push(chunk)) {
          const r = new JuteReader(f);
          if (first) {
            first = false;
            r.int();
            const lastZxid = r.long();
            const timeoutMs = r.int();
            const sessionId = r.long();
            const req = { sessionId, timeoutMs, lastZxid };
            this.handshakes.push(req);
            this.onConnect(s, req);
          } else {
            const xid = r.int();
            const op = r.int();
            if (op === 11) {
              if (this.answerPings) this.reply(s, xid, 0);
            }
            else if (op === -11) {
              this.reply(s, xid, 0); // closeSession
              s.end();
            } else this.onFrame(s, xid, op, r);
          }
        }
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as { port: number }).port;
  }
  accept(s: Socket, sessionId: bigint, timeoutMs: number): void {
    s.write(new JuteWriter().int(0).int(timeoutMs).long(sessionId).buffer(Buffer.alloc(16, 7)).bool(false).frame());
  }
  reply(s: Socket, xid: number, err: number, body?: JuteWriter): void {
    const head = new JuteWriter().int(xid).long(42n).int(err).toBuffer();
    const rest = body?.toBuffer() ?? Buffer.alloc(0);
    const len = Buffer.alloc(4);
    len.writeInt32BE(head.length + rest.length);
    s.write(Buffer.concat([len, head, rest]));
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(opts: Partial<ConstructorParameters<typeof ZooKeeperClient>[0]> = {}): Promise<{ fake: FakeZk; client: ZooKeeperClient }> {
  const fake = new FakeZk();
  await fake.listen();
  cleanups.push(() => fake.close());
  const client = new ZooKeeperClient({ servers: [{ host: '127.0.0.1', port: fake.port }], sessionTimeoutMs: 4000, backoff: { initialMs: 10, maxMs: 50 }, random: () => 0, ...opts });
  cleanups.push(() => client.close());
  return { fake, client };
}

const nextConnected = (c: ZooKeeperClient): Promise<ZkSessionInfo> => new Promise((resolve) => c.on('connected', resolve));

describe('ZooKeeperClient (scripted server)', () => {
  it('re-attaches its session, and starts a new one when the server declares it expired', async () => {
    const { fake, client } = await setup();
    const sockets: Socket[] = [];
    fake.onConnect = (s, req) => {
      sockets.push(s);
      if (fake.handshakes.length === 1) fake.accept(s, 0x1234n, 3000);
      else if (req.sessionId === 0x1234n) {
        fake.accept(s, 0n, 0); // "session expired"
        s.end();
      } else fake.accept(s, 0x5678n, 3000);
    };
    const events: string[] = [];
    client.on('expired', () => events.push('expired'));
    client.on('connected', (i) => events.push(`connected ${i.sessionId.toString(16)} new=${i.newSession}`));
    const first = nextConnected(client);
    client.start();
    expect((await first).timeoutMs).toBe(3000);
    const again = new Promise<ZkSessionInfo>((resolve) => client.on('connected', (i) => i.sessionId === 0x5678n && resolve(i)));
    sockets[0].destroy();
    await again;
    expect(fake.handshakes.map((h) => h.sessionId)).toEqual([0n, 0x1234n, 0n]);
    expect(events).toEqual(['connected 1234 new=true', 'expired', 'connected 5678 new=true']);
  });

  it('drops a connection that sends a malformed frame and reconnects, failing what was in flight', async () => {
    const { fake, client } = await setup();
    fake.onFrame = (s, _xid, op) => {
      if (op === 8) s.write(Buffer.from([0xff, 0xff, 0xff, 0xff])); // negative frame length
    };
    const first = nextConnected(client);
    client.start();
    await first;
    const reconnected = nextConnected(client);
    await expect(client.getChildren('/mesos', true)).rejects.toMatchObject({ code: ZkCode.CONNECTIONLOSS });
    const info = await reconnected;
    expect(info.newSession).toBe(false);
    expect(fake.handshakes[1].sessionId).toBe(0x1234n);
  });

  it('decodes getChildren and getData replies, and a NONODE reply as undefined', async () => {
    const { fake, client } = await setup();
    fake.onFrame = (s, xid, op, body) => {
      if (op !== 8 && op !== 4) return;
      const path = body.string();
      if (path === '/missing') return fake.reply(s, xid, ZkCode.NONODE);
      if (op === 8) return fake.reply(s, xid, 0, new JuteWriter().stringVector(['json.info_0000000002', 'json.info_0000000001']));
      if (op === 4) {
        const body = new JuteWriter().buffer(Buffer.from('{"port":5050}'));
        body.long(1n).long(2n).long(3n).long(4n).int(5).int(6).int(7).long(0x99n).int(13).int(0).long(8n); // Stat
        return fake.reply(s, xid, 0, body);
      }
    };
    client.start();
    await client.ready(5000);
    expect(await client.getChildren('/mesos')).toEqual(['json.info_0000000002', 'json.info_0000000001']);
    expect(await client.getChildren('/missing')).toBeUndefined();
    expect(await client.getData('/missing')).toBeUndefined();
    const got = await client.getData('/mesos/json.info_0000000001');
    expect(got?.data.toString()).toBe('{"port":5050}');
    expect(got?.stat).toMatchObject({ version: 5, ephemeralOwner: 0x99n, dataLength: 13, pzxid: 8n });
  });

  it('closes for good when the server refuses its credentials', async () => {
    const { fake, client } = await setup({ auth: { scheme: 'digest', auth: 'u:wrong' } });
    fake.onFrame = (s, xid, op) => {
      if (op === 100) fake.reply(s, xid, ZkCode.AUTHFAILED);
    };
    const failed = new Promise((resolve) => client.on('authFailed', resolve));
    client.start();
    expect(await failed).toMatchObject({ code: ZkCode.AUTHFAILED });
    await client.close();
    expect(client.state).toBe('closed');
    expect(fake.handshakes).toHaveLength(1);
  });

  it('abandons a connection that never answers its handshake in time to re-attach the session (a restarting server)', async () => {
    const { fake, client } = await setup({ sessionTimeoutMs: 3000 });
    const sockets: Socket[] = [];
    fake.onConnect = (s) => {
      sockets.push(s);
      // the second connection is accepted and never answered, as ZooKeeper 3.8 does while it starts; the rest re-attach
      if (fake.handshakes.length !== 2) fake.accept(s, 0x1234n, 3000);
    };
    const events: string[] = [];
    client.on('expired', () => events.push('expired'));
    client.on('connected', (i) => events.push(`connected ${i.sessionId.toString(16)} new=${i.newSession}`));
    const first = nextConnected(client);
    client.start();
    await first;
    const again = nextConnected(client);
    sockets[0].destroy(); // the server goes away
    await again;
    expect(fake.handshakes.map((h) => h.sessionId)).toEqual([0n, 0x1234n, 0x1234n]);
    expect(events).toEqual(['connected 1234 new=true', 'connected 1234 new=false']);
  });

  it('gives up on a silent server after two thirds of the session timeout and reconnects', async () => {
    const { fake, client } = await setup({ sessionTimeoutMs: 600 });
    fake.onConnect = (s) => fake.accept(s, 0x1234n, 600);
    fake.answerPings = false;
    const first = nextConnected(client);
    const lost: Error[] = [];
    client.on('disconnected', (e) => lost.push(e));
    client.start();
    await first;
    await nextConnected(client);
    expect(lost[0].message).toMatch(/no reply from ZooKeeper/);
  });

  it.each([
    [{ servers: [] }, /at least one server/],
    [{ servers: [{ host: '', port: 2181 }] }, /bad server/],
    [{ servers: [{ host: 'zk', port: 0 }] }, /bad server/],
    [{ servers: [{ host: 'zk', port: 2181 }], sessionTimeoutMs: 0 }, /sessionTimeoutMs/],
  ])('constructor rejects %j', (opts, why) => {
    expect(() => new ZooKeeperClient(opts)).toThrow(why);
  });
});
