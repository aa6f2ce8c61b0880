/// The video bitrate from receiver reports, loss-based as WebRTC's fallback controller is:
/// above 10 % loss the bitrate drops by half the loss fraction; below 2 % it rises by 8 %,
/// at most once a second; between, it holds. Within `range`. Pure: the call feeds it each
/// report's fraction lost and sets the encoder to what it answers.
public struct VideoRateController: Sendable, Equatable {
    public let range: ClosedRange<Int>
    public private(set) var bitrate: Int
    private var lastIncrease: Double?

    public init(start: Int = 250_000, range: ClosedRange<Int> = 50_000...1_000_000) {
        self.range = range
        bitrate = min(max(start, range.lowerBound), range.upperBound)
    }

    /// A report's loss (`fractionLost` out of 256) seen at `time` seconds; the new bitrate.
    @discardableResult
    public mutating func report(fractionLost: UInt8, at time: Double) -> Int {
        let loss = Double(fractionLost) / 256
        if loss > 0.10 {
            bitrate = Int(Double(bitrate) * (1 - loss / 2))
        } else if loss < 0.02, lastIncrease.map({ time - $0 >= 1 }) ?? true {
            bitrate = Int(Double(bitrate) * 1.08)
            lastIncrease = time
        }
        bitrate = min(max(bitrate, range.lowerBound), range.upperBound)
        return bitrate
    }
}
