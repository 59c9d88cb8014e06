# syntax=docker/dockerfile:1
# noa-controller (and noactl): state in RocksDB under /var/lib/noa-controller (a volume).
#   docker build -f deploy/docker/controller.Dockerfile -t noa/noa-controller:0.1.0 .   (from the repo root)
# Stage 1 builds with Debian 12's packages (as deploy/install-deps.sh); stage 2 is debian:12-slim
# with only the shared libraries the binaries link (collect-runtime-libs.sh).
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
    && ninja -C /build noa-controller noactl \
    && strip /build/controller/noa-controller /build/controller/noactl \
    && install -D -m 755 /build/controller/noa-controller /out/usr/local/bin/noa-controller \
    && install -D -m 755 /build/controller/noactl /out/usr/local/bin/noactl \
    && install -D -m 755 deploy/docker/noa-healthcheck /out/usr/local/bin/noa-healthcheck \
    && bash deploy/docker/collect-runtime-libs.sh /out/usr/local/lib/noa \
         /build/controller/noa-controller /build/controller/noactl

FROM debian:${DEBIAN_TAG} AS runtime
RUN groupadd --system --gid 10001 noa \
    && useradd --system --uid 10001 --gid noa --home-dir /var/lib/noa-controller --shell /usr/sbin/nologin noa \
    && install -d -o 10001 -g 10001 -m 700 /var/lib/noa-controller
COPY --from=build /out/ /
RUN echo /usr/local/lib/noa > /etc/ld.so.conf.d/noa.conf && ldconfig \
    && noa-controller --help >/dev/null && noactl --help >/dev/null
# Every flag is also an NOA_* variable; these are the container defaults. A non-loopback REST API
# needs TLS (--api-tls-cert-file/--api-tls-key-file) or, behind a TLS proxy inside a private
# network, NOA_API_ALLOW_PLAIN_HTTP=true; the HEALTHCHECK below speaks plain HTTP.
ENV NOA_DATA_DIR=/var/lib/noa-controller \
    NOA_LISTEN=tcp://0.0.0.0:7701 \
    NOA_API_LISTEN=0.0.0.0:7700
# Read-only root friendly: the controller writes only below --data-dir (RocksDB, its CURVE keys).
VOLUME ["/var/lib/noa-controller"]
USER 10001:10001
# 7700 REST API + /metrics, 7701 agent channel (ZeroMQ + CURVE)
EXPOSE 7700 7701
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/noa-healthcheck", "7700", "/v1/health"]
ENTRYPOINT ["/usr/local/bin/noa-controller"]
