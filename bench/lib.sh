# Shared by the benchmark scripts (sourced; needs $work, a scratch folder).

# Starts "$@" in the background and blocks on its stdout (a FIFO) until the "ready at" line:
# no polling, no sleeping. Prints "PID URL".
start() {
  local fifo="$work/fifo.$RANDOM$RANDOM" fd line
  mkfifo "$fifo"
  "$@" > "$fifo" 2>/dev/null &
  local pid=$!
  exec {fd}<"$fifo"
  while read -r line <&"$fd"; do
    if [[ $line == *"ready at http://"* ]]; then
      echo "$pid ${line##*ready at }"
      return
    fi
  done
  echo "server exited before it was ready" >&2
  exit 1
}

# Resident set size of a process, in MB.
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
