import Foundation
import Testing

@testable import DuetClient

/// The call history in the device store (docs/history.md), without a network.
@Suite("Call history")
struct CallHistoryTests {
    let home: TemporaryDirectory
    let store: DeviceStore

    init() throws {
        home = try TemporaryDirectory()
        store = try DeviceStore.open(try ProfileLocation(name: "alice", home: home.url), passphrase: nil, create: true, cost: .minimum)
    }

    @Test func aCallIsRecordedAsItGoesAndEndsOnce() throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(
            try store.beginCall(
                CallRecord(kind: .call, direction: .outgoing, peer: "+15550002", peerName: "Bob", callID: "c1", startedAt: start)))
        #expect(
            try !store.beginCall(CallRecord(kind: .call, direction: .incoming, peer: "+15550009", callID: "c1")), "one record per call id")
        // A group call a member opened under the same id is its own record, and ends apart.
        #expect(try store.beginCall(CallRecord(kind: .group, direction: .incoming, peer: "Team", callID: "c1", startedAt: start)))
        try store.callEnded(.group, "c1", ifNeverConnected: .failed, at: start.addingTimeInterval(1))
        try store.callConnected(.call, "c1", path: "p2p", verified: true, at: start.addingTimeInterval(2))
        try store.callConnected(.call, "c1", path: "relay (udp)", verified: true, at: start.addingTimeInterval(30))
        try store.callEnded(.call, "c1", ifNeverConnected: .failed, at: start.addingTimeInterval(62))
        try store.callEnded(.call, "c1", ifNeverConnected: .failed, at: start.addingTimeInterval(90))
        let record = try #require(try store.history().first { $0.kind == .call })
        #expect(record.peer == "+15550002" && record.direction == .outgoing && record.who == "Bob (+15550002)")
        #expect(record.outcome == .answered && record.duration == 60 && record.path == "relay (udp)" && record.verified)
    }

    @Test func aCallThatNeverConnectedKeepsItsOwnOutcome() throws {
        try store.beginCall(CallRecord(kind: .call, direction: .incoming, peer: "+15550003", callID: "c2"))
        try store.callEnded(.call, "c2", ifNeverConnected: .missed)
        let record = try #require(try store.history().first)
        #expect(record.outcome == .missed && record.duration == nil && !record.verified)
    }

    @Test func outcomesOfOneToOneEndings() {
        typealias O = CallRecord.Outcome
        #expect(O.of(.noAnswer, direction: .incoming) == .missed)
        #expect(O.of(.cancelled, direction: .incoming) == .missed)
        #expect(O.of(.noAnswer, direction: .outgoing) == .noAnswer)
        #expect(O.of(.cancelled, direction: .outgoing) == .cancelled)
        #expect(O.of(.declined, direction: .outgoing) == .declined)
        #expect(O.of(.busy, direction: .outgoing) == .busy)
        #expect(O.of(.failed("x"), direction: .outgoing) == .failed)
        #expect(O.of(.hungUpByPeer, direction: .incoming) == .cancelled)
    }

    @Test func theHistoryKeepsTheNewestThousand() throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for index in 0..<(DeviceStore.historyLimit + 5) {
            try store.beginCall(
                CallRecord(
                    kind: .call, direction: .outgoing, peer: "+15550002", callID: "c\(index)",
                    startedAt: start.addingTimeInterval(Double(index))))
        }
        let all = try store.history(limit: DeviceStore.historyLimit + 5)
        #expect(all.count == DeviceStore.historyLimit)
        #expect(all.first?.callID == "c\(DeviceStore.historyLimit + 4)" && all.last?.callID == "c5")
    }
}
