import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { configKeys, defaultConfig, loadConfig } from './config.js';
import { formatConfig, renderConfigDoc } from './doc.js';

describe('docs/configuration.md', () => {
  it('is current (regenerate with `npx tsx src/config/gen-doc.ts`)', () => {
    const onDisk = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderConfigDoc());
  });

  it('documents every key with its default and environment variable', () => {
    const doc = renderConfigDoc();
    for (const k of configKeys()) {
      expect(k.field.doc.length).toBeGreaterThan(10);
      expect(doc).toContain(`| \`${k.path}\` |`);
      expect(doc).toContain(`\`${k.env}\``);
    }
  });

  it('its example file is valid configuration equal to the defaults', () => {
    const doc = renderConfigDoc();
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(yaml).toBeDefined();
    expect(load(yaml!)).toBeInstanceOf(Object);
    expect(loadConfig({ fileText: yaml })).toEqual({ ok: true, config: defaultConfig() });
  });
});

describe('formatConfig', () => {
  it('round-trips: the printed config loads back to the same config', () => {
    const r = loadConfig({ fileText: 'mesos:\n  masters: zk://z1:2181,z2:2181/mesos\n  refuseSeconds: { waiting: 500ms }\npool:\n  executorMem: 1Gi\n  idleTimeout: 90s\n' });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const text = formatConfig(r.config);
    expect(text).toContain('executorMem: 1Gi');
    expect(text).toContain('idleTimeout: 90s');
    expect(text).toContain('waiting: 500ms');
    expect(loadConfig({ fileText: text })).toEqual(r);
  });
});

describe('formatConfig redacts credentials', () => {
  it('a zk:// master with digest credentials is printed without them', () => {
    const r = loadConfig({ fileText: 'mesos:\n  masters: ["zk://ops:s3cret@z1:2181,z2:2181/mesos"]\n' });
    if (!r.ok) throw new Error(r.errors.join('; '));
    const text = formatConfig(r.config);
    expect(text).toContain('masters: ["zk://***@z1:2181,z2:2181/mesos"]');
    expect(text).not.toContain('s3cret');
  });
});
