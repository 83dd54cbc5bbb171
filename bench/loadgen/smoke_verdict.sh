# Sourced by the loadgen smoke tests: judges mrfp-loadgen's --summary-kv file.
#   smoke_verdict KV_FILE [KEY=WANT ...]
# Always: no loss, no authentication failure, the right tones, no silent
# listener, every onset heard, at least 1000 packets received; then the extra
# KEY=WANT checks. Returns 0 when everything holds, 1 otherwise (reasons on stderr).
smoke_verdict() {
  local kv=$1 failed=0 check key want got
  shift
  for check in lost=0 auth_failures=0 wrong_tones=0 silent_listeners=0 onsets_missed=0 "$@"; do
    key=${check%%=*} want=${check#*=}
    got=$(sed -n "s/^$key=//p" "$kv")
    if [ "$got" != "$want" ]; then
      echo "FAIL: $key=$got, want $want" >&2
      failed=1
    fi
  done
  got=$(sed -n "s/^received=//p" "$kv")
  if [ "${got:-0}" -lt 1000 ]; then echo "FAIL: only ${got:-0} packets received" >&2; failed=1; fi
  return "$failed"
}
