/**
 * Loads kube-mesos' Mesos v1 proto subset. The .proto files sit beside this module both in `src/` (tests) and
 * in `dist/` (the build copies them), so they are found relative to `import.meta.url`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export const PROTO_DIR = fileURLToPath(new URL('.', import.meta.url));
export const PROTO_FILES = ['mesos.proto', 'scheduler.proto', 'executor.proto'] as const;

let cached: protobuf.Root | undefined;

/** A fresh, fully resolved Root of the three files (snake_case names kept as in the proto). */
export function loadMesosRoot(dir: string = PROTO_DIR): protobuf.Root {
  const root = new protobuf.Root();
  // Imports are written as bare file names ("mesos.proto"); resolve them within `dir`.
  root.resolvePath = (_origin, target) => path.join(dir, path.basename(target));
  const files = PROTO_FILES.map((f) => path.join(dir, f));
  for (const f of files) if (!existsSync(f)) throw new Error(`Mesos proto file missing: ${f}`);
  root.loadSync(files, { keepCase: true });
  root.resolveAll();
  return root;
}

/** The process-wide Root, loaded once. */
export function mesosRoot(): protobuf.Root {
  cached ??= loadMesosRoot();
  return cached;
}
