import DuetMedia

/// The same runs for properties that wait (a server over real sockets).
extension FuzzTarget {
    public func runAsync(
        _ generate: (inout SeededRandom) -> [UInt8],
        property: (_ input: [UInt8], _ random: inout SeededRandom) async throws -> FuzzOutcome
    ) async -> FuzzReport {
        var report = report()
        for iteration in indices {
            let (input, generator) = prepare(iteration, generate)
            var random = generator
            let result: Result<FuzzOutcome, any Error>
            do { result = .success(try await property(input, &random)) } catch { result = .failure(error) }
            guard report.conclude(iteration: iteration, input: input, result) else { break }
        }
        report.finish()
        return report
    }

    public func runAsync(
        samples: [[UInt8]], mutator: Mutator = Mutator(), fixup: (([UInt8]) -> [UInt8])? = nil,
        property: (_ input: [UInt8], _ random: inout SeededRandom) async throws -> FuzzOutcome
    ) async -> FuzzReport {
        await runAsync({ random in mutator.mutateRepairing(samples, fixup: fixup, using: &random) }, property: property)
    }
}

extension Mutator {
    /// A mutation, with `fixup` applied to half of them when there is one.
    func mutateRepairing(_ samples: [[UInt8]], fixup: (([UInt8]) -> [UInt8])?, using random: inout SeededRandom) -> [UInt8] {
        let mutated = mutate(samples, using: &random)
        guard let fixup, Bool.random(using: &random) else { return mutated }
        return fixup(mutated)
    }
}
