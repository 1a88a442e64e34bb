/// The rows of one COPY chunk, parsed and ready to write: what the parsing stage hands to the Parquet and CSV
/// sinks, which write it at the same time on their own threads.
///
/// Text (ids, names, feature strings and number texts) is copied into `bytes`, so the batch owns everything it
/// refers to and is a plain `Sendable` value. Features are stored row-major: entry `row * featureCount + feature`.
struct SnapshotBatch: Sendable {
    /// A byte range of `bytes`; `start < 0` stands for NULL.
    struct Text: Sendable {
        var start: Int
        var end: Int

        static let null = Text(start: -1, end: -1)
        var isNull: Bool { start < 0 }
    }

    /// What a feature slot holds.
    enum Slot {
        static let empty: UInt8 = 0
        /// A number; the CSV gets it formatted.
        static let number: UInt8 = 1
        /// A number whose JSON text (with a fraction or exponent, finite) goes to the CSV as it is.
        static let numberText: UInt8 = 2
        static let string: UInt8 = 3
        static let isTrue: UInt8 = 4
        static let isFalse: UInt8 = 5
    }

    let featureCount: Int
    private(set) var count = 0
    var bytes: [UInt8] = []

    var predictionID: [Text] = []
    var eventID: [Text] = []
    var entity: [Text] = []
    var eventMillis: [Int64] = []
    var modelName: [Text] = []
    /// `Int64.min` stands for NULL.
    var modelVersion: [Int64] = []
    var score: [Double] = []
    var hasScore: [Bool] = []
    var label: [Double] = []
    var labelMillis: [Int64] = []
    var holdout: [Bool] = []

    var slots: [UInt8] = []
    var numbers: [Double] = []
    var texts: [Text] = []

    init(featureCount: Int, expectedRows: Int) {
        self.featureCount = featureCount
        bytes.reserveCapacity(expectedRows * 128)
        predictionID.reserveCapacity(expectedRows)
        eventID.reserveCapacity(expectedRows)
        entity.reserveCapacity(expectedRows)
        eventMillis.reserveCapacity(expectedRows)
        modelName.reserveCapacity(expectedRows)
        modelVersion.reserveCapacity(expectedRows)
        score.reserveCapacity(expectedRows)
        hasScore.reserveCapacity(expectedRows)
        label.reserveCapacity(expectedRows)
        labelMillis.reserveCapacity(expectedRows)
        holdout.reserveCapacity(expectedRows)
        slots.reserveCapacity(expectedRows * featureCount)
        numbers.reserveCapacity(expectedRows * featureCount)
        texts.reserveCapacity(expectedRows * featureCount)
    }

    /// Copies `text` into `bytes` and returns its range.
    @inline(__always)
    mutating func store(_ text: UnsafeRawBufferPointer) -> Text {
        let start = bytes.count
        bytes.append(contentsOf: text)
        return Text(start: start, end: bytes.count)
    }

    /// Opens the next row's feature slots (all empty) and returns the index of its first slot.
    @inline(__always)
    mutating func beginFeatures() -> Int {
        let base = slots.count
        slots.append(contentsOf: repeatElement(Slot.empty, count: featureCount))
        numbers.append(contentsOf: repeatElement(0, count: featureCount))
        texts.append(contentsOf: repeatElement(Text.null, count: featureCount))
        return base
    }

    /// Drops the feature slots opened by `beginFeatures()` for a row that is not kept.
    mutating func abandonFeatures(from base: Int) {
        slots.removeSubrange(base...)
        numbers.removeSubrange(base...)
        texts.removeSubrange(base...)
    }

    /// Counts the row whose columns were just appended.
    @inline(__always)
    mutating func endRow() {
        count += 1
    }
}
