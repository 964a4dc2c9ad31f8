#!/usr/bin/env bash
# Regenerates the code of the plugin contract into OUT (default: the module root):
#   - Go, sdk/internal/streampb, with the protoc plugins pinned by go.mod's tool directives;
#   - Python, sdk/python/sipstreams/stream/v1, with Debian's protoc and
#     grpc_python_plugin (protobuf-compiler, protobuf-compiler-grpc), for the
#     Python plugin kit (sdk/python/sipstreams_plugin).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root}
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
grpc_python=$(command -v grpc_python_plugin) || { echo "grpc_python_plugin not found: apt-get install protobuf-compiler-grpc" >&2; exit 1; }
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
cd "$root"
go build -o "$bin/" google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc
mod=github.com/sipstreams/sipstreams
protoc -I sdk/proto \
  --plugin=protoc-gen-go="$bin/protoc-gen-go" --plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" \
  --go_out="$out" --go_opt=module=$mod \
  --go-grpc_out="$out" --go-grpc_opt=module=$mod \
  sipstreams/stream/v1/stream.proto
mkdir -p "$out/sdk/python"
protoc -I sdk/proto \
  --plugin=protoc-gen-grpc_python="$grpc_python" \
  --python_out="$out/sdk/python" --grpc_python_out="$out/sdk/python" \
  sipstreams/stream/v1/stream.proto
