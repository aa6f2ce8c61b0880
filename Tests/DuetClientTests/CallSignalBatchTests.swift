import DuetWire
import Testing

@testable import DuetClient

@Suite("Call signals sent in batches")
struct CallSignalBatchTests {
    /// A long list of signals is cut into requests that each fit a frame and a group's size,
    /// in order, none lost; a short one goes in one request.
    @Test func largeBatchesAreCutToFitAFrame() {
        let signals = (0..<40).map { (to: "+1555100\($0)", payload: [UInt8](repeating: 1, count: 4_000)) }
        let batches = ServerConnection.batches(of: signals)
        #expect(batches.count > 1)
        #expect(batches.flatMap { $0 }.map(\.to) == signals.map(\.to))
        for batch in batches {
            #expect(batch.count <= Signaling.maximumGroupMembers)
            #expect(batch.reduce(0) { $0 + $1.payload.count * 4 / 3 } < FrameDecoder.maximumFrameLength)
        }
        #expect(ServerConnection.batches(of: signals.prefix(3).map { (to: $0.to, payload: [UInt8]([1])) }).count == 1)
    }
}
