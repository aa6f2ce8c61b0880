import DuetServer
import DuetWire
import Foundation
import Testing

@testable import DuetClient

/// A meeting link names the server's certificate (docs/SECURITY.md, "Meeting guests"): a guest
/// who has never used that server pins what the link says, not whatever answers first.
@Suite("Security: meeting links pin the server's certificate", .serialized)
struct MeetingLinkPinTests {
    static func freshStore() throws -> (DeviceStore, URL) {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-link-\(UUID().uuidString)")
        let store = try DeviceStore.open(ProfileLocation(name: "guest", home: home), passphrase: nil, create: true)
        try store.initializeKeys()
        return (store, home)
    }

    /// The host's link carries the server's fingerprint. A fresh guest profile joining with it
    /// pins that certificate; a link that names the same address with another certificate (what
    /// someone in the middle would have to show) is refused at the TLS handshake; a link with no
    /// certificate, to a server the profile never used, is refused before connecting.
    @Test func aGuestPinsTheCertificateTheLinkNames() async throws {
        let server = try await TestServer.start()
        let elsewhere = try await TestServer.start()
        let host = try await MeetingMediaTests.Attendee.make("+15552491", on: server)
        let link = try await host.engine.create(open: true, record: false, name: "Host")
        #expect(link.certificate == server.fingerprint)
        #expect(try MeetingLink(parsing: link.description) == link)

        let (guestStore, guestHome) = try Self.freshStore()
        defer { try? FileManager.default.removeItem(at: guestHome) }
        let guest = try await DeviceSession.open(store: guestStore, for: link)
        #expect(try guestStore.account().serverFingerprint == server.fingerprint.description)
        await guest.close()

        let (otherStore, otherHome) = try Self.freshStore()
        defer { try? FileManager.default.removeItem(at: otherHome) }
        let forged = MeetingLink(server: link.server, code: link.code, certificate: elsewhere.fingerprint)
        await #expect {
            _ = try await DeviceSession.open(store: otherStore, for: forged)
        } throws: { error in
            if case ServerConnectionError.certificateChanged = error { true } else { false }
        }
        let bare = MeetingLink(server: link.server, code: link.code)
        await #expect(throws: DeviceSessionError.linkWithoutCertificate(link.server.description)) {
            _ = try await DeviceSession.open(store: otherStore, for: bare)
        }
        #expect(try otherStore.account().serverFingerprint == nil, "nothing was pinned")
        await host.close()
        try await server.stop()
        try await elsewhere.stop()
    }

    /// The profile's own server under another spelling ("localhost" for 127.0.0.1) is one
    /// server with one pin: a link naming another certificate for it is refused, and one naming
    /// the pinned certificate joins without moving the profile to the new spelling.
    @Test func theSameServerUnderAnotherSpellingKeepsItsPin() async throws {
        let server = try await TestServer.start()
        let elsewhere = try await TestServer.start()
        let (store, home) = try Self.freshStore()
        defer { try? FileManager.default.removeItem(at: home) }
        let first = try await DeviceSession.open(store: store, server: server.address)
        _ = try await first.register(number: "+15552492", name: "Dee", invite: nil)
        await first.close()
        let respelled = HostPort(host: Loopback.hostName, port: server.address.port)
        let lying = MeetingLink(server: respelled, code: "abc-defg-hij", certificate: elsewhere.fingerprint)
        await #expect(throws: DeviceSessionError.linkCertificateMismatch(respelled.description)) {
            _ = try await DeviceSession.open(store: store, for: lying)
        }
        let honest = MeetingLink(server: respelled, code: "abc-defg-hij", certificate: server.fingerprint)
        let session = try await DeviceSession.open(store: store, for: honest)
        #expect(session.server == server.address)
        #expect(try store.account().server == server.address)
        await session.close()
        try await server.stop()
        try await elsewhere.stop()
    }
}
