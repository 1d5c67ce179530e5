// Generates manifests/scheduler.yaml and manifests/pdb/*.yaml from the Helm chart, so the plain install and the chart
// cannot drift: `node tools/helm-render/gen-manifests.mjs` writes them, `--check` fails if they are out of date.
// manifests/rbac.yaml (Namespace, ServiceAccount, RBAC) is written by hand; the chart's RBAC is compared to it by a test.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Renders the chart as the plain manifests need it: release and namespace kube-mesos, RBAC and account from rbac.yaml. */
function render(helmRender, showOnly, extra = []) {
  return execFileSync(
    helmRender,
    [
      'kube-mesos',
      join(root, 'charts/kube-mesos'),
      '--namespace=kube-mesos',
      '--set=rbac.create=false,serviceAccount.create=false,serviceAccount.name=kube-mesos',
      ...showOnly.map((s) => `--show-only=templates/${s}`),
      ...extra,
    ],
    { encoding: 'utf8' },
  );
}

/** Drops what only makes sense under Helm: the chart/managed-by labels, and the config checksum (nothing updates it). */
function plain(yaml) {
  return yaml
    .split('\n')
    .filter((l) => !/^\s*(helm\.sh\/chart|app\.kubernetes\.io\/managed-by):/.test(l))
    .filter((l) => !/^# Source: /.test(l))
    .join('\n')
    .replace(/\n *annotations:\n *# roll the pods when[^\n]*\n *checksum\/config: [0-9a-f]+\n/, '\n');
}

const header = (what) =>
  [
    `# ${what}`,
    '# Generated from charts/kube-mesos by `node tools/helm-render/gen-manifests.mjs` (release and namespace "kube-mesos"):',
    '# change the chart and regenerate rather than editing this file. See manifests/README.md.',
    '',
  ].join('\n');

/** The generated files: path relative to the repository → content. */
export function generate(helmRender) {
  return {
    'manifests/scheduler.yaml':
      header('kube-mesos scheduler: its configuration, the ops/metrics Service and the Deployment. Apply manifests/rbac.yaml first.') +
      plain(render(helmRender, ['configmap.yaml', 'service.yaml', 'deployment.yaml'])),
    'manifests/pdb/policy-v1.yaml':
      header('PodDisruptionBudget for Kubernetes 1.21 and later (policy/v1).') + plain(render(helmRender, ['pdb.yaml'], ['--kube-version=1.25'])),
    'manifests/pdb/policy-v1beta1.yaml':
      header('PodDisruptionBudget for Kubernetes before 1.21 (policy/v1beta1; removed in 1.25).') +
      plain(render(helmRender, ['pdb.yaml'], ['--kube-version=1.20'])),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const helmRender = execFileSync(join(root, 'tools/helm-render/build.sh'), { encoding: 'utf8' }).trim();
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [rel, content] of Object.entries(generate(helmRender))) {
    const path = join(root, rel);
    let current;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    if (check) {
      process.stderr.write(`${rel} is out of date: run node tools/helm-render/gen-manifests.mjs\n`);
      stale++;
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      process.stdout.write(`wrote ${rel}\n`);
    }
  }
  process.exitCode = stale ? 1 : 0;
}
