/** Where to find the leading master. Static lists here; ZooKeeper (`zk://`) detection is in ../zk/. */
export interface MasterDetector {
  /** The next master base URL to try (`http://host:5050`); called again after each connection failure. */
  next(): Promise<string>;
  /** How many distinct masters one round covers (to know when every one refused). */
  readonly size?: number;
}

/** Round-robin over a fixed list of master URLs. */
export class StaticMasterDetector implements MasterDetector {
  private i = 0;
  readonly size: number;
  constructor(private readonly masters: string[]) {
    if (masters.length === 0) throw new TypeError('StaticMasterDetector: at least one master URL is required');
    for (const m of masters) {
      try {
        const u = new URL(m);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
      } catch {
        throw new TypeError(`StaticMasterDetector: "${m}" is not an http(s) URL (want e.g. http://master:5050)`);
      }
    }
    this.size = masters.length;
  }
  async next(): Promise<string> {
    const m = this.masters[this.i % this.masters.length];
    this.i++;
    return m;
  }
}
