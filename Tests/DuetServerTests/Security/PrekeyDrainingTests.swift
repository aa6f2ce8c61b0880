import DuetServer
import DuetWire
import Foundation
import Testing

@testable import DuetClient

/// Draining a number's one-time prekeys (docs/SECURITY.md, "Prekey draining"): every bundle
/// fetched takes one, so a loop of fetches would push every caller onto bundles without one and
/// make the victim's device make more and more.
@Suite("Security: prekey draining", .serialized)
struct PrekeyDrainingTests {
    /// A device that has authenticated but holds no number gets no bundle, and takes nothing.
    @Test func aStrangerGetsNoBundle() async throws {
        let server = try await TestServer.start()
        let bob = TestDevice(oneTimePrekeyCount: 50)
        let (bobConnection, _) = try await bob.connect(to: server)
        try await bob.register(bobConnection, as: "+15552471")
        let stranger = TestDevice(oneTimePrekeyCount: 0)
        let (connection, _) = try await stranger.connect(to: server)
        for _ in 0..<5 { await expectServerError(.notRegistered) { _ = try await connection.fetchBundle(number: "+15552471") } }
        #expect(try TamperedDirectory(server).oneTimePrekeyIDs(of: "+15552471").count == 50)
        await connection.close()
        await bobConnection.close()
        try await server.stop()
    }

    /// Mallory, registered, fetches Bob's bundle 150 times: she gets at most 64 of his one-time
    /// prekeys (then bundles without one), and three accomplices together take at most 100 —
    /// the number's own rate — however many bundles they fetch.
    @Test func fetchingInALoopTakesOnlyTheHandoutRate() async throws {
        let server = try await TestServer.start()
        let bob = TestDevice(oneTimePrekeyCount: 200)  // the most the server holds for a number
        let (bobConnection, _) = try await bob.connect(to: server)
        try await bob.register(bobConnection, as: "+15552472")
        await bobConnection.close()  // offline: nothing tops the server up
        var withOneTime = 0
        var drainers: [ServerConnection] = []
        for index in 0..<4 {
            let device = TestDevice(oneTimePrekeyCount: 1)
            let (connection, _) = try await device.connect(to: server)
            try await device.register(connection, as: "+1555248\(index)")
            drainers.append(connection)
        }
        var mallorys = 0
        for _ in 0..<150 where try await drainers[0].fetchBundle(number: "+15552472").oneTimePrekey != nil { mallorys += 1 }
        #expect(mallorys <= 64, "Mallory alone took \(mallorys)")
        withOneTime = mallorys
        for connection in drainers.dropFirst() {
            for _ in 0..<60 where try await connection.fetchBundle(number: "+15552472").oneTimePrekey != nil { withOneTime += 1 }
        }
        #expect(withOneTime <= 100, "four requesters took \(withOneTime)")
        #expect(try TamperedDirectory(server).oneTimePrekeyIDs(of: "+15552472").count >= 100)
        for connection in drainers { await connection.close() }
        try await server.stop()
    }

    /// Asking for bundles in one batch (what a group call member does) hands each number's
    /// one-time prekey out once, under the same rates: the same number asked twice in a batch
    /// takes one key, a batch past the group size is refused, a stranger's batch gets nothing,
    /// and a number nobody registered comes back as unknown.
    @Test func aBatchOfBundlesTakesNoMoreThanFetchingThemOneByOne() async throws {
        let server = try await TestServer.start()
        var owners: [(device: TestDevice, number: String)] = []
        for index in 0..<3 {
            let device = TestDevice(oneTimePrekeyCount: 100)
            let (connection, _) = try await device.connect(to: server)
            try await device.register(connection, as: "+1555249\(index)")
            await connection.close()
            owners.append((device, "+1555249\(index)"))
        }
        let numbers = owners.map(\.number)
        let mallory = TestDevice(oneTimePrekeyCount: 1)
        let (connection, _) = try await mallory.connect(to: server)
        try await mallory.register(connection, as: "+15552499")

        let fetched = try await connection.fetchBundles(numbers: numbers + numbers + ["+15552498"])
        for (device, number) in owners {
            let bundle = try #require(try fetched[number]?.get())
            #expect(bundle.identityKey == device.identity.publicKey)
            #expect(bundle.oneTimePrekey.map { Set(device.oneTimePrekeys.map(\.publicPart)).contains($0) } == true)
            #expect(try TamperedDirectory(server).oneTimePrekeyIDs(of: number).count == 99, "\(number): one key taken, once")
        }
        guard case .failure(.server(code: .unknownNumber, _)) = fetched["+15552498"] else {
            Issue.record("an unregistered number's bundle: \(String(describing: fetched["+15552498"]))")
            return
        }
        let tooMany = (0...Signaling.maximumGroupMembers).map { "+1555260\(String(format: "%02d", $0))" }
        await expectServerError(.invalidMessage) { _ = try await connection.fetchBundles(numbers: tooMany) }

        // The requester's rate (64 at once, then one per 5 s) is spent the same whether fetched
        // one by one or in batches: 60 are left after the first batch (three bundles, and the
        // unregistered number's ask, as when fetched alone), and one more may refill.
        var taken = 0
        for _ in 0..<40 {
            let batch = try await connection.fetchBundles(numbers: numbers)
            taken += batch.values.filter { (try? $0.get().oneTimePrekey) != nil }.count
        }
        #expect((60...61).contains(taken), "Mallory took \(taken) more in batches")

        let stranger = TestDevice(oneTimePrekeyCount: 0)
        let (strangerConnection, _) = try await stranger.connect(to: server)
        await expectServerError(.notRegistered) { _ = try await strangerConnection.fetchBundles(numbers: numbers) }
        await strangerConnection.close()
        await connection.close()
        try await server.stop()
    }
}
