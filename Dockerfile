# autobuild as a container image: `serve`, `worker` or `start` (the default), configured by a
# mounted /etc/autobuild/autobuild.yml and the environment. Builds run with buildah inside the
# container (daemonless) or on a docker engine reached through DOCKER_HOST / a mounted socket;
# what each needs from the host, and what that means for trust, is in README.md, "Deploy".
#
#   docker build -t autobuild .
#   docker run -v $PWD/autobuild.yml:/etc/autobuild/autobuild.yml:ro -p 8080:8080 autobuild
#
# Build arguments:
#   BASE        the Node image everything runs on (a Debian-based Node LTS slim image by default)
#   DOCKER_CLI  an image holding a static docker CLI at /usr/local/bin/docker
#   TOOLS       Debian packages added to BASE; empty when BASE already has what builds need
#   APP         where /app comes from: the `build` stage below (from this checkout), or an image
#               that already holds it (made with `node scripts/pack-app.mjs`)
ARG BASE=node:24-bookworm-slim
ARG DOCKER_CLI=docker:28-cli
ARG APP=build

# Compile from this checkout, then keep only what runs: no compiler, test runner or dev packages.
FROM ${BASE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && node scripts/pack-app.mjs /app

FROM ${APP} AS app
FROM ${DOCKER_CLI} AS docker-cli

FROM ${BASE}
# git for checkouts, openssh-client for submodules over SSH, buildah (brings uidmap) for
# daemonless builds, redis-server for `start` without REDIS_URL (its own Redis in the volume). The user is written into /etc/passwd directly so that any base with a
# shell works; its subordinate ids let rootless buildah map a user namespace.
ARG TOOLS="buildah git openssh-client ca-certificates redis-server"
RUN set -eu; \
    if [ -n "$TOOLS" ]; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $TOOLS; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    echo 'autobuild:x:10001:10001:autobuild:/var/lib/autobuild:/usr/sbin/nologin' >> /etc/passwd; \
    echo 'autobuild:x:10001:' >> /etc/group; \
    echo 'autobuild:100000:65536' >> /etc/subuid; \
    echo 'autobuild:100000:65536' >> /etc/subgid; \
    mkdir -p /var/lib/autobuild /etc/autobuild; \
    chown 10001:10001 /var/lib/autobuild
COPY --from=docker-cli /usr/local/bin/docker /usr/local/bin/docker
COPY --from=app /app /app

# ./autobuild.yml wins over AUTOBUILD_CONFIG when present, so the working directory (the data
# volume) holds none. PORT overrides server.port; server.host must be 0.0.0.0 in the file.
ENV AUTOBUILD_CONFIG=/etc/autobuild/autobuild.yml \
    PORT=8080 \
    HOME=/var/lib/autobuild \
    BUILDAH_ISOLATION=chroot \
    NODE_ENV=production
WORKDIR /var/lib/autobuild
VOLUME ["/var/lib/autobuild"]
USER 10001:10001
EXPOSE 8080
# /healthz answers 200 while Redis does. `worker` serves no HTTP: turn the check off for it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
LABEL org.opencontainers.image.title="autobuild" \
      org.opencontainers.image.description="Self-hosted automated Docker image builds from GitHub webhooks" \
      org.opencontainers.image.licenses="MIT"
ENTRYPOINT ["node", "/app/bin/autobuild.js"]
CMD ["start"]
