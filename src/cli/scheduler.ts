import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { KubeClient } from '../kube/client.js';
import { KubeHttp } from '../kube/http.js';
import { loadKubeConfig } from '../kube/kubeconfig.js';
import { LeaderElector, leaseApi } from '../kube/leader.js';
import { ConfigMapStateStore } from '../kube/state-store.js';
import { createOpsApp } from '../ops/app.js';
import { dashboardRouter } from '../ops/dashboard.js';
import { DeliveryConfigError, setupDelivery } from '../delivery/setup.js';
import { delegatedAuth, kubeAccessReviewer, selfSignedCertificate } from '../ops/auth.js';
import { parseListen, startOpsServer } from '../ops/server.js';
import { LeaderWork } from '../scheduler/leading.js';
import { startSchedulerService, type SchedulerService } from '../scheduler/service.js';
import { createLogger } from '../telemetry/log.js';
import { createRegistry } from '../telemetry/metrics.js';
import { StartupError, UsageError, type Command } from './command.js';
import { checkApiServer, checkMesosMasters } from './preflight.js';
import { CONFIG_FLAGS, configFromArgs, selfExecutorCommand } from './scheduler-config.js';

export const command: Command = {
  name: 'scheduler',
  summary: 'Run the kube-mesos framework: a Mesos scheduler that places Kubernetes pods (schedulerName: kube-mesos) on Mesos agents.',
  details: 'Configuration: defaults ← --config YAML ← KUBE_MESOS_* environment ← flags. See docs/configuration.md for every key.',
  flags: { ...CONFIG_FLAGS },
  async run(args, io) {
    const config = configFromArgs(args, io.env);
    const log = createLogger({ level: config.ops.logLevel });
    const secret = config.mesos.secretFile ? readStartupFile(config.mesos.secretFile, 'mesos.secretFile', 'the Mesos principal\'s secret').trim() : undefined;
    const ca = config.mesos.caFile ? readStartupFile(config.mesos.caFile, 'mesos.caFile', 'a PEM CA bundle') : undefined;
    const found = loadKubeConfig({ path: config.kube.kubeconfig, env: io.env });
    if (!found.ok) throw new StartupError(found.error);
    const { kc } = found;
    const registry = createRegistry({ defaultMetrics: true });
    const http = new KubeHttp(kc, { qps: 10, burst: 20, tokenFile: found.tokenFile, registry });
    log.info({ kubeconfig: found.source, server: found.server }, 'Kubernetes credentials');
    const apiServer = await checkApiServer(http, found.source, { signal: io.signal });
    if (!apiServer.ok) throw new StartupError(apiServer.error);
    const masters = await checkMesosMasters(config.mesos.masters, { ca, signal: io.signal });
    if (!masters.ok) throw new StartupError(masters.error);
    const kube = new KubeClient(http);
    const store = new ConfigMapStateStore({ client: kube, namespace: config.kube.namespace, name: config.kube.stateConfigMap, log });

    let work: LeaderWork<SchedulerService> | undefined;
    const current = (): SchedulerService | undefined => work?.service;
    let leading = !config.kube.leaderElect;
    const app = createOpsApp({
      health: () => true,
      readiness: () => {
        const service = current();
        if (!service) return { ready: config.kube.leaderElect, checks: { leaderOrStandby: config.kube.leaderElect ? 'standby' : 'starting' } };
        return service.readiness();
      },
      registry,
      debugState: () => ({ leading, ...(current()?.core.debugState() ?? {}) }),
      ...(config.ops.secure ? { auth: delegatedAuth({ reviewer: kubeAccessReviewer(kc), cacheTtlMs: config.ops.authCacheTTL, log: log.child({ component: 'ops-auth' }) }) } : {}),
      routes: dashboardRouter({ state: () => current()?.core.dashboardState(), unavailable: () => (leading ? 'the scheduler is starting' : 'standby: another replica leads; open its dashboard') }),
      log,
    });
    let delivery;
    try {
      delivery = await setupDelivery(config, { log, preinstalledCommand: config.pool.executorCommand || selfExecutorCommand() });
    } catch (err) {
      if (err instanceof DeliveryConfigError) throw new UsageError(err.message);
      throw err;
    }
    let tls: { cert: string; key: string } | undefined;
    if (config.ops.secure && config.ops.tlsCertFile) tls = { cert: readFileSync(config.ops.tlsCertFile, 'utf8'), key: readFileSync(config.ops.tlsKeyFile, 'utf8') };
    else if (config.ops.secure) {
      const listenHost = parseListen(config.ops.listen);
      const hosts = ['localhost', '127.0.0.1', hostname(), ...(listenHost.ok && listenHost.host && listenHost.host !== '0.0.0.0' && listenHost.host !== '::' ? [listenHost.host] : [])];
      tls = await selfSignedCertificate([...new Set(hosts)]);
      log.info({ hosts }, 'ops server: no ops.tlsCertFile; serving a self-signed certificate');
    }
    const ops = await startOpsServer(app, config.ops.listen, tls).catch((err: unknown) => {
      throw new StartupError(`${(err as Error).message}. Fix: choose a free address with --listen (ops.listen).`);
    });
    log.info({ url: ops.url, authentication: config.ops.secure ? 'delegated (TokenReview/SubjectAccessReview)' : 'none (loopback)' }, 'ops server listening');

    // Prepared when leadership is won; subscribes only if it still leads once ready (issue 16 item 8).
    const leaderWork = (work = new LeaderWork<SchedulerService>({
      prepare: async (leadership) => {
        // Never subscribe without the stored id unless the store says there is none (issue 16 item 2).
        const fid = await store.getFrameworkIdUntilKnown({ signal: leadership });
        if (!fid.ok) return undefined;
        return startSchedulerService({
          config,
          kubeconfig: kc,
          tokenFile: found.tokenFile,
          log,
          secret,
          ca,
          executorCommand: config.pool.executorCommand || selfExecutorCommand(),
          executorDelivery: delivery.delivery,
          executorKubeconfig: config.pool.executorKubeconfig || config.kube.kubeconfig,
          user: io.env.USER,
          frameworkId: fid.value,
          registry,
          subscribe: false,
          onFrameworkId: (id) => {
            store.setFrameworkId(id).then(
              (r) => r.ok || log.error({ kind: r.kind, message: r.message }, 'cannot store the framework id'),
              (err: unknown) => log.error({ err }, 'cannot store the framework id'),
            );
          },
        });
      },
      log,
      onError: (err) => {
        if (!config.kube.leaderElect) return; // thrown below, as any start-up failure
        log.error({ err }, 'scheduler failed to start');
        process.exitCode = 1;
      },
    }));

    try {
      if (config.kube.leaderElect) {
        const identity = `${hostname()}_${randomBytes(4).toString('hex')}`;
        const elector = new LeaderElector({
          lease: leaseApi(kube, config.kube.namespace, config.kube.leaseName),
          identity,
          leaseDurationMs: config.kube.leaseDuration,
          renewDeadlineMs: config.kube.renewDeadline,
          retryPeriodMs: config.kube.retryPeriod,
          log,
          onStartedLeading: (leadership) => {
            leading = true;
            log.info({ identity }, 'became leader');
            void leaderWork.started(leadership); // a failure is logged and sets the exit code (onError)
          },
          onStoppedLeading: () => {
            leading = false;
            log.warn({ identity }, 'lost leadership');
          },
        });
        await elector.run(io.signal);
        if (!io.signal.aborted) {
          // Leadership lost: exit so the supervisor restarts us as a standby, as client-go's schedulers do. A start
          // still pending is waited for and stopped before it subscribes.
          await leaderWork.stop();
          await ops.close();
          return 1;
        }
      } else {
        const term = await leaderWork.started(io.signal);
        if (term.kind === 'failed') throw term.error;
        await new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }));
      }
    } finally {
      await leaderWork.stop();
      await ops.close();
      await delivery.server?.stop();
    }
    log.info('stopped');
    return 0;
  },
};

/** A file the configuration names, read at start; a failure is one line naming the key, the path and the fix. */
function readStartupFile(path: string, key: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new StartupError(`${key} ${path}: cannot read it: ${why}. Fix: point ${key} at ${what} (e.g. a mounted Secret or ConfigMap).`);
  }
}
