import Glibc

/// How much a run fuzzes and from which seed, read from the environment: `make test` runs a
/// short fixed budget from a fixed seed (the same inputs every time), `make fuzz` a long one,
/// and a failure names the seed and iteration that replay it.
///
/// - `DUET_FUZZ_ITERATIONS=N`: every parser target runs N iterations; a target whose iteration
///   costs far more (a DTLS handshake, a datagram to a real server) runs N / its cost.
///   Unset: each target's own default, sized so all of them together stay within seconds.
/// - `DUET_FUZZ_SEED=S` (decimal or 0x hex): the seed every target derives its inputs from.
///   Unset: `defaultSeed`.
/// - `DUET_FUZZ_ITERATION=I`: run iteration I alone, to replay a failure.
public struct FuzzBudget: Sendable, Equatable {
    public static let iterationsVariable = "DUET_FUZZ_ITERATIONS"
    public static let seedVariable = "DUET_FUZZ_SEED"
    public static let iterationVariable = "DUET_FUZZ_ITERATION"
    /// The seed of `make test`: fixed, so a failure there is a failure every time.
    public static let defaultSeed: UInt64 = 0xD0E7_F022

    /// Iterations each parser target runs, or nil for each target's default.
    public let iterations: Int?
    public let seed: UInt64
    /// When replaying: the one iteration to run.
    public let onlyIteration: Int?
    /// Variables that were set but could not be read; a run reports them as failures, so a
    /// typo does not silently fall back to the short default.
    public let problems: [String]

    public init(iterations: Int? = nil, seed: UInt64 = defaultSeed, onlyIteration: Int? = nil) {
        self.iterations = iterations
        self.seed = seed
        self.onlyIteration = onlyIteration
        problems = []
    }

    public init(environment: [String: String]) {
        var problems: [String] = []
        func count(_ name: String) -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text.filter { $0 != "_" }), value >= 0 else {
                problems.append("\(name)=\(text) is not a non-negative whole number")
                return nil
            }
            return value
        }
        iterations = count(Self.iterationsVariable)
        onlyIteration = count(Self.iterationVariable)
        if let text = environment[Self.seedVariable] {
            if let value = Self.parseSeed(text) {
                seed = value
            } else {
                problems.append("\(Self.seedVariable)=\(text) is not a 64-bit number (decimal or 0x hex)")
                seed = Self.defaultSeed
            }
        } else {
            seed = Self.defaultSeed
        }
        self.problems = problems
    }

    /// The budget the test process was started with.
    public static var current: FuzzBudget { FuzzBudget(environment: processEnvironment()) }

    static func parseSeed(_ text: String) -> UInt64? {
        let trimmed = text.filter { $0 != "_" }.lowercased()
        if trimmed.hasPrefix("0x") { return UInt64(trimmed.dropFirst(2), radix: 16) }
        return UInt64(trimmed)
    }
}

/// The environment, read with getenv: no Foundation in this target.
private func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    for name in [FuzzBudget.iterationsVariable, FuzzBudget.seedVariable, FuzzBudget.iterationVariable] {
        if let value = getenv(name) { result[name] = String(cString: value) }
    }
    return result
}
