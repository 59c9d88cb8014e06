# syntax=docker/dockerfile:1
# noa-agent: the sidecar that runs beside every service.
#   docker build -f deploy/docker/agent.Dockerfile -t noa/noa-agent:0.1.0 .     (from the repo root)
# Stage 1 builds with Debian 12's packages (as deploy/install-deps.sh); stage 2 is debian:12-slim
# with only the shared libraries the binary links (collect-runtime-libs.sh; libpq, libarchive and
# libcrypto it loads on first use, https goes through noa-agent-tls.so) plus the PostgreSQL
# programs the agent runs (pg_dump, pg_restore, psql; pg_ctl, pg_rewind).
ARG DEBIAN_TAG=12-slim

FROM debian:12 AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libzmq3-dev cppzmq-dev libmsgpack-cxx-dev librocksdb-dev prometheus-cpp-dev \
      libboost-program-options-dev libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev \
      libyaml-cpp-dev libssl-dev libpq-dev libhiredis-dev libarchive-dev libjwt-dev \
      libsodium-dev libpgm-dev libnorm-dev libbsd-dev libmd-dev libkrb5-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DNOA_BUILD_TESTS=OFF \
    && ninja -C /build noa-agent noa-agent-tls \
    && strip /build/agent/noa-agent /build/agent/noa-agent-tls.so \
    && install -D -m 755 /build/agent/noa-agent /out/usr/local/bin/noa-agent \
    && install -D -m 644 /build/agent/noa-agent-tls.so /out/usr/local/lib/noa/noa-agent-tls.so \
    && install -D -m 755 deploy/docker/noa-healthcheck /out/usr/local/bin/noa-healthcheck \
    && bash deploy/docker/collect-runtime-libs.sh /out/usr/local/lib/noa /build/agent/noa-agent \
         /build/agent/noa-agent-tls.so /usr/lib/x86_64-linux-gnu/libpq.so.5 \
         /usr/lib/x86_64-linux-gnu/libarchive.so.13 /usr/lib/x86_64-linux-gnu/libcrypto.so.3

FROM debian:${DEBIAN_TAG} AS runtime
# Runtime programs the agent calls, no compilers: pg_dump/pg_restore/psql (backup and restore
# actions) and the server's pg_ctl/pg_rewind (kind postgres: fencing, rejoin after a failover;
# --pg-bin-dir /usr/lib/postgresql/15/bin). No cluster is created in the image.
# (postgresql-common first, so that installing the server creates no cluster, as the official
# postgres images do.)
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-common \
    && sed -ri 's/#(create_main_cluster) .*$/\1 = false/' /etc/postgresql-common/createcluster.conf \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      postgresql-client-15 postgresql-15 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 noa \
    && useradd --system --uid 10001 --gid noa --home-dir /var/lib/noa-agent --shell /usr/sbin/nologin noa \
    && install -d -o 10001 -g 10001 -m 750 /var/lib/noa-agent /var/lib/noa-backups
COPY --from=build /out/ /
RUN echo /usr/local/lib/noa > /etc/ld.so.conf.d/noa.conf && ldconfig \
    && noa-agent --help >/dev/null
# Every flag is also an NOA_* variable; these are the container defaults (override per service).
# The agent's own /health, /health/ready, /health/startup and /metrics listen on 7711.
ENV NOA_HTTP_LISTEN=0.0.0.0:7711 \
    NOA_CONTROLLER=tcp://noa-controller:7701 \
    NOA_CONTROLLER_PUBLIC_KEY_FILE=/etc/noa/keys/controller.pub \
    NOA_BACKUP_DIR=/var/lib/noa-backups
# Read-only root friendly: the agent writes only below its state dir (a volume) and the backup dir.
VOLUME ["/var/lib/noa-agent", "/var/lib/noa-backups"]
USER 10001:10001
EXPOSE 7711
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/noa-healthcheck", "7711", "/health"]
ENTRYPOINT ["/usr/local/bin/noa-agent"]
