#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A JSON number literal found by the scanner: its bytes plus the decimal digits gathered while
/// scanning, so that the common cases convert without a second pass.
///
/// The value is exactly `(negative ? -1 : 1) × mantissa × 10^exponent` unless `truncated`: at most
/// 19 significant digits are kept (they always fit a `UInt64`).
struct ScannedJSONNumber {
    /// Offset of the first byte (the `-` or first digit) in the payload.
    var start: Int
    /// Offset just past the last byte.
    var end: Int
    var negative = false
    /// No fraction and no exponent in the literal.
    var isIntegerLiteral = true
    var mantissa: UInt64 = 0
    var exponent = 0
    /// Digits beyond the 19th significant one were dropped.
    var truncated = false
    /// A dropped digit was in the integer part (so |value| ≥ 1e19).
    var droppedIntegerDigits = false
    /// A dropped fraction digit was not zero (so the value is not an integer).
    var droppedNonZeroFraction = false

    /// The outcome of converting to `Int64`.
    enum IntegerConversion {
        case value(Int64)
        case fractional
        case outOfRange
    }

    /// The value as a correctly rounded `Double`, or nil when it overflows to ±infinity.
    ///
    /// Fast path (exact by Clinger's argument): a mantissa of at most 2^53 and a power of ten of at
    /// most 10^22 are both exact doubles, and one IEEE multiplication or division rounds correctly.
    /// Everything else goes to `strtod` on a stack copy (glibc's is correctly rounded). `strtod` reads
    /// the decimal point from `LC_NUMERIC`; Swift programs stay in the C locale unless they call
    /// `setlocale`, which Sluice never does (glibc's `strtod_l` is not exported to Swift).
    func doubleValue(in base: UnsafePointer<UInt8>) -> Double? {
        if !truncated {
            if mantissa == 0 { return negative ? -0.0 : 0.0 }
            if mantissa <= 1 << 53, exponent >= -22, exponent <= 22 {
                var d = Double(mantissa)
                if exponent < 0 { d /= Self.exactPowerOfTen(-exponent) } else if exponent > 0 { d *= Self.exactPowerOfTen(exponent) }
                return negative ? -d : d
            }
        }
        let length = end - start
        let d = withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer -> Double in
            guard let out = buffer.baseAddress else { return .nan }
            UnsafeMutableRawPointer(out).copyMemory(from: base + start, byteCount: length)
            out[length] = 0
            return strtod(out, nil)
        }
        return d.isFinite ? d : nil
    }

    /// The value as an `Int64` when it is an integer in range (`3`, `3.0`, `3e2` are integers).
    func integerValue() -> IntegerConversion {
        if droppedIntegerDigits { return .outOfRange }
        if droppedNonZeroFraction { return .fractional }
        if mantissa == 0 { return .value(0) }
        var magnitude = mantissa
        if exponent > 0 {
            for _ in 0..<exponent {
                let (m, overflow) = magnitude.multipliedReportingOverflow(by: 10)
                if overflow { return .outOfRange }
                magnitude = m
            }
        } else if exponent < 0 {
            // 19 significant digits at most: dividing by more than 10^19 leaves a fraction.
            guard exponent >= -19 else { return .fractional }
            var divisor: UInt64 = 1
            for _ in 0..<(-exponent) { divisor &*= 10 }
            guard magnitude % divisor == 0 else { return .fractional }
            magnitude /= divisor
        }
        if negative {
            if magnitude <= UInt64(Int64.max) { return .value(-Int64(magnitude)) }
            if magnitude == UInt64(Int64.max) + 1 { return .value(Int64.min) }
            return .outOfRange
        }
        return magnitude <= UInt64(Int64.max) ? .value(Int64(magnitude)) : .outOfRange
    }

    /// `floor(value × 10^scale)` as an `Int64`, exact for up to 19 significant digits, or nil
    /// when out of range. Used for epoch timestamps (scale 3 turns seconds into milliseconds).
    func flooredValue(scaledBy scale: Int, in base: UnsafePointer<UInt8>) -> Int64? {
        guard !truncated else {
            guard let d = doubleValue(in: base) else { return nil }
            let scaled = (d * Self.exactPowerOfTen(scale)).rounded(.down)
            guard scaled > -9.2e18, scaled < 9.2e18 else { return nil }
            return Int64(scaled)
        }
        if mantissa == 0 { return 0 }
        let e = exponent + scale
        var magnitude = mantissa
        var inexact = false
        if e > 0 {
            guard e <= 19 else { return nil }
            for _ in 0..<e {
                let (m, overflow) = magnitude.multipliedReportingOverflow(by: 10)
                if overflow { return nil }
                magnitude = m
            }
        } else if e < 0 {
            if e < -19 {
                inexact = true
                magnitude = 0
            } else {
                var divisor: UInt64 = 1
                for _ in 0..<(-e) { divisor &*= 10 }
                inexact = magnitude % divisor != 0
                magnitude /= divisor
            }
        }
        guard magnitude < UInt64(Int64.max) else { return nil }
        if negative { return -Int64(magnitude) - (inexact ? 1 : 0) }
        return Int64(magnitude)
    }

    /// 10^k for 0 ≤ k ≤ 22, all exactly representable as doubles.
    @inline(__always)
    static func exactPowerOfTen(_ k: Int) -> Double {
        switch k {
        case 0: return 1e0
        case 1: return 1e1
        case 2: return 1e2
        case 3: return 1e3
        case 4: return 1e4
        case 5: return 1e5
        case 6: return 1e6
        case 7: return 1e7
        case 8: return 1e8
        case 9: return 1e9
        case 10: return 1e10
        case 11: return 1e11
        case 12: return 1e12
        case 13: return 1e13
        case 14: return 1e14
        case 15: return 1e15
        case 16: return 1e16
        case 17: return 1e17
        case 18: return 1e18
        case 19: return 1e19
        case 20: return 1e20
        case 21: return 1e21
        default: return 1e22
        }
    }
}
