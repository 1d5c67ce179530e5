// The Dockerfile, linted statically (no Docker engine runs here): stages, base image, non-root user, entrypoint, the
// ops port, and that every file the build copies exists in the repository and is not excluded by .dockerignore.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../src/config/config.js';
import { shippedNodeFlags } from '../../bench/lib/shipped-node-flags.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Instruction {
  op: string;
  args: string;
  line: number;
}
interface Stage {
  from: string;
  name?: string;
  steps: Instruction[];
}

/** Parses a Dockerfile into stages: continuation lines joined, comments dropped, ARGs before FROM substituted. */
function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) return;
    if (pending && line.startsWith('#')) return;
    if (!pending) start = i + 1;
    pending += (pending ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (!line.endsWith('\\')) {
      const m = /^(\S+)\s*(.*)$/.exec(pending)!;
      instructions.push({ op: m[1].toUpperCase(), args: m[2], line: start });
      pending = '';
    }
  });
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'ARG' && stages.length === 0) {
      const [k, v = ''] = ins.args.split('=');
      globalArgs.set(k, v);
    } else if (ins.op === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args)!;
      const from = m[1].replace(/\$\{?(\w+)\}?/g, (_, k: string) => globalArgs.get(k) ?? '');
      stages.push({ from, name: m[2], steps: [] });
    } else {
      if (stages.length === 0) throw new Error(`line ${ins.line}: ${ins.op} before FROM`);
      stages[stages.length - 1].steps.push(ins);
    }
  }
  return stages;
}

/** The sources of a COPY/ADD (exec or shell form) and its --from, if any. */
function copySources(args: string): { from?: string; sources: string[] } {
  const flags = [...args.matchAll(/--(\w+)=(\S+)/g)];
  const rest = args.replace(/--\w+=\S+\s*/g, '').trim();
  const parts = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
  return { from: flags.find((f) => f[1] === 'from')?.[2], sources: parts.slice(0, -1) };
}

/** .dockerignore patterns (the subset used here: names, dir/, **\/globs), true when `path` is excluded. */
function ignoredBy(patterns: string[]): (path: string) => boolean {
  const res = patterns.map((p) => {
    const glob = p.replace(/\/$/, '').replace(/[.+^$()|[\]{}]/g, '\\$&').replace(/\*\*\//g, '\0').replace(/\*/g, '[^/]*').replace(/\0/g, '(?:.*/)?');
    return new RegExp(`^${glob}(?:/.*)?$`);
  });
  return (path) => res.some((r) => r.test(path.replace(/^\.\//, '').replace(/\/$/, '')));
}

const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(text);
const final = stages[stages.length - 1];
const steps = (s: Stage, op: string) => s.steps.filter((x) => x.op === op);
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('Dockerfile', () => {
  it('builds in stages on Node 22 LTS (bookworm-slim)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.from).toBe('node:22-bookworm-slim');
  });

  it('compiles with npm ci + npm run build, and the runtime gets production dependencies only', () => {
    const build = stages.find((s) => steps(s, 'RUN').some((r) => /\bnpm run build\b/.test(r.args)));
    expect(build?.name).toBeDefined();
    expect(steps(build!, 'RUN').some((r) => /\bnpm ci\b/.test(r.args))).toBe(true);
    const finalCopies = steps(final, 'COPY').map((c) => copySources(c.args));
    expect(finalCopies).toContainEqual({ from: build!.name, sources: ['/app/dist'] });
    // node_modules come from a stage that installed with --omit=dev, never from the build stage
    const nm = finalCopies.find((c) => c.sources.some((s) => s.endsWith('node_modules')));
    const deps = stages.find((s) => s.name === nm?.from);
    expect(deps && steps(deps, 'RUN').some((r) => /\bnpm ci\b.*--omit=dev/.test(r.args))).toBe(true);
    expect(steps(final, 'RUN').some((r) => /\bnpm (ci|install|i)\b(?!.*--omit=dev)/.test(r.args))).toBe(false);
    // package.json makes dist/ ES modules ("type": "module")
    expect(finalCopies.some((c) => !c.from && c.sources.includes('package.json'))).toBe(true);
  });

  it('copies into the build stage everything `npm run build` reads', () => {
    const build = stages.find((s) => steps(s, 'RUN').some((r) => /\bnpm run build\b/.test(r.args)))!;
    const copied = steps(build, 'COPY').flatMap((c) => copySources(c.args).sources.map((s) => s.replace(/\/$/, '')));
    const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.build;
    const files = [...script.matchAll(/(?:-p\s+|node\s+)(\S+)/g)].map((m) => m[1]);
    expect(files.length).toBeGreaterThan(0);
    const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { extends?: string; include: string[] };
    const needed = [...files, ...(tsconfig.extends ? [tsconfig.extends] : []), ...tsconfig.include, 'package.json', 'package-lock.json'];
    for (const f of needed) expect([f, copied.some((c) => f.replace(/^\.\//, '') === c || f.replace(/^\.\//, '').startsWith(`${c}/`))]).toEqual([f, true]);
  });

  it('every COPY source from the build context exists and is not excluded by .dockerignore', () => {
    const ignored = ignoredBy(dockerignore);
    const sources = stages.flatMap((s) => [...steps(s, 'COPY'), ...steps(s, 'ADD')].map((c) => copySources(c.args))).filter((c) => !c.from);
    expect(sources.length).toBeGreaterThan(0);
    for (const { sources: list } of sources) {
      for (const src of list) {
        expect([src, existsSync(join(ROOT, src))]).toEqual([src, true]);
        expect([src, ignored(src)]).toEqual([src, false]);
      }
    }
    // what must stay out of the context
    for (const p of ['node_modules', 'dist', '.git', '.sandbox', 'src/cli/main.test.ts']) expect([p, ignored(p)]).toEqual([p, true]);
  });

  it('runs as a numeric non-root user', () => {
    const users = steps(final, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1].args.split(':')[0];
    expect(user).toMatch(/^\d+$/); // kubelet can only check runAsNonRoot against a numeric UID
    expect(Number(user)).toBeGreaterThan(0);
    // the chart's podSecurityContext runs as the same user
    const values = readFileSync(join(ROOT, 'charts/kube-mesos/values.yaml'), 'utf8');
    expect(values).toMatch(new RegExp(`^\\s+runAsUser: ${user}$`, 'm'));
  });

  it('starts kube-mesos (scheduler by default) and exposes the ops port', () => {
    const entry = steps(final, 'ENTRYPOINT').pop()!;
    expect(JSON.parse(entry.args)).toEqual(['node', '/app/dist/cli/main.js']);
    expect(existsSync(join(ROOT, 'src/cli/main.ts'))).toBe(true); // compiled to dist/cli/main.js
    expect(steps(final, 'WORKDIR').pop()?.args).toBe('/app');
    expect(JSON.parse(steps(final, 'CMD').pop()!.args)).toEqual(['scheduler']);
    const port = defaultConfig().ops.listen.split(':').pop();
    expect(steps(final, 'EXPOSE').map((e) => e.args)).toEqual([port]);
  });

  it('sets NODE_OPTIONS that Node accepts, and the e2e benchmark runs kube-mesos with the same flags', () => {
    const envs = steps(final, 'ENV').map((e) => /^NODE_OPTIONS=(.*)$/.exec(e.args)?.[1]).filter((v): v is string => v !== undefined);
    expect(envs).toEqual(['--max-semi-space-size=64']);
    // Node refuses, with exit code 9, an option that is not allowed in NODE_OPTIONS
    const r = spawnSync(process.execPath, ['-e', ''], { env: { ...process.env, NODE_OPTIONS: envs[0] }, encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(shippedNodeFlags()).toEqual(envs[0].split(' '));
  });
});
