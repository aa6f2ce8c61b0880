import DuetMedia

/// What a property made of one input: the parser took it or refused it (with its typed
/// error). Counted, so a test can tell that mutations reach both sides.
public enum FuzzOutcome: Sendable {
    case accepted, rejected
}

/// A property did not hold for an input. Thrown from a property; the run records it with the
/// seed, iteration and input, and goes on.
public struct FuzzViolation: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Throws a `FuzzViolation` saying `message` unless `condition` holds.
public func ensure(_ condition: Bool, _ message: @autoclosure () -> String) throws(FuzzViolation) {
    if !condition { throw FuzzViolation(message()) }
}

/// One thing to fuzz: its name, how many iterations, and the seed each iteration's inputs
/// come from. Every iteration has its own generator, made from the seed, the target's name
/// and the iteration number alone, so any iteration replays by itself
/// (`DUET_FUZZ_ITERATION`).
public struct FuzzTarget: Sendable {
    /// A run stops after this many failures: the first few say everything.
    public static let maximumFailures = 5

    public let name: String
    /// What to pass to `swift test --filter` to run this target's tests.
    public let filter: String
    public let iterations: Int
    public let seed: UInt64
    private let onlyIteration: Int?
    private let problems: [String]

    /// - Parameters:
    ///   - defaultIterations: what `make test` runs (no DUET_FUZZ_ITERATIONS).
    ///   - cost: parser iterations one iteration here is worth; with DUET_FUZZ_ITERATIONS=N
    ///     this target runs N / cost (at least 1).
    ///   - file: the test file; its name (the suite's, by convention) becomes the replay filter.
    public init(_ name: String, defaultIterations: Int, cost: Int = 1, budget: FuzzBudget = .current, file: String = #fileID) {
        self.name = name
        let base = file.split(separator: "/").last.map(String.init) ?? file
        filter = base.hasSuffix(".swift") ? String(base.dropLast(6)) : base
        iterations = budget.iterations.map { max(1, $0 / max(1, cost)) } ?? defaultIterations
        seed = budget.seed
        onlyIteration = budget.onlyIteration
        problems = budget.problems
    }

    /// The iterations this run makes: all of them, or the one being replayed.
    public var indices: [Int] { onlyIteration.map { [$0] } ?? Array(0..<iterations) }

    /// True when every iteration runs (not a replay of one), so counts mean something.
    public var isFullRun: Bool { onlyIteration == nil }

    /// The generator of one iteration.
    public func random(iteration: Int) -> SeededRandom {
        var random = SeededRandom(seed: seed ^ Self.fnv1a(name) ^ (UInt64(iteration) &* 0xD1B5_4A32_D192_ED03))
        _ = random.next()
        return random
    }

    /// A new report for this target, with any unreadable environment variable already in it.
    public func report() -> FuzzReport {
        var report = FuzzReport(target: self)
        for problem in problems { report.failures.append(FuzzFailure(target: self, iteration: -1, input: [], message: problem)) }
        return report
    }

    /// Makes an input per iteration with `generate` and checks `property` on it. The
    /// property returns whether the input was accepted, throws `FuzzViolation` when something
    /// it checks does not hold; any other error escaping it is a failure too.
    public func run(
        _ generate: (inout SeededRandom) -> [UInt8],
        property: (_ input: [UInt8], _ random: inout SeededRandom) throws -> FuzzOutcome
    ) -> FuzzReport {
        var report = report()
        for iteration in indices {
            let (input, generator) = prepare(iteration, generate)
            var random = generator
            guard report.conclude(iteration: iteration, input: input, Result { try property(input, &random) }) else { break }
        }
        report.finish()
        return report
    }

    /// An iteration's input and generator; the input is noted for the crash report.
    func prepare(_ iteration: Int, _ generate: (inout SeededRandom) -> [UInt8]) -> (input: [UInt8], random: SeededRandom) {
        var random = random(iteration: iteration)
        let input = generate(&random)
        CrashReport.enter(self, iteration: iteration, input: input)
        return (input, random)
    }

    /// Fuzzes `property` with mutations of valid `samples` (see `Mutator`); `fixup`, when
    /// given, repairs checksums in half of the inputs so they get past them to deeper code.
    public func run(
        samples: [[UInt8]], mutator: Mutator = Mutator(), fixup: (([UInt8]) -> [UInt8])? = nil,
        property: (_ input: [UInt8], _ random: inout SeededRandom) throws -> FuzzOutcome
    ) -> FuzzReport {
        run({ random in mutator.mutateRepairing(samples, fixup: fixup, using: &random) }, property: property)
    }

    /// FNV-1a: a stable hash of the target's name (Swift's `Hasher` is seeded per process).
    static func fnv1a(_ text: String) -> UInt64 {
        text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
    }
}

/// One input a property failed on, with everything needed to replay it.
public struct FuzzFailure: CustomStringConvertible, Sendable {
    public let target: String
    public let filter: String
    public let seed: UInt64
    public let iteration: Int
    public let input: [UInt8]
    public let message: String

    init(target: FuzzTarget, iteration: Int, input: [UInt8], message: String) {
        self.target = target.name
        filter = target.filter
        seed = target.seed
        self.iteration = iteration
        self.input = input
        self.message = message
    }

    public var description: String {
        guard iteration >= 0 else { return "fuzz \(target): \(message)" }
        return """
            fuzz \(target): seed 0x\(String(seed, radix: 16)) iteration \(iteration): \(message)
              input (\(input.count) bytes): \(input.hex)
              replay: \(FuzzBudget.seedVariable)=0x\(String(seed, radix: 16)) \(FuzzBudget.iterationVariable)=\(iteration) \
            swift test --skip-build --disable-xctest --no-parallel --filter \(filter)
            """
    }
}

/// What a run did: iterations, how many inputs were accepted and refused, the failures, time.
public struct FuzzReport: CustomStringConvertible, Sendable {
    public let target: String
    public let seed: UInt64
    private let fuzzTarget: FuzzTarget
    public private(set) var iterations = 0
    public private(set) var accepted = 0
    public private(set) var rejected = 0
    public internal(set) var failures: [FuzzFailure] = []
    public private(set) var elapsed: Duration = .zero
    private let started = ContinuousClock.now

    init(target: FuzzTarget) {
        self.target = target.name
        seed = target.seed
        fuzzTarget = target
    }

    /// No property failed.
    public var isClean: Bool { failures.isEmpty }

    /// Both outcomes were seen, or the run was a replay of one iteration (which cannot show both).
    public var reachedBothOutcomes: Bool { !fuzzTarget.isFullRun || (accepted > 0 && rejected > 0) }

    /// Records one iteration's result.
    private mutating func record(iteration: Int, input: [UInt8], _ result: Result<FuzzOutcome, any Error>) {
        iterations += 1
        switch result {
        case .success(.accepted): accepted += 1
        case .success(.rejected): rejected += 1
        case let .failure(violation as FuzzViolation):
            failures.append(FuzzFailure(target: fuzzTarget, iteration: iteration, input: input, message: violation.description))
        case let .failure(error):
            failures.append(
                FuzzFailure(
                    target: fuzzTarget, iteration: iteration, input: input,
                    message: "unexpected error escaped the property: \(error)"))
        }
    }

    /// The property returned (or threw) for a prepared input: recorded. False once the run
    /// has enough failures to stop.
    mutating func conclude(iteration: Int, input: [UInt8], _ result: Result<FuzzOutcome, any Error>) -> Bool {
        CrashReport.leave()
        record(iteration: iteration, input: input, result)
        return failures.count < FuzzTarget.maximumFailures
    }

    /// Notes the time taken and prints the one-line summary `make fuzz` shows.
    mutating func finish() {
        elapsed = ContinuousClock.now - started
        print(summary)
    }

    public var summary: String {
        let ms = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        return "fuzz \(target): \(iterations) iterations (\(accepted) accepted, \(rejected) refused), seed 0x\(String(seed, radix: 16)), "
            + "\(ms) ms, \(failures.isEmpty ? "no failures" : "\(failures.count) failures")"
    }

    public var description: String {
        ([summary] + failures.map(\.description)).joined(separator: "\n")
    }
}

extension Array where Element == UInt8 {
    /// Lowercase hex, two digits a byte: how failures print inputs.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Bytes from hex as failures print them (whitespace ignored), for regression tests.
    public init(hex: String) {
        let nibbles = hex.unicodeScalars.compactMap { UInt8(String($0), radix: 16) }
        precondition(nibbles.count % 2 == 0, "hex needs two digits a byte")
        self = stride(from: 0, to: nibbles.count, by: 2).map { nibbles[$0] << 4 | nibbles[$0 + 1] }
    }
}
