/// Assigns each row to `train` or `holdout` by its entity, deterministically.
///
/// The rule: `holdout` when `fmix64(fnv1a64(utf8(entity_id))) / 2^64 < holdout_fraction`, where `fnv1a64` is
/// the 64-bit FNV-1a hash (offset basis 0xcbf29ce484222325, prime 0x100000001b3), `fmix64` is MurmurHash3's
/// 64-bit finalizer (`h ^= h >> 33; h *= 0xff51afd7ed558ccd; h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53;
/// h ^= h >> 33`, wrapping), and the result is converted to the nearest double before dividing. It depends on the
/// entity id alone, so every row of an entity lands on the same side, in every snapshot, on every machine
/// (Python: `h / 2**64 < f` gives the same answer). With a fraction of 0 no row is holdout and the split column
/// is left out.
///
/// Why the finalizer: FNV-1a's top bits barely depend on the last bytes, so for sequential ids the plain
/// `fnv1a64 / 2^64` is far from uniform — `customer-0` … `customer-9999` put 30 % in holdout at a fraction of
/// 0.2. `fmix64` spreads every input bit over the whole word (20.2 % there).
package struct HoldoutSplit: Sendable, Hashable {
    /// The share of entities (not rows) that go to holdout, 0…1.
    package let fraction: Double

    /// A one-line statement of the rule, written to the manifest.
    package static let rule = "holdout if fmix64(fnv1a64(utf8(entity_id))) / 2^64 < holdout_fraction, else train"

    package init(fraction: Double) {
        self.fraction = fraction
    }

    /// True when rows of the entity whose id has these UTF-8 bytes belong to holdout.
    @inline(__always)
    package func isHoldout(entityUTF8 bytes: UnsafeRawBufferPointer) -> Bool {
        Double(Self.fmix64(Self.fnv1a64(bytes))) * 0x1p-64 < fraction
    }

    /// True when rows of `entity` belong to holdout.
    package func isHoldout(entity: String) -> Bool {
        var entity = entity
        return entity.withUTF8 { isHoldout(entityUTF8: UnsafeRawBufferPointer($0)) }
    }

    /// MurmurHash3's 64-bit finalizer: every input bit affects every output bit.
    @inline(__always)
    package static func fmix64(_ value: UInt64) -> UInt64 {
        var h = value
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    /// The 64-bit FNV-1a hash of `bytes`.
    @inline(__always)
    package static func fnv1a64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
