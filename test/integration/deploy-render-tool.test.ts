// tools/helm-render, the `helm template` stand-in the chart tests rely on: values merging and --set syntax, helm's
// functions on top of sprig, partials, NOTES.txt, install order and capabilities — on a small fixture chart.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { controlPlaneInfo, kubectl } from '../support/kube.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: ROOT, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err && typeof (err as { code?: unknown }).code !== 'number') reject(err);
      else resolve({ code: err ? (err as { code: number }).code : 0, stdout, stderr });
    });
  });
}

let helmRender: string;
let chart: string;

const FILES: Record<string, string> = {
  'Chart.yaml': 'apiVersion: v2\nname: fixture\nversion: 1.2.3\nappVersion: "4.5"\n',
  'values.yaml': yaml.dump({ name: 'base', nested: { a: 1, b: 'two', keep: true }, list: ['x'], big: 1000000, tplValue: '{{ .Release.Name }}-tpl' }),
  'templates/_helpers.tpl': '{{- define "fixture.label" -}}app: {{ .Chart.Name }}-{{ .Chart.Version }}{{- end -}}\n',
  'templates/values.yaml': [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: values',
    '  labels:',
    '    {{- include "fixture.label" . | nindent 4 }}',
    'data:',
    '  values.json: {{ toJson .Values | quote }}',
    '  release: {{ printf "%s/%s/%s/%v/%d" .Release.Name .Release.Namespace .Release.Service .Release.IsInstall .Release.Revision | quote }}',
    '  chart: {{ printf "%s/%s" .Chart.Name .Chart.AppVersion | quote }}',
    '  template: {{ .Template.Name | quote }}',
    '  tpl: {{ tpl .Values.tplValue . | quote }}',
    '  yaml: {{ toYaml .Values.nested | quote }}',
    '  fromYaml: {{ (fromYaml "a: {b: 3}").a.b | quote }}',
    '  lookup: {{ lookup "v1" "Secret" "ns" "s" | len | quote }}',
    '  kube: {{ printf "%s/%s/%s" .Capabilities.KubeVersion.Version .Capabilities.KubeVersion.Major .Capabilities.KubeVersion.Minor | quote }}',
    '  pdb: {{ .Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget" | quote }}',
    '  custom: {{ .Capabilities.APIVersions.Has "example.com/v1/Thing" | quote }}',
    '  missing: "{{ .Values.nothing }}"',
    '  env: {{ hasKey (dict "f" list) "f" | quote }}',
  ].join('\n'),
  // a Deployment before a Namespace and a ServiceAccount in one file: the output follows helm's install order
  'templates/a-mixed.yaml': [
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d',
    '---\n# a comment only document is dropped\n',
    '---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa',
    '---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns',
  ].join('\n'),
  'templates/empty.yaml': '{{- if false }}\nkind: Nothing\n{{- end }}\n',
  'templates/NOTES.txt': 'Installed {{ .Release.Name }}.\n',
};

function parse(out: string): Record<string, string> {
  const cm = (yaml.loadAll(out) as { kind: string; data?: Record<string, string> }[]).find((d) => d?.kind === 'ConfigMap');
  return cm!.data!;
}

beforeAll(async () => {
  const built = await run(join(ROOT, 'tools/helm-render/build.sh'), [], 300_000);
  if (built.code !== 0) throw new Error(`tools/helm-render/build.sh failed:\n${built.stderr}`);
  helmRender = built.stdout.trim();
  chart = mkdtempSync(join(tmpdir(), 'helm-render-fixture-'));
  mkdirSync(join(chart, 'templates'));
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(chart, name), text);
}, 300_000);

afterAll(() => {
  if (chart) rmSync(chart, { recursive: true, force: true });
});

describe('helm-render', () => {
  it('fills .Release, .Chart, .Template, include, tpl, toYaml, fromYaml, lookup and missing keys as helm does', async () => {
    const r = await run(helmRender, ['rel', chart, '-n', 'space']);
    expect(r.stderr).toBe('');
    const d = parse(r.stdout);
    expect(d.release).toBe('rel/space/Helm/true/1');
    expect(d.chart).toBe('fixture/4.5');
    expect(d.template).toBe('fixture/templates/values.yaml');
    expect(d.tpl).toBe('rel-tpl');
    expect(d.yaml).toBe('a: 1\nb: two\nkeep: true');
    expect(d.fromYaml).toBe('3');
    expect(d.lookup).toBe('0');
    expect(d.missing).toBe('');
    expect(d.kube).toBe('v1.29.0/1/29');
    expect(d.pdb).toBe('true');
    expect(d.custom).toBe('false');
    expect(r.stdout).toContain('app: fixture-1.2.3');
    // numbers go through JSON as in helm: 1000000 is a float64
    expect(JSON.parse(d['values.json']).big).toBe(1000000);
  });

  it('merges -f files over values.yaml (null deletes a key) and --set/--set-string over both, in order', async () => {
    const over = join(chart, 'over.yaml');
    writeFileSync(over, yaml.dump({ nested: { b: 'three', keep: null }, list: ['y', 'z'] }));
    const r = await run(helmRender, [
      chart,
      '-f',
      over,
      '--set',
      'nested.a=5,name=set,flag=true,zero=0123,items[1].n=x,path=a\\,b\\.c',
      '--set',
      'list={p,q}',
      '--set-string',
      'str=42',
      '--set',
      'dotted\\.key=1',
    ]);
    expect(r.stderr).toBe('');
    const v = JSON.parse(parse(r.stdout)['values.json']);
    expect(v.nested).toEqual({ a: 5, b: 'three' });
    expect(v).toMatchObject({ name: 'set', flag: true, zero: '0123', str: '42', path: 'a,b.c', list: ['p', 'q'], 'dotted.key': 1 });
    expect(v.items).toEqual([null, { n: 'x' }]);
  });

  it('orders manifests as helm installs them, drops empty documents, keeps NOTES.txt out (or on stderr with --notes)', async () => {
    const r = await run(helmRender, ['x', chart, '--notes']);
    const kinds = (yaml.loadAll(r.stdout) as { kind: string }[]).map((d) => d.kind);
    expect(kinds).toEqual(['Namespace', 'ServiceAccount', 'ConfigMap', 'Deployment']);
    expect(r.stdout).toMatch(/^---\n# Source: fixture\/templates\/a-mixed\.yaml\napiVersion: v1\nkind: Namespace/);
    expect(r.stdout).not.toContain('Installed');
    expect(r.stderr).toBe('Installed x.\n');
    const only = await run(helmRender, [chart, '-s', 'templates/a-mixed.yaml']);
    expect((yaml.loadAll(only.stdout) as { kind: string }[]).map((d) => d.kind)).toEqual(['Namespace', 'ServiceAccount', 'Deployment']);
    const none = await run(helmRender, [chart, '-s', 'templates/nope.yaml']);
    expect([none.code, none.stderr]).toEqual([1, 'Error: could not find template templates/nope.yaml in chart\n']);
  });

  it.each([
    [['--kube-version', '1.20'], 'v1.20.0/1/20', 'false', 'false'],
    [['--kube-version', 'v1.24.3', '--api-versions', 'example.com/v1/Thing'], 'v1.24.3/1/24', 'true', 'true'],
  ])('capabilities from flags %j', async (flags, kube, pdb, custom) => {
    const d = parse((await run(helmRender, [chart, ...flags])).stdout);
    expect([d.kube, d.pdb, d.custom]).toEqual([kube, pdb, custom]);
  });

  it('reads capabilities from the cluster of --kubeconfig (discovery, as helm does)', async () => {
    const d = parse((await run(helmRender, [chart, '--kubeconfig', controlPlaneInfo().kubeconfigPath])).stdout);
    const version = JSON.parse((await kubectl(['version', '-o', 'json'])).stdout).serverVersion;
    expect(d.kube).toBe(`${version.gitVersion.replace(/[-+].*$/, '')}/${version.major}/${version.minor}`);
    const served = (await kubectl(['api-resources', '--api-group=policy', '-o', 'wide'])).stdout;
    expect(d.pdb).toBe(String(/PodDisruptionBudget/.test(served) && (await kubectl(['api-versions'])).stdout.split('\n').includes('policy/v1')));
  });

  it.each([
    ['a template that does not parse', 'templates/bad.yaml', '{{ if }}', /^Error: parse error in "fixture\/templates\/bad\.yaml"/],
    ['output that is not YAML', 'templates/bad.yaml', 'a: [1\n', /^Error: YAML parse error on fixture\/templates\/bad\.yaml/],
    ['required', 'templates/bad.yaml', '{{ required "need.value: set it" .Values.need }}', /^Error: execution error at \(fixture\/templates\/bad\.yaml:1:3\): need\.value: set it\n$/],
  ])('fails with a clear message: %s', async (_what, file, text, message) => {
    writeFileSync(join(chart, file), text);
    try {
      const r = await run(helmRender, [chart]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
    } finally {
      rmSync(join(chart, file));
    }
  });

  it('rejects bad usage with exit 2', async () => {
    const r = await run(helmRender, [chart, '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown flag --bogus');
  });
});
