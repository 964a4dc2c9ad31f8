// Package docs holds the project's guides for people who build on it, and
// the tests that keep them true: vendors_test.go runs every code block of
// vendors.md (the stream vendor's guide) in order from an empty home
// directory — it writes the Go and Python plugins the guide shows, builds,
// packages, checks, runs and pins them with the guide's commands — and then
// carries text over each plugin's stream.
package docs
