# Shared helpers of the local scripts (sourced, not run).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$ROOT/target/aiprod-pipeline-bundled.jar"
export NO_GCE_CHECK=true

# The engine of local streaming runs (scripts/run-local --streaming, scripts/bench-stream).
STREAMING_ENGINE=(--runner=FlinkRunner '--flinkMaster=[local]')

log() { printf '%s\n' "$*" >&2; }

# Builds the bundled jar when it is missing or older than any source, resource or the pom.
ensure_jar() {
  if [[ -f "$JAR" ]] && [[ -z "$(find "$ROOT/src/main" "$ROOT/pom.xml" -newer "$JAR" -print -quit)" ]]; then
    return 0
  fi
  log "building $JAR (mvn -B -q -DskipTests package) ..."
  (cd "$ROOT" && mvn -B -q -DskipTests package) >&2
}

# Runs a command of the tools' CLI (tools.Cli: COMMAND --help describes each; exit 2 = bad usage).
run_cli() {
  java -cp "$JAR" com.aiprod.pipeline.tools.Cli "$@"
}

# Prints a free loopback TCP port.
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$(( (RANDOM % 20000) + 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  log "no free port found"
  return 1
}

# Waits until http://127.0.0.1:$1/ answers, at most $2 seconds.
wait_http() {
  local port="$1" limit="${2:-60}"
  for _ in $(seq 1 $((limit * 4))); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/"; then
      return 0
    fi
    sleep 0.25
  done
  return 1
}

# Stops a process and every descendant (gcloud starts the emulator as a child java process).
kill_tree() {
  local pid="$1" child
  for child in $(pgrep -P "$pid" 2>/dev/null); do
    kill_tree "$child"
  done
  kill "$pid" 2>/dev/null || true
}

# Starts the Firestore emulator on a free loopback port; sets FIRESTORE_PORT and FIRESTORE_PID.
start_firestore() {
  FIRESTORE_PORT="$(free_port)"
  local logf="$ROOT/local/firestore-emulator.log"
  mkdir -p "$ROOT/local"
  gcloud emulators firestore start --host-port="127.0.0.1:$FIRESTORE_PORT" --quiet >"$logf" 2>&1 &
  FIRESTORE_PID=$!
  if ! wait_http "$FIRESTORE_PORT" 90; then
    log "the Firestore emulator did not start; see $logf"
    kill_tree "$FIRESTORE_PID"
    return 1
  fi
  log "Firestore emulator on 127.0.0.1:$FIRESTORE_PORT (pid $FIRESTORE_PID)"
}

stop_firestore() {
  if [[ -n "${FIRESTORE_PID:-}" ]]; then
    kill_tree "$FIRESTORE_PID"
    wait "$FIRESTORE_PID" 2>/dev/null || true
    FIRESTORE_PID=""
  fi
}

# Starts the Pub/Sub emulator on a free loopback port; sets PUBSUB_PORT and PUBSUB_PID.
start_pubsub() {
  local project="${1:-demo-aiprod}"
  PUBSUB_PORT="$(free_port)"
  local logf="$ROOT/local/pubsub-emulator.log"
  mkdir -p "$ROOT/local"
  gcloud beta emulators pubsub start --host-port="127.0.0.1:$PUBSUB_PORT" --project="$project" --quiet >"$logf" 2>&1 &
  PUBSUB_PID=$!
  if ! wait_http "$PUBSUB_PORT" 90; then
    log "the Pub/Sub emulator did not start; see $logf"
    kill_tree "$PUBSUB_PID"
    return 1
  fi
  log "Pub/Sub emulator on 127.0.0.1:$PUBSUB_PORT (pid $PUBSUB_PID)"
}

stop_pubsub() {
  if [[ -n "${PUBSUB_PID:-}" ]]; then
    kill_tree "$PUBSUB_PID"
    wait "$PUBSUB_PID" 2>/dev/null || true
    PUBSUB_PID=""
  fi
}

# Creates a topic (projects/P/topics/T) on the emulator.
create_topic() {
  curl -sf -X PUT "http://127.0.0.1:$PUBSUB_PORT/v1/$1" >/dev/null
}

# Creates a subscription ($1 = projects/P/subscriptions/S) to a topic ($2).
create_subscription() {
  curl -sf -X PUT -H 'Content-Type: application/json' \
    -d "{\"topic\": \"$2\", \"ackDeadlineSeconds\": 60}" \
    "http://127.0.0.1:$PUBSUB_PORT/v1/$1" >/dev/null
}

# Creates local/secrets/ (mode 0700) and, on first use, local/secrets/audit-hmac-key: 32 random
# bytes, base64, mode 0600 (the dir: secret source refuses files group/others can read).
ensure_local_secrets() {
  local dir="$ROOT/local/secrets"
  local key="$dir/audit-hmac-key"
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [[ ! -s "$key" ]]; then
    (
      umask 077
      head -c 32 /dev/urandom | base64 >"$key.tmp"
      mv "$key.tmp" "$key"
    )
    log "created $key (32 random bytes, base64, mode 0600)"
  fi
  chmod 600 "$key"
}

# Prints a command on one line, each argument quoted for a POSIX shell only when it needs it
# (single quotes), so the line can be pasted as it is (the --dry-run output of the GCP scripts).
print_cmd() {
  local out="" a
  for a in "$@"; do
    if [[ "$a" =~ ^[A-Za-z0-9_./:=@,+%-]+$ ]]; then
      out+="$a "
    else
      out+="'${a//\'/\'\\\'\'}' "
    fi
  done
  printf '%s\n' "${out% }"
}
