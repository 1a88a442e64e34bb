import CSluicePrefetch

/// Asks the CPU to bring the cache line at `address` in, without waiting for it (a hint: never faults).
@inline(__always)
func prefetch(_ address: UnsafeRawPointer?) {
    sluice_prefetch(address)
}
