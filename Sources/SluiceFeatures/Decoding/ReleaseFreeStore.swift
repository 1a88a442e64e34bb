/// Stores into reused `String`, `String?` and `FieldValue` slots without releasing an old value that
/// holds no reference.
///
/// The decoder overwrites the same slots every event, and their old values are almost always small
/// strings (ids, merchant, country) or numbers, which own nothing. A plain assignment still calls the
/// outlined destroy and the runtime's release for them (≈ 20 instructions a store). Here the old value's
/// bits decide: a `String` whose discriminator's top bit (immortal: small strings and literals) is set,
/// a nil `String?` (all-zero bits) and a non-string `FieldValue` are overwritten without a release.
///
/// The layout is not a public API, so it is checked once at run time (`isSupported`, as
/// `SmallASCIIString.isSupported`): small and literal strings must have the bit set, a heap string
/// must not, nil must be all zeros and `FieldValue.string` must hold the string's bits first.
/// Otherwise every store is a plain assignment. The stored values are the same either way.
enum ReleaseFreeStore {
    static let isSupported: Bool = {
        guard MemoryLayout<String>.size == 16, MemoryLayout<String?>.size == 16, MemoryLayout<UInt>.size == 8,
              MemoryLayout<FieldValue>.size >= 16 else { return false }
        let small = String(decoding: Array("u-0012345".utf8), as: UTF8.self)
        let heap = String(decoding: Array(repeating: UInt8(ascii: "x"), count: 40), as: UTF8.self)
        let literal = "a literal string longer than fifteen bytes"
        guard immortal(bits(small)), !immortal(bits(heap)), immortal(bits(literal)) else { return false }
        let none: String? = nil
        guard bits(none) == SIMD2(0, 0), bits(Optional(heap)) == bits(heap) else { return false }
        let value = FieldValue.string(heap)
        guard bits(value) == bits(heap) else { return false }
        return true
    }()

    @inline(__always)
    static func immortal(_ b: SIMD2<UInt64>) -> Bool { b[1] >> 63 == 1 }

    /// The first two words of `value` as stored.
    static func bits<T>(_ value: T) -> SIMD2<UInt64> {
        var copy = value
        return withUnsafeBytes(of: &copy) { SIMD2($0.load(as: UInt64.self), $0.load(fromByteOffset: 8, as: UInt64.self)) }
    }

    @inline(__always)
    static func words(_ p: UnsafeRawPointer) -> SIMD2<UInt64> {
        SIMD2(p.load(as: UInt64.self), p.load(fromByteOffset: 8, as: UInt64.self))
    }

    /// `slot = value`.
    @inline(__always)
    static func store(_ value: String, into slot: inout String, supported: Bool) {
        withUnsafeMutablePointer(to: &slot) { p in
            if supported && immortal(words(UnsafeRawPointer(p))) {
                p.initialize(to: value)
            } else {
                p.pointee = value
            }
        }
    }

    /// `slot = value`.
    @inline(__always)
    static func store(_ value: String?, into slot: inout String?, supported: Bool) {
        withUnsafeMutablePointer(to: &slot) { p in
            let old = words(UnsafeRawPointer(p))
            if supported && (immortal(old) || old == SIMD2(0, 0)) {
                p.initialize(to: value)
            } else {
                p.pointee = value
            }
        }
    }

    /// `slot.pointee = value`.
    @inline(__always)
    static func store(_ value: FieldValue, at slot: UnsafeMutablePointer<FieldValue>, supported: Bool) {
        if case .string = slot.pointee {
            if supported && immortal(words(UnsafeRawPointer(slot))) {
                slot.initialize(to: value)
            } else {
                slot.pointee = value
            }
        } else {
            slot.initialize(to: value)
        }
    }
}

extension ReleaseFreeStore {
    /// `target.pointee = source.pointee` for `FieldValue`s, without the runtime's retain of a copied
    /// immortal string or release of an overwritten one (the feature engine copies kept and output
    /// values every event; they are mostly numbers and small strings).
    @inline(__always)
    static func copy(_ source: UnsafePointer<FieldValue>, to target: UnsafeMutablePointer<FieldValue>, supported: Bool) {
        guard supported else {
            target.pointee = source.pointee
            return
        }
        if case .string = target.pointee, !immortal(words(UnsafeRawPointer(target))) {
            target.deinitialize(count: 1)
        }
        if case .string = source.pointee, !immortal(words(UnsafeRawPointer(source))) {
            target.initialize(to: source.pointee)
        } else {
            UnsafeMutableRawPointer(target).copyMemory(from: UnsafeRawPointer(source), byteCount: MemoryLayout<FieldValue>.size)
        }
    }
}
