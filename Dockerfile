# Herald container image (SPEC §15 "Docker"). Build: docker build -t herald .
# Run:   docker run -v herald-state:/var/lib/herald -p 8425:8425 -e HERALD_SLACK_TOKEN=… herald
# The image starts as built: notifiers whose secret is not given are reported as not configured in /readyz.

# Build stage: release build with the Swift standard library linked statically.
FROM swift:6.3-bookworm AS build
# Debian's security updates replace package versions in place, so exact pins would break rebuilds.
# hadolint ignore=DL3008
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        libcurl4-openssl-dev libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks
RUN swift build -c release --product herald --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/herald" /out/herald

# Runtime stage: slim Debian with the C libraries Herald links, and curl for the health check.
FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        libcurl4 libsqlite3-0 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 herald \
    && useradd --system --uid 10001 --gid herald --home-dir /var/lib/herald --shell /usr/sbin/nologin herald \
    && install -d -o herald -g herald -m 0750 /var/lib/herald \
    && install -d -m 0755 /etc/herald
COPY --from=build /out/herald /usr/local/bin/herald
COPY config/herald.container.yaml /etc/herald/herald.yaml
ENV HERALD_CONFIG=/etc/herald/herald.yaml
USER 10001:10001
WORKDIR /var/lib/herald
VOLUME ["/var/lib/herald"]
EXPOSE 8425
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8425/healthz"]
ENTRYPOINT ["/usr/local/bin/herald"]
CMD ["serve"]
