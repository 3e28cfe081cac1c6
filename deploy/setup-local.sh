#!/usr/bin/env bash
# Prepare this machine for Shipmate: Debian packages, the project in .venv, a running
# dockerd and the offline base image. Safe to run again: each step skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v git >/dev/null || need+=(git)
command -v caddy >/dev/null || need+=(caddy)  # the local target's router (stable URLs)
[ -x /usr/sbin/haproxy ] || need+=(haproxy)  # the TLS proxy in front of Temporal in the TLS tests
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)  # shipmate dev's own
[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)  # shipmate dev's own, for MySQL specs
[ -x /usr/bin/chromium ] || need+=(chromium)  # the emulator page's browser test
command -v dot >/dev/null || need+=(graphviz)  # a review's architecture pictures
[ -x /usr/sbin/rabbitmq-server ] || need+=(rabbitmq-server)  # generated services' events
[ -x /usr/sbin/nats-server ] || need+=(nats-server)  # ... and NATS JetStream's
if ((${#need[@]})); then
    echo "setup: apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    python3 -m venv .venv
fi
echo "setup: installing shipmate with its test extras (pinned by constraints.txt)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]" 2>&1 \
    | grep -v "^WARNING: Location" || true

# The brokers generated services publish to and consume from (SHIPMATE_RABBITMQ_URL and
# SHIPMATE_NATS_URL point here): started when nothing answers on their ports.
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! answers 5672; then
    echo "setup: starting RabbitMQ"
    rabbitmq-server -detached >/dev/null 2>&1 || true
fi
if ! answers 4222; then
    echo "setup: starting NATS with JetStream"
    mkdir -p /var/lib/nats-server
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
        -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
fi
for port in 5672 4222; do
    for _ in $(seq 60); do answers "$port" && break; sleep 1; done
    answers "$port" || echo "setup: nothing answers on 127.0.0.1:$port (the event tests need it)"
done

# Starts dockerd when it is not answering and builds the base image when it is missing.
.venv/bin/shipmate doctor --fix
