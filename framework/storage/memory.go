package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/sipstreams/sipstreams/framework/config"
)

// MemoryStorage keeps the configuration in memory, for tests and embedded
// use. It has no application-data directory. It is safe for concurrent
// use; documents are deep-copied on Save and Load, so callers never share
// memory with the storage.
type MemoryStorage struct {
	mu  sync.Mutex
	doc *config.Document // nil until the first Save
}

// NewMemory returns an empty MemoryStorage: Load gives the defaults until
// something is saved.
func NewMemory() *MemoryStorage { return &MemoryStorage{} }

// Load returns a copy of the last saved document, or the defaults.
func (s *MemoryStorage) Load(ctx context.Context) (*config.Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.doc == nil {
		return config.NewDocument(), nil
	}
	return s.doc.Clone(), nil
}

// Save validates doc and keeps a copy of it.
func (s *MemoryStorage) Save(ctx context.Context, doc *config.Document) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validate(doc); err != nil {
		return err
	}
	c := doc.Clone()
	s.mu.Lock()
	s.doc = c
	s.mu.Unlock()
	return nil
}

// Directory returns "": memory storage has no application-data directory.
func (s *MemoryStorage) Directory() string { return "" }

func validate(doc *config.Document) error {
	if doc == nil {
		return errors.New("storage: nil document")
	}
	if err := doc.Validate(); err != nil {
		return fmt.Errorf("storage: not saving an invalid configuration: %w", err)
	}
	return nil
}
