/// A sliding window over one KID's counters (RFC 3711 §3.3.2 adapted to SFrame's CTR, as
/// RFC 9605 §9.3 suggests): the highest counter accepted and which of the 63 before it were.
///
/// SRTP's own replay window protects each hop, but in a group call the hop ends at the SFU,
/// which could replay old frames inside fresh SRTP packets; this window is end to end.
struct SFrameReplayWindow: Sendable {
    /// Counters this far behind the highest accepted one are refused as too old.
    static let size: UInt64 = 64

    private var highest: UInt64 = 0
    private var seen: UInt64 = 0  // bit i: highest - i was accepted
    private var started = false

    enum Verdict: Equatable { case fresh, replayed, tooOld }

    /// Whether `counter` may be accepted. Checked before decryption, recorded only after it
    /// authenticates, so forged frames cannot move the window.
    func check(_ counter: UInt64) -> Verdict {
        guard started, counter <= highest else { return .fresh }
        let behind = highest - counter
        if behind >= Self.size { return .tooOld }
        return seen & (1 << behind) != 0 ? .replayed : .fresh
    }

    mutating func accept(_ counter: UInt64) {
        if !started {
            started = true
            highest = counter
            seen = 1
        } else if counter > highest {
            let shift = counter - highest
            seen = shift >= Self.size ? 1 : seen << shift | 1
            highest = counter
        } else {
            seen |= 1 << (highest - counter)
        }
    }
}
