# syntax=docker/dockerfile:1
# The ipinsights image: one binary that runs every subcommand, with SageMaker's
# bring-your-own-container entry points (`docker run IMAGE train`, `docker run IMAGE serve`;
# see docs/deploy.md). Without a daemon, scripts/build-image.sh assembles the same image with
# umoci from a binary built on a Debian 12 machine.
#
#   docker build -t ipinsights .
#   docker run --rm ipinsights prepare cloudtrail --input s3://... --output s3://...

# ---- builder: the CMake build (release, no tests, no benchmarks) -------------------------
FROM debian:12 AS builder
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libsimdjson-dev libdeflate-dev zlib1g-dev libcli11-dev libfmt-dev libxxhash-dev \
      libboost-dev libcurl4-openssl-dev libssl-dev libyaml-cpp-dev libmaxminddb-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DIPINSIGHTS_BUILD_TESTS=OFF -DIPINSIGHTS_BUILD_BENCH=OFF \
 && cmake --build build --target ipinsights \
 && strip --strip-debug build/ipinsights

# ---- runtime: the binary and the shared libraries it loads, nothing else ------------------
FROM debian:12-slim
# runtime-packages:begin (tests/container/dockerfile_libs_test.py checks this list covers
# every shared library the built binary loads: ldd -> dpkg -S -> package)
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libbrotli1 libc6 libcom-err2 libcurl4 libdeflate0 libffi8 libfmt9 libgcc-s1 \
      libgmp10 libgnutls30 libgssapi-krb5-2 libhogweed6 libidn2-0 libk5crypto3 \
      libkeyutils1 libkrb5-3 libkrb5support0 libldap-2.5-0 libnettle8 libnghttp2-14 \
      libp11-kit0 libpsl5 librtmp1 libsasl2-2 libsimdjson14 libssh2-1 libssl3 \
      libstdc++6 libtasn1-6 libunistring2 libxxhash0 libyaml-cpp0.7 libmaxminddb0 libzstd1 zlib1g \
 && rm -rf /var/lib/apt/lists/*
# runtime-packages:end
# Works as root (SageMaker, AWS Batch) and as any other uid (`--user 1000`, Kubernetes
# runAsNonRoot): /opt/ml and /work are writable by everyone, like /tmp.
RUN groupadd --gid 1000 ipinsights \
 && useradd --uid 1000 --gid 1000 --home-dir /work --no-create-home --shell /usr/sbin/nologin ipinsights \
 && install -d -m 1777 /work /opt/ml /opt/ml/input /opt/ml/input/config /opt/ml/input/data \
      /opt/ml/model /opt/ml/output
COPY --from=builder /src/build/ipinsights /usr/local/bin/ipinsights
WORKDIR /work
EXPOSE 8080
LABEL org.opencontainers.image.title="ipinsights" \
      org.opencontainers.image.description="IP Insights: train, serve and run the daily loop (SageMaker BYOC train/serve)"
# `docker run IMAGE train|serve|prepare|pipeline ...`: the arguments are the subcommand.
ENTRYPOINT ["/usr/local/bin/ipinsights"]
CMD ["--help"]
