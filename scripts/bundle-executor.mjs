// Builds the self-contained executor bundle a Mesos agent fetches (docs/executor.md, "Delivery"):
//   dist/artifacts/kube-mesos-executor-<platform>-<arch>.tgz
//     kube-mesos/bin/kube-mesos      sh wrapper: the bundled node (or node on PATH) running lib/kube-mesos.mjs
//     kube-mesos/bin/node            this machine's node binary (left out with --no-node)
//     kube-mesos/lib/kube-mesos.mjs  the whole CLI as one ESM file (esbuild), no node_modules
//     kube-mesos/lib/*.proto         the Mesos proto subset the codec loads next to the code
// Prints one JSON line: path, sizes, sha256.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const args = process.argv.slice(2);
const withNode = !args.includes('--no-node');
const outDir = args.includes('--out') ? args[args.indexOf('--out') + 1] : 'dist/artifacts';
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const name = `kube-mesos-executor-${process.platform}-${process.arch}${withNode ? '' : '-nonode'}.tgz`;
const stage = join(outDir, '.stage');
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'kube-mesos', 'bin'), { recursive: true });
mkdirSync(join(stage, 'kube-mesos', 'lib'), { recursive: true });

const t0 = Date.now();
await build({
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outfile: join(stage, 'kube-mesos', 'lib', 'kube-mesos.mjs'),
  // CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __kmCreateRequire } from 'node:module'; const require = __kmCreateRequire(import.meta.url);" },
  define: { 'process.env.KUBE_MESOS_BUNDLED': '"1"' },
  external: ['playwright-core'],
  legalComments: 'none',
  logLevel: 'warning',
});
for (const f of readdirSync('src/mesos/proto')) if (f.endsWith('.proto')) copyFileSync(join('src/mesos/proto', f), join(stage, 'kube-mesos', 'lib', f));
const wrapper = `#!/bin/sh
# kube-mesos ${pkg.version}, as a Mesos agent fetched it: the bundled node binary when there is one, else node on PATH.
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
node="$here/node"
[ -x "$node" ] || node=node
exec "$node" "$here/../lib/kube-mesos.mjs" "$@"
`;
writeFileSync(join(stage, 'kube-mesos', 'bin', 'kube-mesos'), wrapper);
chmodSync(join(stage, 'kube-mesos', 'bin', 'kube-mesos'), 0o755);
if (withNode) copyFileSync(process.execPath, join(stage, 'kube-mesos', 'bin', 'node'));
writeFileSync(join(stage, 'kube-mesos', 'VERSION'), `${pkg.version} node ${process.version} ${process.platform}-${process.arch}\n`);
const bundleMs = Date.now() - t0;

const out = join(outDir, name);
execFileSync('tar', ['-C', stage, '-czf', out, 'kube-mesos']);
const js = statSync(join(stage, 'kube-mesos', 'lib', 'kube-mesos.mjs')).size;
rmSync(stage, { recursive: true, force: true });
const sha256 = createHash('sha256').update(readFileSync(out)).digest('hex');
process.stdout.write(`${JSON.stringify({ bundle: out, bytes: statSync(out).size, jsBytes: js, withNode, sha256, buildMs: Date.now() - t0, esbuildMs: bundleMs })}\n`);
