# Builds the deskhand binary. Used by docker-compose.yml.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p deskhand

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/deskhand /usr/local/bin/deskhand
COPY config /etc/deskhand
ENV DESKHAND_CONFIG_DIR=/etc/deskhand
USER 65534
ENTRYPOINT ["deskhand"]
CMD ["serve"]
