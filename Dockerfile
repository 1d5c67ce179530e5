# kube-mesos: one image for the scheduler (`kube-mesos scheduler`, the default) and the kubelet executor that Mesos
# agents start (`kube-mesos executor`). Build: docker build -t kube-mesos .
ARG NODE_IMAGE=node:22-bookworm-slim

# 1. Compile TypeScript to dist/ (needs the dev dependencies).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/ ./scripts/
COPY src/ ./src/
RUN npm run build
# The executor bundle the scheduler serves to Mesos agents (delivery.serve; docs/executor.md "Delivery"), with this
# image's node binary: agents need no Node.js.
RUN npm run bundle:executor

# 2. Production dependencies only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. Runtime: node, production node_modules, dist/ and package.json (which makes dist/ ES modules).
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# A larger young generation for V8 (default 16 MB a semi-space): the scheduler allocates per pod and per message
# (watch events, Mesos updates, HTTP), and with 64 MB fewer of those short-lived objects survive into the old
# generation. In the e2e benchmark's backlog (5000 pods, 1000 agents) this cut the scheduler's CPU by 4-16% in five
# of five alternating runs, for 0-100 MB more RSS (docs/performance.md, session 9). Override with the chart's
# extraEnv (NODE_OPTIONS); bench/e2e.bench.ts starts kube-mesos with the flags set here.
ENV NODE_OPTIONS=--max-semi-space-size=64
WORKDIR /app
# A numeric, non-root user: Kubernetes can only verify runAsNonRoot against a numeric USER (the chart runs as 10001).
RUN groupadd --system --gid 10001 kube-mesos \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin kube-mesos
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json README.md ./
USER 10001:10001
# ops server: /healthz /readyz /metrics /debug/state and the dashboard (ops.listen, default 0.0.0.0:10251)
EXPOSE 10251
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["scheduler"]
