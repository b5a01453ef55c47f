# Sourced by scripts/test and scripts/demo: the services the tests and the demo run against.
# 1. osmem-server, the in-memory OpenSearch-compatible indexer (exports OSMEM_SERVER_BIN).
# 2. RabbitMQ on 127.0.0.1:5672 (guest/guest), installed and started if nothing listens there.

if ! python3 -c 'import osmem_server' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check osmem-server
fi
OSMEM_SERVER_BIN="$(python3 -c 'import osmem_server; print(osmem_server.resolve_binary())')"
export OSMEM_SERVER_BIN

if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq rabbitmq-server >/dev/null
  fi
  rabbitmq-server -detached || true
  for _ in $(seq 1 60); do
    (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && break
    sleep 1
  done
fi
rabbitmqctl await_startup >/dev/null 2>&1 || true
