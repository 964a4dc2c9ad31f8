// Package gcpace keeps a Go process's heap goal from falling back the
// moment after it rose, so that the memory a burst needed is still there
// for the next one instead of being given back and faulted in again.
//
// The garbage collector sets its next goal from the heap it just found
// live: GOGC=400 gives five times that. Under a steady SIP load the live
// heap swings by two or more between cycles (a burst of calls in setup,
// its goroutines' stacks), and so does the goal. When the goal falls, the
// runtime's background scavenger returns the memory above it to the
// kernel (madvise), and when it rises again a cycle later every page of
// that memory is faulted in anew — on a virtual machine whose page faults
// cost 15 µs each, thousands of faults in a tenth of a second, in the
// middle of the burst that needed the memory: the process stalls when it
// is busiest (BENCHMARKS.md, issue 15).
//
// A [Pacer] follows the collector cycle by cycle (a cleanup that runs
// after each collection) and sets GOGC so that the next goal is at least
// the highest recent goal, decayed by half every HalfLife: a goal rises
// at once, as Go's own would, and comes down smoothly. Without a
// ceiling GOGC is never set below the base, so the collector never runs
// more often than the base policy would have it; the heap is never larger
// than the recent peak of the base policy's own goals. The idle trimmer
// (internal/idletrim) still returns everything once the process is idle.
//
// WithCeiling adds the other bound: over a ceiling on the goal the Pacer
// lowers GOGC under the base (down to a floor, Go's default 100: the
// collector then runs at most as often as at the floor), so that
// an overload's live heap times a high GOGC does not map a heap many
// times what is live. The runtime keeps metadata for its heap's peak for
// good (mark and allocation bits, span structures): a host whose heap
// peaked at 80 MB in an overload held 22–27 % more than idle a minute
// after; under a 32 MiB ceiling, 13–19 % (BENCHMARKS.md).
package gcpace
