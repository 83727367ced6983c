// A cache prefetch hint for Swift, which has no intrinsic for it (issue 6: the flow lookup's
// bucket and record, asked for a few packets before they are needed). `static inline`: the
// compiler inlines it into the Swift caller, one prefetch instruction.
#ifndef CPREFETCH_H
#define CPREFETCH_H

/// Asks the memory system to bring the cache line holding `p` close; never faults, whatever `p` is.
static inline __attribute__((always_inline)) void torscan_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

#endif
