// Package storage keeps the host's configuration document (global
// settings and accounts, see package config), mirroring the reference's
// FileStorage and MemoryStorage (shared/reference/sipsimple-behaviour.md
// §6.2).
//
// # Concepts
//
// A [Storage] loads and saves a whole [config.Document] and names the
// application-data directory, where other persistent state (file-transfer
// resume metadata, keys) lives:
//
//   - [FileStorage] keeps the document in the human-editable file
//     <dir>/config (the text format of package config) and uses dir as the
//     application-data directory;
//   - [MemoryStorage] keeps it in memory and has no application-data
//     directory, so state that needs one is not persisted (tests, embedded
//     use).
//
// Both validate on Save (an invalid document is never stored) and on Load
// (a hand-edited file with a mistake is reported rather than used), and
// return the defaults when nothing has been saved. Documents are copied in
// and out: callers never share memory with a storage.
//
// # Files on disk
//
// Save never leaves a half-written config, even if the process is killed
// or the machine stops in the middle: it writes the new text to a
// temporary file ".config.tmp-*" in the same directory (mode 0600), syncs
// it, renames it over "config" (atomic on POSIX file systems) and syncs the
// directory so that the rename is durable. A reader sees the old file or
// the new one, never a mix. A Save interrupted before its rename leaves
// its temporary file behind; [NewFile] and every Save remove such stale
// temporary files, so at most one can exist at a time.
//
// The directory is created with mode 0700 when missing, and config is
// always mode 0600 (it holds passwords). A FileStorage serialises its own
// Saves; there is no lock between processes, so one process at a time
// should use a directory (a second process's NewFile or Save could remove
// a temporary file that the first is still writing, making that Save
// fail — never corrupting config).
//
// Errors from Load name the file: a file that does not parse gives an
// error that wraps a *config.SyntaxError carrying the file's path and the
// line ("…/config:12: unknown setting …"); a file whose values are not
// allowed wraps *config.SettingError. Use errors.As or errors.Is with
// config.ErrSyntax and config.ErrInvalidSetting.
//
// # API
//
//   - [Storage]: Load(ctx), Save(ctx, doc), Directory();
//   - [NewFile], [FileStorage.Path], [ConfigFile];
//   - [NewMemory].
package storage
