# syntax=docker/dockerfile:1
# The operator image: a static (musl) binary on distroless/static, running as non-root.
# Build from the repository root:  docker build -t dashboard-user-operator:0.1.0 .

FROM rust:1.95-bookworm AS build
# musl-tools: ring (rustls' crypto) compiles C, which a static musl binary needs musl-gcc for.
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# One native build per platform (docker buildx --platform): the triple follows the builder.
RUN target="$(uname -m)-unknown-linux-musl" \
 && rustup target add "$target" \
 && cargo build --locked --release --target "$target" \
      -p dashboard-user-operator --bin dashboard-user-operator \
 && install -D "target/$target/release/dashboard-user-operator" /out/dashboard-user-operator

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/dashboard-user-operator /dashboard-user-operator
# nonroot (65532), matching the chart's runAsUser; the root filesystem can be read-only.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/dashboard-user-operator"]
CMD ["run"]
