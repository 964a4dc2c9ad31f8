// Package codecdir keeps the codecs of a codec directory: WebAssembly
// codec modules (*.wasm, package sdk/codec/module) beside the audio
// plugin's built-in codecs, hot-swapped.
//
// A [Catalog] rescans its directory when asked ([Catalog.Refresh], which
// every new stream, listing and codec refresh does): a file that appeared
// or whose size, modification time or inode changed is read, hashed and,
// when its SHA-256 differs from the module in use, loaded; a module that
// loads replaces the previous one of that file, a file that is refused
// keeps its reason for the listing. A replaced or removed module is closed
// for new streams, but the streams running on it keep it until they end
// (module.Module.Close). A module codec replaces a built-in codec of the
// same name (the built-in is listed as overridden); two files that
// provide the same name: the first in file name order wins, the other is
// refused. Nothing polls: a scan costs a stat of the directory and one
// per module file it knows, no file is read again unless it changed; the
// directory is listed again only when its own stamp changed, or when the
// last listing was within two seconds of its modification time (a file
// added in the same tick of a coarse file system clock leaves the stamp
// as it was), and the codec registry is rebuilt only when a file changed.
//
// Install a module by writing it under another name (not *.wasm) and
// renaming it: a half-written file is refused until it is complete.
package codecdir
