# The image config/deploy/capstan.yaml runs: capstan's worker and its CRD watcher. No build step
# (the CLI runs the TypeScript through tsx); npm runs no install script (the Temporal SDK's native
# core ships prebuilt). The simulated cloud is not in it: it needs the Go-built kube-apiserver and
# etcd that scripts/ installs, and a real infrastructure provider replaces it in production.
#   docker build -t capstan:latest .
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY tsconfig.json ./
COPY api ./api
COPY activities ./activities
COPY bin ./bin
COPY client ./client
COPY providers ./providers
COPY scripts ./scripts
COPY workers ./workers
COPY workflows ./workflows
USER 65532
ENTRYPOINT ["node", "bin/capstan.mjs"]
CMD ["--help"]
