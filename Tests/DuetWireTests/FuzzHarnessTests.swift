import DuetFuzzing
import Testing

/// The fuzz harness (Tests/DuetFuzzing) is what makes a failure replayable, so its promises
/// are tested where it is first used: the environment is read strictly, an iteration's input
/// depends only on seed, target and iteration, and failures print what replays them.
@Suite("Fuzz harness")
struct FuzzHarnessTests {
    @Test func budgetsComeFromTheEnvironment() {
        let defaults = FuzzBudget(environment: [:])
        #expect(defaults == FuzzBudget(iterations: nil, seed: FuzzBudget.defaultSeed, onlyIteration: nil))
        let set = FuzzBudget(environment: ["DUET_FUZZ_ITERATIONS": "200_000", "DUET_FUZZ_SEED": "0xBEEF", "DUET_FUZZ_ITERATION": "12"])
        #expect(set == FuzzBudget(iterations: 200_000, seed: 0xBEEF, onlyIteration: 12))
        let wrong = FuzzBudget(environment: ["DUET_FUZZ_ITERATIONS": "lots", "DUET_FUZZ_SEED": "0xZZ"])
        #expect(wrong.problems.count == 2 && wrong.iterations == nil && wrong.seed == FuzzBudget.defaultSeed)
        #expect(
            !FuzzTarget("harness self-test, bad environment (failures expected)", defaultIterations: 5, budget: wrong).run({ _ in [] }) {
                _, _ in .accepted
            }.isClean)

        #expect(FuzzTarget("t", defaultIterations: 7, budget: defaults).iterations == 7)
        #expect(FuzzTarget("t", defaultIterations: 7, cost: 4, budget: set).iterations == 50_000)
        #expect(FuzzTarget("t", defaultIterations: 7, budget: set).indices == [12])
    }

    @Test func anIterationReplaysAlone() {
        let mutator = Mutator()
        func inputs(_ budget: FuzzBudget) -> [[UInt8]] {
            var seen: [[UInt8]] = []
            _ = FuzzTarget("harness self-test, replay", defaultIterations: 50, budget: budget).run({
                mutator.mutate([[1, 2, 3, 4, 5, 6, 7, 8]], using: &$0)
            }) { input, _ in
                seen.append(input)
                return .accepted
            }
            return seen
        }
        let all = inputs(FuzzBudget(seed: 99))
        #expect(all == inputs(FuzzBudget(seed: 99)))
        #expect(all != inputs(FuzzBudget(seed: 100)))
        #expect(inputs(FuzzBudget(seed: 99, onlyIteration: 31)) == [all[31]])
    }

    @Test func failuresNameSeedIterationInputAndReplay() {
        let report = FuzzTarget("harness self-test (failures expected)", defaultIterations: 10, budget: FuzzBudget(seed: 0xABC)).run({ _ in
            [0xDE, 0xAD]
        }) { _, _ in
            throw FuzzViolation("always")
        }
        #expect(report.failures.count == FuzzTarget.maximumFailures)
        let text = "\(report.failures[1])"
        #expect(text.contains("seed 0xabc iteration 1: always") && text.contains("input (2 bytes): dead"))
        #expect(text.contains("DUET_FUZZ_SEED=0xabc DUET_FUZZ_ITERATION=1 swift test") && text.contains("--filter FuzzHarnessTests"))
        #expect([UInt8](hex: "de ad\nBE EF") == [0xDE, 0xAD, 0xBE, 0xEF])
    }
}
