import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { configKeys, defaultConfig, loadConfig } from './config.js';
import { renderConfigDoc } from './doc.js';

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
