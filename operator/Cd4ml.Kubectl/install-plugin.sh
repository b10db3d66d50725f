#!/usr/bin/env bash
# Installs the kubectl plugin: writes BIN_DIR/kubectl-cd4ml, a script that runs `COMMAND… kubectl "$@"`, so that
# `kubectl cd4ml get mld` runs `cd4ml kubectl get mld`. kubectl finds plugins as kubectl-* executables on PATH.
#   install-plugin.sh BIN_DIR COMMAND…      e.g. install-plugin.sh ~/.local/bin ~/.local/lib/cd4ml/cd4ml
set -euo pipefail
if (($# < 2)); then
  echo "usage: $0 BIN_DIR COMMAND..." >&2
  exit 2
fi
bin="$1"
shift
mkdir -p "$bin"
{
  echo '#!/bin/sh'
  echo '# kubectl cd4ml: the cd4ml CLI'"'"'s kubectl commands (written by operator/Cd4ml.Kubectl/install-plugin.sh).'
  printf 'exec'
  printf ' %q' "$@" kubectl
  printf ' "$@"\n'
} > "$bin/kubectl-cd4ml"
chmod 755 "$bin/kubectl-cd4ml"
echo "installed $bin/kubectl-cd4ml"
case ":$PATH:" in
  *":$bin:"*) ;;
  *) echo "note: $bin is not on PATH; add it (export PATH=\"$bin:\$PATH\") so kubectl finds the plugin" ;;
esac
