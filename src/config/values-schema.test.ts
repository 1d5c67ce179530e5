import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { dump, load } from 'js-yaml';
import { configKeys, loadConfig } from './config.js';
import { configJsonSchema, fieldJsonSchema } from './json-schema.js';
import { renderValuesSchema } from './values-schema.js';

const chart = (f: string) => new URL(`../../charts/kube-mesos/${f}`, import.meta.url);
const ajv = new Ajv({ allErrors: true });
const validateValues = ajv.compile(JSON.parse(renderValuesSchema()) as object);

/** ajv's errors as `dotted.path: message`, the shape helm prints them in. */
function schemaErrors(values: unknown): string[] {
  if (validateValues(values)) return [];
  return (validateValues.errors ?? []).map((e) => {
    const at = e.dataPath.replace(/^\./, '').replace(/\['([^']+)'\]/g, '.$1');
    const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : '';
    return `${at || '(root)'}: ${e.message}${extra}`;
  });
}

function schedulerErrors(config: object): string[] {
  const r = loadConfig({ fileText: dump(config) });
  return r.ok ? [] : r.errors;
}

describe('charts/kube-mesos/values.schema.json', () => {
  it('is current (regenerate with `npx tsx src/config/gen-schema.ts`)', () => {
    expect(readFileSync(chart('values.schema.json'), 'utf8')).toBe(renderValuesSchema());
  });

  it('accepts the chart\'s values.yaml', () => {
    expect(schemaErrors(load(readFileSync(chart('values.yaml'), 'utf8')))).toEqual([]);
  });

  it('rejects a wrong type where the scheduler does, both naming the key and what it expects', () => {
    const schema = schemaErrors({ pool: { idleTimeout: 10 } });
    const scheduler = schedulerErrors({ pool: { idleTimeout: 10 } });
    expect(schema).toEqual(['pool.idleTimeout: should be string']);
    expect(scheduler).toEqual(['config: pool.idleTimeout: expected a duration such as 15s, 5m or 1h30m, got 10']);
    // the same key, the same expected kind of value (a duration is written as a string)
    expect(keyOf(schema[0])).toBe(keyOf(scheduler[0].replace(/^config: /, '')));
  });

  it('rejects an unknown key in extraConfig where the scheduler does, both naming it', () => {
    const extraConfig = { mesos: { mastrs: ['http://m:5050'] } };
    const schema = schemaErrors({ extraConfig });
    const scheduler = schedulerErrors(extraConfig);
    expect(schema).toEqual(['extraConfig.mesos: should NOT have additional properties (mastrs)']);
    expect(scheduler).toEqual([expect.stringMatching(/^config: mesos\.mastrs: unknown key \(did you mean mesos\.masters\?/)]);
    expect(`${keyOf(schema[0]).replace(/^extraConfig\./, '')}.mastrs`).toBe(keyOf(scheduler[0].replace(/^config: /, '')));
  });

  it('rejects an unknown chart key and an out-of-range pool value', () => {
    expect(schemaErrors({ replica: 3 })).toEqual(['(root): should NOT have additional properties (replica)']);
    expect(schemaErrors({ pool: { maxPodsPerKubelet: 0 } })).toEqual(['pool.maxPodsPerKubelet: should be >= 1']);
    expect(schedulerErrors({ pool: { maxPodsPerKubelet: 0 } })).toEqual(['config: pool.maxPodsPerKubelet: 0 is out of range (allowed: 1 to 10000)']);
  });
});

function keyOf(message: string): string {
  return message.slice(0, message.indexOf(':'));
}

describe('the generated JSON Schema agrees with the scheduler on every key', () => {
  const samples: unknown[] = [true, 'yes', 0, -1, 0.5, 3, 20000, 1e9, '15s', '100ms', '1h30m', '10 min', '250m', '128Mi', 'Gi', [], ['a'], ['*', 'prod'], [1], {}, { a: 1 }, null, 'http://m:5050', 'spread', 'protobuf', 'info', ''];
  const validateConfig = ajv.compile(configJsonSchema());

  it.each(configKeys().map((k) => [k.path, k.field] as const))('%s: what the scheduler accepts, the schema accepts; a wrong type both reject', (path, field) => {
    const validate = ajv.compile(fieldJsonSchema(field, path));
    expect(validate(JSON.parse(JSON.stringify(fieldJsonSchema(field, path).default)))).toBe(true);
    for (const v of samples) {
      const scheduler = field.parse(v, false).ok;
      const schema = validate(v) as boolean;
      // JSON Schema cannot express every rule (a DNS label, a master URL): it may accept more, never less
      if (scheduler) expect([path, v, schema]).toEqual([path, v, true]);
      // a value of a type the field never takes is rejected by both
      const typeOk = (fieldJsonSchema(field, path).type as string | string[]) ?? [];
      const jsType = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v;
      const allowed = ([] as string[]).concat(typeOk);
      if (!allowed.includes(jsType) && !(jsType === 'integer' && allowed.includes('number'))) expect([path, v, scheduler, schema]).toEqual([path, v, false, false]);
    }
  });

  it('the whole config: an unknown section or key is rejected by both', () => {
    expect(validateConfig({ mesos: { masters: ['http://m:5050'] }, pool: { idleTimeout: '5m' } })).toBe(true);
    expect(validateConfig({ mesoss: {} })).toBe(false);
    expect(schedulerErrors({ mesoss: {} })).toEqual([expect.stringMatching(/^config: mesoss: unknown key/)]);
    expect(validateConfig({ pool: { idleTimeoutt: '5m' } })).toBe(false);
    expect(schedulerErrors({ pool: { idleTimeoutt: '5m' } })).toEqual([expect.stringMatching(/^config: pool\.idleTimeoutt: unknown key/)]);
  });
});
