// Package safename turns the file name a peer put in a=file-selector into
// one that is safe to create in the save directory: a single path element
// that cannot climb out of it, name a device, hide, or be refused by the
// file system. The peer's name is data from the network, never a path.
//
// [Sanitize] keeps the last element after '/' or '\' (so "../../etc/passwd"
// is "passwd" and "C:\Windows\x.exe" is "x.exe"), replaces NUL, control
// characters, invalid UTF-8 and the characters Windows forbids
// (<>:"|?*) with '_', drops leading dots and spaces (no hidden or
// relative names) and trailing dots and spaces (Windows drops them),
// prefixes Windows' reserved device names (CON, NUL, COM1, LPT1, …,
// with or without an extension) with '_', and cuts names longer than
// [MaxBytes] on a character boundary, keeping the extension. A name with
// nothing left (empty, only dots, only separators) is refused with
// [ErrUnsafe].
//
// [Unique] yields the candidates for a name that exists already, as the
// reference does: name, name-1.ext, name-2.ext, …
package safename
