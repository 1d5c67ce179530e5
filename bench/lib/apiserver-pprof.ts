/**
 * The API server's own CPU profile (Go pprof, served at /debug/pprof/profile when it runs with --profiling=true) of a
 * window of a benchmark run, fetched with kubectl into a file: `go tool pprof -top -nodecount=40 FILE` reads it. What
 * the API server spends its CPU on for each contender (serialisation, admission, etcd, watch fan-out, TLS) is the part
 * of a run no Node profile shows.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Starts profiling now for `seconds`; resolves with the file written, or rejects with kubectl's error. */
export async function apiserverCpuProfile(kubeconfig: string, seconds: number, file: string): Promise<string> {
  await mkdir(dirname(file), { recursive: true });
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file);
    const p = spawn('kubectl', ['--kubeconfig', kubeconfig, '--request-timeout', `${seconds + 30}s`, 'get', '--raw', `/debug/pprof/profile?seconds=${seconds}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stdout.pipe(out);
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      out.end(() => (code === 0 ? resolve(file) : reject(new Error(`kubectl get --raw /debug/pprof/profile: exit ${String(code)}: ${err.trim()}`))));
    });
  });
}
