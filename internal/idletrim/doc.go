// Package idletrim returns a process's free memory to the kernel once the
// process has gone idle after a busy period.
//
// Go gives the pages of a heap that shrank back to the kernel slowly, and
// only after a collection, which an idle process hardly runs: after a
// burst of calls, a host or a stream plugin kept the resident memory of
// its peak. A Trimmer looks at the process every tick; once it finds it
// idle (nothing active, no new activity since the last tick) after a busy
// period, it releases (by default debug.FreeOSMemory: a collection, then
// the free pages back) a few ticks in a row — later ticks catch what the
// last work still held — and then not again until the process was busy.
//
// The sipstreams host CLI runs one over its sessions, sdk.Serve one over a
// plugin's streams.
package idletrim
