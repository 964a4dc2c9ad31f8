package storage

import (
	"context"

	"github.com/sipstreams/sipstreams/framework/config"
)

// Storage keeps the configuration document.
type Storage interface {
	// Load returns the stored document, or a document of defaults
	// ([config.NewDocument]) when nothing has been saved yet. The result
	// is the caller's to modify. A stored document that does not read or
	// validate is an error wrapping the *config.SyntaxError or
	// *config.SettingError.
	Load(ctx context.Context) (*config.Document, error)
	// Save validates doc and stores a copy of it, replacing the previous
	// document as a whole. An invalid document is not stored; the error
	// wraps its *config.SettingError.
	Save(ctx context.Context, doc *config.Document) error
	// Directory returns the application-data directory, which also holds
	// other persistent state (file-transfer resume metadata, keys), or ""
	// when there is none.
	Directory() string
}

// Interface guards.
var (
	_ Storage = (*MemoryStorage)(nil)
	_ Storage = (*FileStorage)(nil)
)
