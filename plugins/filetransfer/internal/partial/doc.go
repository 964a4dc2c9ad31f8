// Package partial keeps the files a file transfer receives until they
// are verified, and what is left of interrupted ones so that a later
// transfer of the same file resumes where it stopped (the reference's
// transfer_metadata, kept 7 days or until the file changes).
//
// A [Store] is the directory filetransfer.PartialDir inside a save
// directory: received bytes go to a file there, on the same file system
// as their destination, so that [Partial.Commit] can put the verified file
// in place under a unique name (name, name-1.ext, … — created exclusively,
// never replacing a file) with a link, or a rename over an exclusively
// created placeholder where links are not supported. Nothing under its
// final name is ever incomplete or unverified.
//
// A transfer whose file selector carries a hash claims the partial file
// keyed by that hash ([Store.Claim]); when [Partial.Keep] saved metadata
// for it — the size of the file, the bytes kept, the SHA-1 state over
// them, the data file's modification time — and that metadata is still
// valid (same size announced, data file unchanged since, modified less
// than [filetransfer.ResumeValidity] ago), the claim resumes from the
// bytes kept, with the hash state restored, instead of starting afresh.
// Metadata is one small JSON file per partial file, written atomically
// beside it, so that transfers never rewrite each other's; a partial
// file is locked (flock) while a transfer holds it, so a second transfer
// of the same file, in this process or another, starts a file of its own.
// Expired entries are swept by Claim.
//
// The metadata lives with the data rather than in the host's storage:
// plugins do not reach the framework, the two can then not disagree (a
// directory moved, cleaned or restored keeps them together), and the
// bytes already are where the file will be renamed to.
package partial
