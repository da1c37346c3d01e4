# Build stage: release build with the Swift standard library linked statically.
FROM swift:6.2-bookworm AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcurl4-openssl-dev libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY Benchmarks ./Benchmarks
RUN swift build -c release --product herald --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/herald" /out/herald

# Runtime stage: slim Debian with the C libraries Herald links.
FROM debian:bookworm-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcurl4 libsqlite3-0 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system herald && useradd --system --gid herald --home-dir /var/lib/herald herald \
    && install -d -o herald -g herald /var/lib/herald /etc/herald
COPY --from=build /out/herald /usr/local/bin/herald
COPY config/herald.yaml /etc/herald/herald.yaml
USER herald
VOLUME ["/var/lib/herald"]
EXPOSE 8425 9425
ENV HERALD_CONFIG=/etc/herald/herald.yaml
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s CMD curl -fsS http://127.0.0.1:8425/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/herald"]
CMD ["serve"]
