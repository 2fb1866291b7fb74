# Sourced by the bench scripts that talk to r1serve over HTTP:
#   start_r1serve MODEL OUT_DIR NAME
# starts build/bin/r1serve on MODEL (2 threads, batch 16, a free port; log OUT_DIR/r1serve.log),
# stops it when the script exits, waits up to 60 s for it to listen and sets `endpoint` to its
# base URL. NAME prefixes the error when it does not start.
start_r1serve() {
  local model=$1 out=$2 name=$3
  rm -f "$out/port"
  build/bin/r1serve --model "$model" --port 0 --port-file "$out/port" --threads 2 --max-batch 16 \
    > "$out/r1serve.log" 2>&1 &
  r1serve_pid=$!
  trap 'kill $r1serve_pid 2>/dev/null || true' EXIT
  for _ in $(seq 600); do [ -s "$out/port" ] && break; sleep 0.1; done
  [ -s "$out/port" ] || { echo "$name: r1serve did not start (see $out/r1serve.log)" >&2; exit 1; }
  endpoint=http://127.0.0.1:$(cat "$out/port")/v1
}
