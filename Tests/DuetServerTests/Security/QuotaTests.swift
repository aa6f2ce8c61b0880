import DuetClient
import DuetCrypto
import DuetMedia
import DuetWire
import Testing

@testable import DuetServer

/// What one key may make the server keep: live meetings it hosts (guests included), recordings
/// in them, numbers it watches, one-time prekeys its number holds. Past a quota a request is
/// refused with `quota_exceeded` (prekeys past theirs are dropped), and room made is usable again.
@Suite("Per-key quotas")
struct QuotaTests {
    @Test func aFifthLiveMeetingByOneGuestKeyIsRefusedUntilOneEnds() async throws {
        let server = try await TestServer.start()
        let (guest, _) = try await TestDevice().connect(to: server)  // never registers: any key may host
        let fingerprint = try DTLSCertificate().fingerprint
        func create() async throws -> Signaling.Meeting {
            try await guest.createMeeting(
                open: false, record: false, name: "Guest", dtlsFingerprint: fingerprint, ssrc: .random(in: 1...UInt32.max))
        }
        var codes: [String] = []
        for _ in 0..<MeetingRegistry.maximumHostedMeetings { codes.append(try await create().code) }
        #expect(MeetingRegistry.maximumHostedMeetings == 4)
        await expectServerError(.quotaExceeded) { _ = try await create() }

        try await guest.leaveMeeting(code: codes[0])
        _ = try await create()
        await guest.close()
        try await server.stop()
    }

    @Test func aThirdRecordingByOneHostIsRefusedWhetherMadeRecordedOrStartedLater() async throws {
        let server = try await TestServer.start()
        let device = TestDevice()
        let (host, _) = try await device.connect(to: server)
        try await device.register(host, as: "+15557901")
        let fingerprint = try DTLSCertificate().fingerprint
        func create(record: Bool) async throws -> Signaling.Meeting {
            try await host.createMeeting(
                open: false, record: record, name: nil, dtlsFingerprint: fingerprint, ssrc: .random(in: 1...UInt32.max))
        }
        let recorded = [try await create(record: true), try await create(record: true)]
        await expectServerError(.quotaExceeded) { _ = try await create(record: true) }
        let plain = try await create(record: false)
        await expectServerError(.quotaExceeded) { _ = try await host.recordMeeting(code: plain.code, on: true) }

        _ = try await host.recordMeeting(code: recorded[0].code, on: false)
        #expect(try await host.recordMeeting(code: plain.code, on: true).recording)
        await host.close()
        try await server.stop()
    }

    @Test func watchingMoreNumbersThanTheQuotaIsRefusedWhole() async throws {
        let server = try await TestServer.start()
        let (watcher, _) = try await TestDevice().connect(to: server)
        let numbers = (0..<Directory.maximumWatchedNumbers).map { "+1555790\(String(format: "%04d", $0))" }
        #expect(try await watcher.watch(numbers).count == numbers.count)
        await expectServerError(.quotaExceeded) { _ = try await watcher.watch(["+15557990000", "+15557990001"]) }

        try await watcher.unwatch([numbers[0]])
        await expectServerError(.quotaExceeded) { _ = try await watcher.watch(["+15557990000", "+15557990001"]) }  // nothing of it was kept
        #expect(try await watcher.watch(["+15557990000"]).count == 1)
        await watcher.close()
        try await server.stop()
    }

    @Test func theServerHoldsAtMostTheQuotaOfOneTimePrekeysPerNumber() async throws {
        let server = try await TestServer.start()
        let device = TestDevice(oneTimePrekeyCount: 150)
        let (connection, _) = try await device.connect(to: server)
        #expect(try await device.register(connection, as: "+15557902").oneTimePrekeyCount == 150)
        let more = (0..<UInt32(150)).map { OneTimePrekey.generate(id: 1_000 + $0).publicPart }
        #expect(try await connection.uploadPrekeys(oneTimePrekeys: more) == Directory.maximumOneTimePrekeys)
        #expect(Directory.maximumOneTimePrekeys == 200)
        let yetMore = (0..<UInt32(10)).map { OneTimePrekey.generate(id: 2_000 + $0).publicPart }
        #expect(try await connection.uploadPrekeys(oneTimePrekeys: yetMore) == Directory.maximumOneTimePrekeys)
        await connection.close()
        try await server.stop()
    }
}
