package streampb

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeIsCurrent regenerates the contract with the pinned protoc
// plugins (Go) and Debian's protoc and grpc_python_plugin (the Python kit's
// code) and fails if the committed code differs (run `make proto`).
func TestGeneratedCodeIsCurrent(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command("../../proto/generate.sh", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generate.sh: %v\n%s", err, b)
	}
	for _, f := range []string{"stream.pb.go", "stream_grpc.pb.go",
		"../../python/sipstreams/stream/v1/stream_pb2.py", "../../python/sipstreams/stream/v1/stream_pb2_grpc.py"} {
		fresh, err := os.ReadFile(filepath.Join(out, "sdk/internal/streampb", f))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, committed) {
			t.Errorf("%s differs from what sdk/proto generates: run `make proto` and commit", f)
		}
	}
}
