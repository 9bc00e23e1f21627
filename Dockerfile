# Builds the deskhand binary and its tools (demo, eval, train, bench). Used by
# docker-compose.yml.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p deskhand -p deskhand-tools

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/deskhand /src/target/release/deskhand-tools /usr/local/bin/
COPY config /etc/deskhand
# The demo shop's policy pages; docker-compose.yml mounts the shop's own over them.
COPY knowledge /etc/deskhand/knowledge
ENV DESKHAND_CONFIG_DIR=/etc/deskhand DESKHAND_KNOWLEDGE_DIR=/etc/deskhand/knowledge
USER 65534
ENTRYPOINT ["deskhand"]
CMD ["serve"]
