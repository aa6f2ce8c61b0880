import DuetMedia

/// Turns valid samples (made by the real encoders) into inputs that are almost valid, so the
/// parser under test gets past its first checks and its deeper code is reached: a few stacked
/// mutations of one sample, the kinds AFL and libFuzzer use.
public struct Mutator: Sendable {
    public enum Kind: CaseIterable, Sendable {
        /// One bit flipped.
        case bitFlip
        /// One byte replaced by a random or boundary value (0, 1, 0x7F, 0x80, 0xFF…).
        case byteReplace
        /// Cut short at a random point.
        case truncate
        /// Random bytes appended.
        case extend
        /// The start of this sample and the end of another.
        case splice
        /// A 1-, 2-, 4- or 8-byte field (big- or little-endian) rewritten with a value near
        /// the input's length or a boundary: how length and offset fields are made to lie.
        case lengthLie
        /// A run of bytes inserted, removed or repeated in the middle.
        case chunk
        /// No sample at all: random bytes.
        case randomBytes
    }

    /// One input in this many is a sample left as it is, so the accepting path of a property
    /// (round trips, a genuine frame opening once) is checked within the same run.
    public var unmutatedOneIn: Int
    /// Most mutations stack up to this many.
    public var maximumStack: Int
    /// Inputs are cut to this length.
    public var maximumLength: Int
    public var kinds: [Kind]

    public init(maximumStack: Int = 4, maximumLength: Int = 1 << 16, unmutatedOneIn: Int = 16, kinds: [Kind] = Kind.allCases) {
        self.unmutatedOneIn = unmutatedOneIn
        self.maximumStack = maximumStack
        self.maximumLength = maximumLength
        self.kinds = kinds
    }

    static let boundaryBytes: [UInt8] = [
        0x00, 0x01, 0x02, 0x03, 0x0F, 0x10, 0x14, 0x16, 0x20, 0x3F, 0x40, 0x7F, 0x80, 0xBF, 0xC0, 0xFE, 0xFF
    ]

    /// A mutation of a sample picked from `samples`.
    public func mutate(_ samples: [[UInt8]], using random: inout SeededRandom) -> [UInt8] {
        precondition(!samples.isEmpty, "fuzzing needs at least one valid sample")
        var bytes = samples.randomElement(using: &random)!
        if Int.random(in: 0..<max(1, unmutatedOneIn), using: &random) == 0 { return bytes }
        for _ in 0..<Int.random(in: 1...maximumStack, using: &random) {
            apply(kinds.randomElement(using: &random)!, to: &bytes, samples: samples, using: &random)
        }
        if bytes.count > maximumLength { bytes.removeLast(bytes.count - maximumLength) }
        return bytes
    }

    public func apply(_ kind: Kind, to bytes: inout [UInt8], samples: [[UInt8]], using random: inout SeededRandom) {
        switch kind {
        case .bitFlip:
            guard !bytes.isEmpty else { return }
            bytes[Int.random(in: bytes.indices, using: &random)] ^= 1 << UInt8.random(in: 0...7, using: &random)
        case .byteReplace:
            guard !bytes.isEmpty else { return }
            let value =
                Bool.random(using: &random) ? Self.boundaryBytes.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
            bytes[Int.random(in: bytes.indices, using: &random)] = value
        case .truncate:
            bytes.removeLast(Int.random(in: 0...bytes.count, using: &random))
        case .extend:
            let count = Bool.random(using: &random) ? Int.random(in: 1...4, using: &random) : Int.random(in: 1...300, using: &random)
            bytes += Self.randomBytes(count, using: &random)
        case .splice:
            let other = samples.randomElement(using: &random)!
            bytes =
                Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
                + other.suffix(Int.random(in: 0...other.count, using: &random))
        case .lengthLie:
            lie(in: &bytes, using: &random)
        case .chunk:
            let at = Int.random(in: 0...bytes.count, using: &random)
            let length = Int.random(in: 1...32, using: &random)
            switch Int.random(in: 0..<3, using: &random) {
            case 0: bytes.insert(contentsOf: Self.randomBytes(length, using: &random), at: at)
            case 1: bytes.removeSubrange(at..<min(bytes.count, at + length))
            default: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + length)], at: at)
            }
        case .randomBytes:
            bytes = Self.randomBytes(Int.random(in: 0...max(64, 2 * bytes.count), using: &random), using: &random)
        }
    }

    /// Rewrites a field with a value that is almost right or at a boundary. Fields whose
    /// current value could be a length (no more than the bytes that follow) are preferred.
    private func lie(in bytes: inout [UInt8], using random: inout SeededRandom) {
        let width = [1, 2, 2, 4, 8].randomElement(using: &random)!
        guard bytes.count >= width else { return }
        let bigEndian = Int.random(in: 0..<4, using: &random) != 0
        func read(_ at: Int) -> UInt64 {
            (0..<width).reduce(0) { value, i in value << 8 | UInt64(bytes[at + (bigEndian ? i : width - 1 - i)]) }
        }
        // A few random places; those holding a plausible length win three times in four.
        let positions = (0..<16).map { _ in Int.random(in: 0...(bytes.count - width), using: &random) }
        let plausible = positions.filter { read($0) > 0 && read($0) <= UInt64(bytes.count - $0) }
        let at = (plausible.isEmpty || Int.random(in: 0..<4, using: &random) == 0 ? positions : plausible).randomElement(using: &random)!
        let current = read(at), maximum: UInt64 = width == 8 ? .max : (1 << UInt64(8 * width)) - 1
        let remaining = UInt64(bytes.count - at - width)
        let candidates: [UInt64] = [
            0, 1, 3, 4, maximum, maximum - 1, maximum >> 1, (maximum >> 1) + 1,
            current &+ 1, current &- 1, current &+ 4, current &- 4, current &* 2, current / 2,
            remaining, remaining &+ 1, remaining &- 1, remaining &+ 4, UInt64(bytes.count),
            UInt64.random(in: 0...maximum, using: &random)
        ]
        let value = candidates.randomElement(using: &random)! & maximum
        for i in 0..<width {
            let shift = UInt64(8 * (bigEndian ? width - 1 - i : i))
            bytes[at + i] = UInt8(truncatingIfNeeded: value >> shift)
        }
    }

    public static func randomBytes(_ count: Int, using random: inout SeededRandom) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }
}
