# Build: a static binary with everything embedded (migrations, templates,
# static files, time zones).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/boxoffice .

# Run: Debian slim with the PostgreSQL server, so that the embedded default
# works; set DATABASE_URL to use your own database instead.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /home/boxoffice --uid 10001 boxoffice \
 && mkdir -p /data && chown boxoffice:boxoffice /data
COPY --from=build /out/boxoffice /usr/local/bin/boxoffice
ENV PATH="/usr/lib/postgresql/15/bin:${PATH}" \
    BOXOFFICE_ADDR=":8080" \
    BOXOFFICE_DATA_DIR="/data" \
    BOXOFFICE_LOG_FORMAT="json"
VOLUME /data
EXPOSE 8080 80 443
USER boxoffice
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${BOXOFFICE_ADDR##*:} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '200 OK' <&3"]
ENTRYPOINT ["/usr/local/bin/boxoffice"]
CMD ["serve"]
