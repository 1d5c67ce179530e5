import { MAX_PATTERN_LENGTH, parseConstraints, parsePlacement, parseRoles, parseSpread } from './annotations.js';

describe('kube-mesos.io/roles', () => {
  it.each([
    ['prod,*', { ok: true, value: ['prod', '*'] }],
    [' a/b , c ', { ok: true, value: ['a/b', 'c'] }],
    ['', 'expected a comma-separated list'],
    ['prod,,*', 'expected a comma-separated list'],
    ['..', 'is not allowed'],
    ['/x', "must not start or end with '/'"],
    ['a b', 'whitespace'],
    ['x,x', 'duplicate role'],
  ])('%j', (text, want) => {
    const r = parseRoles(text);
    if (typeof want === 'string') {
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toContain('invalid annotation kube-mesos.io/roles: ');
      expect(!r.ok && r.reason).toContain(want);
    } else expect(r).toEqual(want);
  });
});

describe('kube-mesos.io/constraints', () => {
  it.each([
    ['[["@zone","GROUP_BY","3"],["rack","MAX_PER","2"]]', [{ field: '@zone', operator: 'GROUP_BY', value: '3' }, { field: 'rack', operator: 'MAX_PER', value: '2' }]],
    ['[["hostname","UNIQUE"]]', [{ field: '@hostname', operator: 'UNIQUE' }]],
    ['[["rack","cluster",""]]', [{ field: 'rack', operator: 'CLUSTER' }]],
    ['[["rack","LIKE","r[1-3]"],["@region","UNLIKE","eu-.*"],["gpus","IS","4"]]', [
      { field: 'rack', operator: 'LIKE', value: 'r[1-3]' },
      { field: '@region', operator: 'UNLIKE', value: 'eu-.*' },
      { field: 'gpus', operator: 'IS', value: '4' },
    ]],
    ['[]', []],
  ])('%s', (text, want) => {
    expect(parseConstraints(text)).toEqual({ ok: true, value: want });
  });
  it.each([
    ['[["@zone","GROUP_BY"', 'not JSON'],
    ['{"a":1}', 'expected a JSON array'],
    ['[["@zone"]]', 'expected [field, operator]'],
    ['[["@zone","GROUP_BY",3]]', 'of strings'],
    ['[["@zone","NEAR"]]', 'unknown operator "NEAR"'],
    ['[["@rack","UNIQUE"]]', 'unknown field "@rack"'],
    ['[["rack","MAX_PER"]]', 'MAX_PER needs a positive integer'],
    ['[["rack","MAX_PER","0"]]', 'MAX_PER needs a positive integer'],
    ['[["rack","GROUP_BY","x"]]', 'GROUP_BY takes a number'],
    ['[["rack","LIKE"]]', 'LIKE needs a regular expression'],
    ['[["rack","LIKE","("]]', 'not a valid regular expression'],
    // Java regex features an RE2-class (linear-time) engine cannot run: a clear reason, never an exception
    ['[["rack","LIKE","(a)\\\\1"]]', 'constraint 1 ["rack","LIKE","(a)\\\\1"]: "(a)\\\\1" is not a valid regular expression (backreferences'],
    ['[["rack","UNLIKE","(?=r)r1"]]', 'lookaround'],
    ['[["rack","LIKE","(?<!x)r"]]', 'lookaround'],
    ['[["rack","LIKE","a++"]]', 'not a valid regular expression'],
    [`[["rack","LIKE","${'x'.repeat(MAX_PATTERN_LENGTH + 1)}"]]`, `pattern is ${MAX_PATTERN_LENGTH + 1} characters long (at most ${MAX_PATTERN_LENGTH})`],
    ['[["rack","IS"]]', 'IS needs a value'],
  ])('rejects %s', (text, why) => {
    const r = parseConstraints(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^invalid annotation kube-mesos.io\/constraints: /);
    expect(!r.ok && r.reason).toContain(why);
  });
});

describe('kube-mesos.io/spread and /placement', () => {
  it.each([
    ['zone', { ok: true, value: { field: '@zone' } }],
    ['hostname', { ok: true, value: { field: '@hostname' } }],
    ['region', { ok: true, value: { field: '@region' } }],
    ['rack', { ok: true, value: { field: 'rack' } }],
  ])('spread %s', (text, want) => expect(parseSpread(text)).toEqual(want));
  it.each(['', '@rack', 'a b'])('spread rejects %j', (text) => expect(parseSpread(text).ok).toBe(false));
  it.each([
    ['spread', true],
    ['binpack', true],
    ['pack', false],
  ])('placement %s', (text, ok) => expect(parsePlacement(text).ok).toBe(ok));
});
