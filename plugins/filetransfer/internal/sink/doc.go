// Package sink is the receiving end of a file transfer, without the
// network: it takes the chunks of the one MSRP message that carries a
// file, checks that each continues the file where the last one ended
// (RFC 5547 transfers are sent in order; a chunk starting at byte 1 when
// the transfer was to resume means the sender starts over), writes its
// bytes, and hashes them as they pass.
//
// [Sink.Check] judges a chunk's Byte-Range before its body is read:
// [ErrOutOfOrder] for a chunk that does not continue the file,
// [ErrSizeMismatch] for a total other than the announced size,
// [ErrTooLarge] for bytes beyond it. [Sink.Copy] then streams the body to
// the file through a few fixed buffers (constant memory, whatever the
// chunk size a peer chooses), which a goroutine of the Sink's hashes
// while the next is read and written, refusing the bytes beyond the size; a failed write
// (the disk full) is a [*WriteError] and leaves the file as long as the
// bytes counted. [Sink.Sum] is the SHA-1 once [Sink.Complete];
// [Sink.Close] stops the hashing goroutine.
//
// The package is pure and fuzzed (FuzzSink): no sequence of chunks makes
// it write beyond the size, lose track of what it wrote, or panic.
package sink
