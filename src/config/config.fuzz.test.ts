// Seeded fuzz (issue 16): configuration values from a file, the environment and flags. loadConfig must return a
// value (never throw), within 100 ms, and every error line must name the key (or the file / variable / flag).
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { withinHangBudget } from '../../test/support/fuzz.js';
import { configKeys, loadConfig } from './config.js';

const KEYS = configKeys();
const PATHS = KEYS.map((k) => k.path);
const ENVS = KEYS.map((k) => k.env);
const NAMED = new RegExp(`^config: (${[...PATHS, ...ENVS].map((p) => p.replace(/\./g, '\\.')).join('|')}|--set \\S+|KUBE_MESOS_\\w+|config file|[^\\s:][^:]*: )`);

const rawValue = fc.oneof(
  fc.constantFrom('720h', '1000000h', '0s', '-1s', '1e400h', '9007199254740993', 'NaN', 'Infinity', '', ' ', 'true', 'zk://u:p@z:2181/m', 'https://u:p@m:5050', '127.0.0.1:0', '0.0.0.0:99999', '128Mi', '1e30Gi', '250m', '.5h', '1h30m', 'http://m:5050,http://n:5050'),
  fc.string({ maxLength: 30 }),
  fc.integer().map(String),
  fc.double().map(String),
);
const flags = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PATHS), fc.string({ maxLength: 12 })), rawValue), { maxLength: 6 });
const env = fc.dictionary(fc.oneof(fc.constantFrom(...ENVS), fc.constant('KUBE_MESOS_MESOS_X')), rawValue, { maxKeys: 4 });
const yamlText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.tuple(fc.constantFrom(...PATHS), fc.oneof(rawValue, fc.constantFrom('[1, 2]', '{a: 1}', 'null', '~', '- x'))).map(([p, v]) => {
    const parts = p.split('.');
    return parts.map((k, i) => `${'  '.repeat(i)}${k}:${i === parts.length - 1 ? ` ${v}` : ''}`).join('\n');
  }),
);

describe('loadConfig under fuzz', () => {
  it('never throws, never hangs, and every error names what it is about', () => {
    fc.assert(
      fc.property(fc.option(yamlText, { nil: undefined }), env, flags, (fileText, e, f) => {
        const r = withinHangBudget(() => loadConfig({ fileText, env: e, flags: f }));
        if (!r.ok) for (const line of r.errors) expect(line).toMatch(NAMED);
      }),
      { seed: 16_003, numRuns: 2000 },
    );
  });
});
