import Foundation

/// Interleaved timing: each round runs every candidate once, back to back, so machine noise
/// (other builds on a shared 2-core box) lands on all of them; figures are medians over rounds.
struct Timing {
    var rounds = 21
    var iterations = 2_000
    var warmupRounds = 2

    /// Nanoseconds per iteration of each candidate, one array per round.
    func run(_ candidates: [() -> Void]) -> [[Double]] {
        var results: [[Double]] = []
        for round in 0..<(warmupRounds + rounds) {
            let perCandidate = candidates.map { body in
                let elapsed = ContinuousClock().measure {
                    for _ in 0..<iterations { body() }
                }
                return Self.nanoseconds(elapsed) / Double(iterations)
            }
            if round >= warmupRounds { results.append(perCandidate) }
        }
        return results
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Median over rounds of candidate `index`.
    static func median(_ rounds: [[Double]], _ index: Int) -> Double {
        median(rounds.map { $0[index] })
    }

    /// Median over rounds of the per-round ratio `numerator / denominator`, which cancels
    /// slow rounds better than a ratio of medians.
    static func medianRatio(_ rounds: [[Double]], _ numerator: Int, _ denominator: Int) -> Double {
        median(rounds.map { $0[numerator] / $0[denominator] })
    }

    private static func nanoseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
    }
}
