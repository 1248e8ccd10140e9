# A Cloud Storage emulator for the tests: the storage emulator of firebase-tools (npm), which serves the GCS JSON API
# (list, media download, media upload, delete) over HTTP. Sourced, not executed.
#
#   ensure_gcs_emulator   installs it into .tools/gcs-emulator (once; needs node and npm)
#   start_gcs_emulator    starts it on a free loopback port and exports SLUICE_TEST_GCS_EMULATOR=http://127.0.0.1:PORT/
#   stop_gcs_emulator     stops it and removes its temp files
#
# The emulator is started through a small launcher instead of `firebase emulators:start`: the CLI insists on Java 21
# and downloads a Security Rules runtime, which only Firebase client SDK requests need. The JSON API requests Sluice
# makes are admin requests that the emulator serves without rules.

GCS_EMULATOR_FIREBASE_TOOLS_VERSION="15.34.2"

_gcs_emulator_dir() { echo "${ROOT:-$(pwd)}/.tools/gcs-emulator"; }

_gcs_log() { if declare -F log >/dev/null; then log "$@"; else echo "$@" >&2; fi; }

ensure_gcs_emulator() {
  local dir
  dir=$(_gcs_emulator_dir)
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    _gcs_log "installing Node.js (Debian packages nodejs, npm)"
    apt_install nodejs npm
  fi
  if [[ ! -f "$dir/node_modules/firebase-tools/lib/emulator/storage/index.js" \
        || "$(cat "$dir/version" 2>/dev/null)" != "$GCS_EMULATOR_FIREBASE_TOOLS_VERSION" ]]; then
    _gcs_log "installing the Cloud Storage emulator (npm firebase-tools@$GCS_EMULATOR_FIREBASE_TOOLS_VERSION) into $dir"
    mkdir -p "$dir"
    [[ -f "$dir/package.json" ]] || echo '{"name":"sluice-gcs-emulator","private":true}' > "$dir/package.json"
    if ! (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --omit=dev \
        "firebase-tools@$GCS_EMULATOR_FIREBASE_TOOLS_VERSION" >/dev/null); then
      echo "error: npm could not install firebase-tools@$GCS_EMULATOR_FIREBASE_TOOLS_VERSION into $dir" >&2
      return 1
    fi
    echo "$GCS_EMULATOR_FIREBASE_TOOLS_VERSION" > "$dir/version"
  fi
  cat > "$dir/launch.js" <<'JS'
// Starts the firebase-tools storage emulator without the Security Rules runtime (see scripts/gcs-emulator.sh).
const path = require('path');
const [, , port] = process.argv;
const lib = path.join(__dirname, 'node_modules/firebase-tools/lib/emulator');
const { StorageEmulator } = require(path.join(lib, 'storage'));
const { EmulatorRegistry } = require(path.join(lib, 'registry'));
const emulator = new StorageEmulator({ projectId: 'demo-sluice', host: '127.0.0.1', port: Number(port), rules: [] });
const noop = async () => {};
emulator._rulesRuntime.start = noop;
emulator._rulesRuntime.stop = noop;
emulator._rulesManager.start = noop;
emulator._rulesManager.stop = noop;
const stop = () => emulator.stop().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
EmulatorRegistry.start(emulator).then(() => console.log(`ready on ${port}`));
JS
}

start_gcs_emulator() {
  local dir port i
  ensure_gcs_emulator || return 1
  dir=$(_gcs_emulator_dir)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 59199)
  GCS_EMULATOR_TMP=$(mktemp -d /tmp/sluice-gcs.XXXXXX)
  TMPDIR="$GCS_EMULATOR_TMP" node "$dir/launch.js" "$port" >"$GCS_EMULATOR_TMP/log" 2>&1 &
  GCS_EMULATOR_PID=$!
  for i in $(seq 1 120); do
    if grep -q "ready on" "$GCS_EMULATOR_TMP/log" 2>/dev/null; then
      SLUICE_TEST_GCS_EMULATOR="http://127.0.0.1:$port/"
      export SLUICE_TEST_GCS_EMULATOR
      return 0
    fi
    if ! kill -0 "$GCS_EMULATOR_PID" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "error: the Cloud Storage emulator did not start; its log:" >&2
  cat "$GCS_EMULATOR_TMP/log" >&2 || true
  stop_gcs_emulator
  return 1
}

stop_gcs_emulator() {
  if [[ -n "${GCS_EMULATOR_PID:-}" ]]; then
    kill "$GCS_EMULATOR_PID" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$GCS_EMULATOR_PID" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$GCS_EMULATOR_PID" 2>/dev/null || true
    wait "$GCS_EMULATOR_PID" 2>/dev/null || true
    GCS_EMULATOR_PID=""
  fi
  if [[ -n "${GCS_EMULATOR_TMP:-}" ]]; then rm -rf "$GCS_EMULATOR_TMP"; GCS_EMULATOR_TMP=""; fi
}
