#ifndef CSLUICEPREFETCH_H
#define CSLUICEPREFETCH_H

/// Hints the CPU to load the cache line holding `address` (for reading and writing soon). Never faults,
/// whatever the address: it is a hint only. Swift has no prefetch intrinsic, so this one line of C is
/// the whole module; `SluiceFeatures/Operators/Prefetch.swift` is its only user.
static inline void sluice_prefetch(const void *_Nullable address) {
    __builtin_prefetch(address, 1, 3);
}

#endif
