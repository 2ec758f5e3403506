#!/usr/bin/env bash
# Copies territories/<id>.toml into the overlay of each territory (kustomize reads no file outside
# a kustomization's directory), or with --check only says which copies differ (exit 1).
#   deploy/k8s/sync-territories.sh            # refresh every overlay's copy
#   deploy/k8s/sync-territories.sh --check    # e.g. in CI
set -euo pipefail
cd "$(dirname "$0")/../.."
check=false
[[ "${1:-}" == "--check" ]] && check=true
status=0
for overlay in deploy/k8s/overlays/*/; do
  for copy in "$overlay"territories/*.toml; do
    [[ -e "$copy" ]] || continue
    source="territories/$(basename "$copy")"
    if [[ ! -f "$source" ]]; then
      echo "$copy: no $source" >&2
      status=1
    elif ! cmp -s "$source" "$copy"; then
      if $check; then
        echo "$copy differs from $source" >&2
        status=1
      else
        cp "$source" "$copy"
        echo "updated $copy"
      fi
    fi
  done
done
exit $status
