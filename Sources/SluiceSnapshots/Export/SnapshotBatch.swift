/// The rows of one COPY chunk, parsed and ready to write: what the parsing stage hands to the Parquet and CSV
/// sinks, which write it at the same time on their own threads.
///
/// Text values (ids, names, feature strings and number texts) are byte ranges of the COPY chunk itself, which the
/// batch keeps (an array shared, not copied); text that is not in the chunk as is — decoded escapes, or a row that
/// began in the previous chunk — is copied into `extra`. Offsets count through the chunk and then `extra`, so one
/// `Text` addresses either. The batch owns everything it refers to and is a plain `Sendable` value. Features are
/// stored row-major: entry `row * featureCount + feature`.
struct SnapshotBatch: Sendable {
    /// A byte range; `start < 0` stands for NULL.
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
    /// The COPY chunk the rows came from.
    let chunk: [UInt8]
    /// Text that is not in `chunk`; offset `chunk.count + i` is `extra[i]`.
    var extra: [UInt8] = []

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

    init(chunk: [UInt8], featureCount: Int, expectedRows: Int) {
        self.chunk = chunk
        self.featureCount = featureCount
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

    /// The range of `text`, which lies in the chunk whose bytes start at `chunkBase`, or else is copied to `extra`.
    @inline(__always)
    mutating func text(_ text: UnsafeRawBufferPointer, chunkBase: UnsafeRawPointer) -> Text {
        if let start = text.baseAddress, start >= chunkBase, start + text.count <= chunkBase + chunk.count {
            let offset = start - chunkBase
            return Text(start: offset, end: offset + text.count)
        }
        let offset = chunk.count + extra.count
        extra.append(contentsOf: text)
        return Text(start: offset, end: offset + text.count)
    }

    /// Calls `body` with a resolver from ranges to bytes, valid inside `body` only.
    func withText<R>(_ body: (TextResolver) throws -> R) rethrows -> R {
        try chunk.withUnsafeBytes { chunk in
            try extra.withUnsafeBytes { extra in
                try body(TextResolver(chunk: chunk, extra: extra))
            }
        }
    }

    /// Turns ranges of a batch into bytes.
    struct TextResolver {
        let chunk: UnsafeRawBufferPointer
        let extra: UnsafeRawBufferPointer

        @inline(__always)
        func callAsFunction(_ text: Text) -> UnsafeRawBufferPointer? {
            guard !text.isNull else { return nil }
            if text.start < chunk.count { return UnsafeRawBufferPointer(rebasing: chunk[text.start..<text.end]) }
            return UnsafeRawBufferPointer(rebasing: extra[(text.start - chunk.count)..<(text.end - chunk.count)])
        }

        /// The bytes of a range known not to be NULL.
        @inline(__always)
        func bytes(_ text: Text) -> UnsafeRawBufferPointer {
            if text.start < chunk.count { return UnsafeRawBufferPointer(rebasing: chunk[text.start..<text.end]) }
            return UnsafeRawBufferPointer(rebasing: extra[(text.start - chunk.count)..<(text.end - chunk.count)])
        }
    }

    /// Appends a row's feature slots (one entry per feature each).
    @inline(__always)
    mutating func appendFeatures(slots rowSlots: UnsafeBufferPointer<UInt8>, numbers rowNumbers: UnsafeBufferPointer<Double>,
                                 texts rowTexts: UnsafeBufferPointer<Text>) {
        slots.append(contentsOf: rowSlots)
        numbers.append(contentsOf: rowNumbers)
        texts.append(contentsOf: rowTexts)
    }

    /// Counts the row whose columns were just appended.
    @inline(__always)
    mutating func endRow() {
        count += 1
    }
}
