import DuetClient
import DuetCrypto
import DuetServer
import DuetWire
import Foundation
import Testing

@Suite("Registration, authentication and the directory")
struct RegistrationTests {
    @Test(arguments: DirectoryEngine.allCases) func registersAndLogsInThroughServerConnection(engine: DirectoryEngine) async throws {
        let server = try await TestServer.start(engine: engine)
        let device = TestDevice()
        let first = try ServerConnection(server: server.address, identity: device.identity, pinnedFingerprint: nil)
        #expect(try await first.connect() == nil)
        #expect(await first.serverFingerprint == server.fingerprint)
        let registration = try await device.register(first, as: "+15550001")
        #expect(registration == .init(number: "+15550001", oneTimePrekeyCount: 30))
        await first.close()

        let (again, _) = try await device.connect(to: server)
        #expect(await again.registeredNumber == "+15550001")
        let looked = try await again.lookup(number: "+15550001")
        #expect(looked.identityKey == device.identity.publicKey)
        await again.close()
        try await server.stop()
    }

    @Test func refusesAWrongSignatureAndClosesTheConnection() async throws {
        let server = try await TestServer.start()
        let raw = try await RawClient(server.address)
        let reply = try await raw.authenticate(
            as: IdentityKeyPair.generate(), signer: IdentityKeyPair.generate(), fingerprint: server.fingerprint)
        guard case let .error(error)? = reply?.message else {
            Issue.record("expected an error, got \(String(describing: reply))")
            return
        }
        #expect(error.code == .badSignature)
        #expect(try await raw.isClosedByServer())

        // Signed for another server's certificate: refused too.
        let other = try await RawClient(server.address)
        let otherFingerprint = CertificateFingerprint(digest: [UInt8](repeating: 7, count: 32))!
        guard
            case let .error(error2)? = try await other.authenticate(as: IdentityKeyPair.generate(), fingerprint: otherFingerprint)?.message
        else {
            Issue.record("expected an error")
            return
        }
        #expect(error2.code == .badSignature)
        try await server.stop()
    }

    @Test func refusesRequestsBeforeAuthenticationAndOutOfOrder() async throws {
        let server = try await TestServer.start()
        let raw = try await RawClient(server.address)
        guard case .challenge? = try await raw.receive()?.message else {
            Issue.record("no challenge")
            return
        }
        try await raw.send(ClientRequest(id: 5, message: .fetchBundle(.init(number: "+1555"))))
        let refused = try await raw.receive()
        #expect(refused?.id == 5)
        guard case let .error(error)? = refused?.message else {
            Issue.record("expected an error")
            return
        }
        #expect(error.code == .notAuthenticated)
        raw.close()

        let identity = IdentityKeyPair.generate()
        let authed = try await RawClient(server.address)
        guard case .authenticated? = try await authed.authenticate(as: identity, fingerprint: server.fingerprint)?.message else {
            Issue.record("expected authenticated")
            return
        }
        try await authed.send(
            ClientRequest(id: 2, message: .authenticate(.init(identityKey: Base64Bytes([1]), signature: Base64Bytes([2])))))
        #expect(try await authed.receiveError() == .unexpectedMessage)
        try await authed.send(ClientRequest(id: 3, message: .uploadPrekeys(.init(signedPrekey: nil, oneTimePrekeys: []))))
        #expect(try await authed.receiveError() == .notRegistered)
        authed.close()
        try await server.stop()
    }

    @Test(arguments: DirectoryEngine.allCases) func aTakenNumberMovesOnlyWithAnInviteAndWatchersAreTold(engine: DirectoryEngine)
        async throws
    {
        let server = try await TestServer.start(engine: engine)
        let alice = TestDevice(), mallory = TestDevice(), newAlice = TestDevice(), onlineWatcher = TestDevice(),
            offlineWatcher = TestDevice()
        let (a, _) = try await alice.connect(to: server)
        try await alice.register(a, as: "+15550100")

        let (w, wEvents) = try await onlineWatcher.connect(to: server)
        _ = try await w.lookup(number: "+15550100")
        let (o, _) = try await offlineWatcher.connect(to: server)
        try await offlineWatcher.register(o, as: "+15550109")  // only a registered device gets bundles
        _ = try await o.fetchBundle(number: "+15550100")
        await o.close()

        let (m, _) = try await mallory.connect(to: server)
        await expectServerError(.numberTaken) { try await mallory.register(m, as: "+15550100") }
        await expectServerError(.invalidInvite) { try await mallory.register(m, as: "+15550100", invite: "0000-0000-0000-0000") }

        let code = try await ServerApplication.issueInvite(
            number: "+15550100", dataDirectory: server.dataDirectory, database: server.database?.url)
        let (n, _) = try await newAlice.connect(to: server)
        try await newAlice.register(n, as: "+15550100", invite: code)
        // Single use: the same code does not move the number again.
        await expectServerError(.invalidInvite) { try await mallory.register(m, as: "+15550100", invite: code) }
        #expect(try await w.lookup(number: "+15550100").identityKey == newAlice.identity.publicKey)

        let expected = newAlice.identity.publicKey
        let online = await wEvents.waitFor { $0 == .keyChanged(number: "+15550100", newIdentityKey: expected) }
        #expect(online != nil)

        let (o2, oEvents) = try await offlineWatcher.connect(to: server)
        let queued = await oEvents.waitFor { $0 == .keyChanged(number: "+15550100", newIdentityKey: expected) }
        #expect(queued != nil)
        for c in [a, w, m, n, o2] { await c.close() }
        try await server.stop()
    }

    @Test(arguments: DirectoryEngine.allCases) func openRegistrationMovesNumbersWithoutInvite(engine: DirectoryEngine) async throws {
        let server = try await TestServer.start(openRegistration: true, engine: engine)
        let first = TestDevice(), second = TestDevice()
        let (a, _) = try await first.connect(to: server)
        try await first.register(a, as: "+4412345")
        let (b, _) = try await second.connect(to: server)
        #expect(try await second.register(b, as: "+4412345").number == "+4412345")
        await expectServerError(.invalidNumber) { try await second.register(b, as: "12345") }
        await a.close()
        await b.close()
        try await server.stop()
    }

    /// Many fetchers on separate real connections, three fetches each at once, while the owner
    /// tops up: every one-time prekey is handed out at most once, and none is lost. (The
    /// device side — a prekey handed out twice opens one call only — is
    /// `MaliciousServerTests.aOneTimePrekeyHandedOutTwiceOpensOneCallOnly`.)
    @Test(arguments: DirectoryEngine.allCases) func concurrentFetchesNeverShareAOneTimePrekey(engine: DirectoryEngine) async throws {
        let server = try await TestServer.start(engine: engine)
        let owner = TestDevice(oneTimePrekeyCount: 64)
        let (o, ownerEvents) = try await owner.connect(to: server)
        try await owner.register(o, as: "+15550200")

        let fetchers = try await withThrowingTaskGroup(of: ServerConnection.self) { group in
            for index in 0..<32 {
                group.addTask {
                    let fetcher = TestDevice(oneTimePrekeyCount: 0)
                    let connection = try await fetcher.connect(to: server).0
                    try await fetcher.register(connection, as: "+155502\(10 + index)")  // only a registered device gets bundles
                    return connection
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let topUp = (1000..<1016).map { OneTimePrekey.generate(id: UInt32($0)).publicPart }
        let bundles = try await withThrowingTaskGroup(of: [PrekeyBundle].self) { group in
            for fetcher in fetchers {
                for _ in 0..<3 { group.addTask { [try await fetcher.fetchBundle(number: "+15550200")] } }
            }
            group.addTask {
                _ = try await o.uploadPrekeys(oneTimePrekeys: topUp)
                return []
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let handedOut = bundles.compactMap { $0.oneTimePrekey }
        let left = try await o.uploadPrekeys(oneTimePrekeys: [])
        #expect(bundles.count == 96)
        #expect(Set(handedOut.map(\.id)).count == handedOut.count, "a one-time prekey was handed out twice")
        #expect(Set(handedOut).isSubset(of: Set(owner.oneTimePrekeys.map(\.publicPart) + topUp)))
        #expect(handedOut.count + left == 64 + 16, "every key was handed out once or is still there")
        #expect(handedOut.count >= 64, "the first 64 fetches at least each got one")
        #expect(bundles.allSatisfy { $0.identityKey == owner.identity.publicKey && $0.signedPrekey == owner.signedPrekey.publicPart })

        if left == 0 {
            #expect(await ownerEvents.waitFor { $0 == .prekeysLow(remaining: 0) } != nil)
        }
        let more = (2000..<2100).map { OneTimePrekey.generate(id: UInt32($0)).publicPart }
        #expect(try await o.uploadPrekeys(oneTimePrekeys: more) == left + 100)
        for c in fetchers + [o] { await c.close() }
        try await server.stop()
    }

    @Test(arguments: DirectoryEngine.allCases) func restartKeepsAccountsPrekeysAndCertificate(engine: DirectoryEngine) async throws {
        let first = try await TestServer.start(engine: engine)
        let device = TestDevice(oneTimePrekeyCount: 3)
        let (c, _) = try await device.connect(to: first)
        try await device.register(c, as: "+15550300")
        await c.close()
        let fingerprint = first.fingerprint
        try await first.stop(keepingData: true)

        let second = try await TestServer.start(dataDirectory: first.dataDirectory, database: first.database)
        #expect(second.fingerprint == fingerprint)
        let readerDevice = TestDevice()
        let (reader, _) = try await readerDevice.connect(to: second)
        try await readerDevice.register(reader, as: "+15550301")
        let bundle = try await reader.fetchBundle(number: "+15550300")
        #expect(bundle.identityKey == device.identity.publicKey)
        #expect(bundle.signedPrekey == device.signedPrekey.publicPart)
        #expect(bundle.oneTimePrekey == device.oneTimePrekeys[0].publicPart)
        await reader.close()
        try await second.stop()
    }
}
