import { describe, expect, it } from '@jest/globals';
import { apiUrl, basicAuthHeader, resolveLocation, responseContentType } from './http.js';

describe('resolveLocation (307 from a non-leading master)', () => {
  const cur = 'http://10.0.0.1:5050/api/v1/scheduler';
  it.each([
    ['//10.0.0.2:5050', 'http://10.0.0.2:5050/api/v1/scheduler'],
    ['//10.0.0.2:5050/api/v1/scheduler', 'http://10.0.0.2:5050/api/v1/scheduler'],
    ['http://10.0.0.3:5051/api/v1/scheduler', 'http://10.0.0.3:5051/api/v1/scheduler'],
    ['https://m3.example:5050', 'https://m3.example:5050/api/v1/scheduler'],
    ['//[::1]:5050', 'http://[::1]:5050/api/v1/scheduler'],
  ])('%s -> %s', (loc, want) => {
    expect(resolveLocation(loc, cur)).toBe(want);
  });

  it('keeps https from the current URL for a protocol-relative Location', () => {
    expect(resolveLocation('//m2:5050', 'https://m1:5050/api/v1/scheduler')).toBe('https://m2:5050/api/v1/scheduler');
  });

  it.each([undefined, '', 'ftp://x:1/', 'http://'])('unusable Location %j -> undefined', (loc) => {
    expect(resolveLocation(loc, cur)).toBeUndefined();
  });
});

describe('apiUrl', () => {
  it.each([
    ['http://m:5050', 'http://m:5050/api/v1/scheduler'],
    ['http://m:5050/', 'http://m:5050/api/v1/scheduler'],
    ['http://m:5050/api/v1/scheduler', 'http://m:5050/api/v1/scheduler'],
    ['https://lb.example/mesos', 'https://lb.example/mesos/api/v1/scheduler'],
    ['m:5050', 'http://m:5050/api/v1/scheduler'],
  ])('%s', (base, want) => {
    expect(apiUrl(base, '/api/v1/scheduler')).toBe(want);
  });
});

describe('headers', () => {
  it('basic auth is base64(principal:secret)', () => {
    expect(basicAuthHeader('fw', 's3cr:t')).toBe(`Basic ${Buffer.from('fw:s3cr:t').toString('base64')}`);
  });
  it.each([
    ['application/json', 'application/json'],
    ['application/json; charset=utf-8', 'application/json'],
    ['application/x-protobuf', 'application/x-protobuf'],
    [undefined, 'application/x-protobuf'],
    ['text/plain', 'application/x-protobuf'],
  ] as const)('response content type %s -> %s', (h, want) => {
    expect(responseContentType(h, 'application/x-protobuf')).toBe(want);
  });
});
