# Loopbot's container image: built in one stage, run from a slim one.
#
#   docker build -t loopbot .
#   docker run -d --name loopbot --env-file .env -p 3000:3000 -v loopbot-data:/data loopbot
#
# The database lives in the /data volume (DATABASE_URL=sqlite:///data/loopbot.db). The time
# zone database is built into the binary, so the image needs no tzdata.

# ---- build ----
FROM rust:1.94-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so a change to Loopbot's own code does not rebuild them.
COPY Cargo.toml Cargo.lock ./
COPY crates/loopbot-clock/Cargo.toml crates/loopbot-clock/
COPY crates/loopbot/Cargo.toml crates/loopbot/
COPY crates/slack-sim/Cargo.toml crates/slack-sim/
RUN mkdir -p src benches crates/loopbot-clock/src crates/loopbot/src crates/slack-sim/src \
    && echo 'fn main() {}' > src/main.rs \
    && touch crates/loopbot-clock/src/lib.rs crates/loopbot/src/lib.rs crates/slack-sim/src/lib.rs \
    && for b in sweep load outbound; do echo 'fn main() {}' > benches/$b.rs; done \
    && cargo build --release --locked --bin loopbot \
    && rm -rf src benches crates
COPY . .
# The dummy build's artefacts are older than the real sources; touch so cargo rebuilds them.
RUN touch src/main.rs crates/*/src/lib.rs \
    && cargo build --release --locked --bin loopbot \
    && strip target/release/loopbot

# ---- run ----
FROM debian:bookworm-slim
# CA certificates for HTTPS to Slack; nothing else.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 loopbot \
    && useradd --system --uid 10001 --gid loopbot --home-dir /data --shell /usr/sbin/nologin loopbot \
    && mkdir -p /data \
    && chown loopbot:loopbot /data \
    && chmod 0700 /data
COPY --from=build /src/target/release/loopbot /usr/local/bin/loopbot
USER loopbot:loopbot
WORKDIR /data
ENV DATABASE_URL=sqlite:///data/loopbot.db \
    LOOPBOT_LISTEN=0.0.0.0:3000 \
    LOOPBOT_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["loopbot", "healthcheck", "--path", "/healthz"]
# SIGTERM drains in-flight requests and the current job within 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["loopbot"]
CMD ["serve"]
