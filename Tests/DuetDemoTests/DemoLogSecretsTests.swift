import DuetClient
import Foundation
import Logging
import Synchronization
import Testing

@testable import DuetCrypto
@testable import DuetDemo

/// docs/SECURITY.md "Security as tests": a full demo run's logs contain no key bytes. The whole tour (1:1 calls
/// p2p and relayed, a group call with rekeys, a recorded meeting with a guest) runs with the
/// server logging at trace level into a capture, while DuetCrypto's test hook collects every
/// secret any part of the run made — identity seeds, prekeys, X3DH and call secrets, SRTP,
/// SFrame and DTLS-SRTP keys, connectivity keys, the relay secret, recording keys. Then every
/// server log line, every event each device's engines reported (what `duet call`, `answer`,
/// `meeting` print and the TUI's log shows), each device's notices and the transcript (text
/// and JSON) are searched for each secret as raw bytes, hex and base64.
@Suite("Security: a demo run's logs hold no key bytes", .serialized)
struct DemoLogSecretsTests {
    @Test func aFullTourLogsNoKeyBytes() async throws {
        #expect(
            ProcessInfo.processInfo.environment["DUET_SRTP_KEYLOG"] == nil,
            "DUET_SRTP_KEYLOG is set: the run would write its SRTP keys on purpose")
        let secrets = SecretCollector()
        SecureBytes.creationObserver.withLock { $0 = { secrets.add(Array($0)) } }
        defer { SecureBytes.creationObserver.withLock { $0 = nil } }

        let serverLog = LogBook()
        var options = DemoRunOptions()
        options.serverLogger = serverLog.logger(label: "duet.demo-server")
        let runner = DemoRunner(script: try DemoScript(parsing: DemoStories.tour, file: "tour.duet"), options: options)
        let held = HeldByTheRun()
        let transcript = await runner.run(onFinished: { _ in
            let madeByTheRun = Set(secrets.all)  // before reading the stores makes their keys again
            await held.collect(from: runner)
            await held.keep(madeByTheRun)
        })
        #expect(transcript.passed, "the tour failed: \(transcript.summary.joined(separator: "\n"))")

        // The self-check: a secret made like the run's and logged the way a careless line
        // would — it must be found in every form, or the search proves nothing.
        let canary = SecureBytes(randomCount: 32)
        let canaryBytes = canary.withUnsafeBytes { Array($0) }
        let leakyLog = LogBook()
        let leaky = leakyLog.logger(label: "duet.canary")
        leaky.trace("key \(canaryBytes.map { String(format: "%02x", $0) }.joined())")
        leaky.debug("key", metadata: ["key": "\(canaryBytes.map { String(format: "%02X", $0) }.joined())"])
        leaky.info("blob \(Data([7] + canaryBytes + [9, 9]).base64EncodedString())")  // at offset 1 of a blob
        let urlSafe = Data([1, 2] + canaryBytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        leaky.notice("token \(urlSafe)")  // at offset 2, URL alphabet

        let collected = secrets.all.filter { $0.count >= LeakSearch.window && Set($0).count >= 8 }
        let canaryIndex = try #require(collected.firstIndex(of: canaryBytes), "the hook did not see the canary")
        let deviceKeys = await held.deviceKeys
        #expect(deviceKeys.count >= 5 * 2, "each of the 5 devices' identity seed and signed prekey")
        let madeByTheRun = await held.madeByTheRun
        for key in deviceKeys { #expect(madeByTheRun.contains(key), "a device's long-term key went around the hook") }
        // The server's TLS key never went through SecureBytes (swift-crypto holds it): added by hand.
        let serverKeys = await held.serverKeys
        #expect(serverKeys.count == 2, "the signaling certificate's private key (DER and scalar)")
        let search = LeakSearch(secrets: collected + serverKeys)

        let runText =
            serverLog.all + transcript.steps.flatMap(\.lines) + transcript.summary + [transcript.json()] + (await held.clientLines)
        let lines = runText.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false) }
        let findings = search.findings(in: Array((runText + leakyLog.all).joined(separator: "\n").utf8))

        let canaryForms = Set(findings.filter { $0.secret == canaryIndex }.map(\.form))
        #expect(
            canaryForms.isSuperset(of: ["hex", "HEX", "base64 (offset 1 mod 3)", "base64url (offset 2 mod 3)"]),
            "the search missed the canary: found only \(canaryForms)")
        let leaks = findings.filter { $0.secret != canaryIndex }
        #expect(leaks.isEmpty, "key bytes in the demo's logs: \(leaks)")

        // What the server wrote to disk (its SQLite file and journal, recordings, certificate)
        // holds no secret of any device or call: only its own keys, which it keeps on purpose.
        let serverDisk = await held.serverDisk
        let ownKeys = await held.serverOwnKeys
        #expect(ownKeys.count == 2, "relay-secret and recordings.key were read")
        let deviceAndCallSecrets = collected.filter { !ownKeys.contains($0) && $0 != canaryBytes }
        let onDisk = LeakSearch(secrets: deviceAndCallSecrets).findings(in: serverDisk.flatMap(\.value))
        #expect(onDisk.isEmpty, "device or call secrets in the server's files \(serverDisk.keys.sorted()): \(onDisk)")
        #expect(serverDisk.keys.contains { $0.hasSuffix(".sqlite") } && serverDisk.keys.contains { $0.hasSuffix(".duetrec") })
        #expect(serverLog.all.count > 10, "the server logged almost nothing: is the logger wired?")
        #expect(lines.count > 500, "too little was searched: \(lines.count) lines")
        print(
            "demo log search: \(collected.count + serverKeys.count) secrets (\(search.formCount) forms) in \(lines.count) lines (\(serverLog.all.count) from the server); \(deviceAndCallSecrets.count) device and call secrets in \(serverDisk.values.map(\.count).reduce(0, +)) bytes of \(serverDisk.count) server files"
        )
        withExtendedLifetime(canary) {}
    }
}

/// Every secret `SecureBytes` was made with while the hook was set (distinct contents).
final class SecretCollector: Sendable {
    private let secrets = Mutex<(seen: Set<[UInt8]>, order: [[UInt8]])>(([], []))

    func add(_ bytes: [UInt8]) {
        secrets.withLock { if $0.seen.insert(bytes).inserted { $0.order.append(bytes) } }
    }

    var all: [[UInt8]] { secrets.withLock { $0.order } }
}

/// What the run held at its end, read before the world is torn down: each device's engine
/// events and notices (the client side's logs), its long-term private keys, and the server's
/// TLS private key from its data directory.
actor HeldByTheRun {
    private(set) var clientLines: [String] = []
    private(set) var deviceKeys: [[UInt8]] = []
    private(set) var serverKeys: [[UInt8]] = []
    private(set) var madeByTheRun: Set<[UInt8]> = []
    /// Every file in the server's data directory, by path relative to it.
    private(set) var serverDisk: [String: [UInt8]] = [:]
    /// The keys the server keeps at rest on purpose: the relay secret and the recordings key.
    private(set) var serverOwnKeys: [[UInt8]] = []

    func keep(_ secrets: Set<[UInt8]>) { madeByTheRun = secrets }

    func collect(from runner: DemoRunner) async {
        for device in await runner.devices.values {
            for log in [
                device.callLog?.all { Self.text($0) }, device.groupLog?.all { Self.text($0) }, device.meetingLog.all { Self.text($0) }
            ] {
                clientLines += log ?? []
            }
            clientLines += await device.session.notices.map(\.text)
            if let seed = try? device.store.identity().seed.withUnsafeBytes({ Array($0) }) { deviceKeys.append(seed) }
            if let spk = try? device.store.currentSignedPrekey().keyPair.privateKey.withUnsafeBytes({ Array($0) }) {
                deviceKeys.append(spk)
            }
        }
        if let data = await runner.world?.serverData {
            let files = FileManager.default.enumerator(at: data, includingPropertiesForKeys: [.isRegularFileKey])
            while let url = files?.nextObject() as? URL {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                    let bytes = try? Data(contentsOf: url)
                else { continue }
                serverDisk[String(url.path.dropFirst(data.path.count))] = Array(bytes)
            }
            for name in ["relay-secret", "recordings.key"] {
                if let bytes = try? Data(contentsOf: data.appendingPathComponent(name)) { serverOwnKeys.append(Array(bytes)) }
            }
        }
        if let data = await runner.world?.serverData,
            let pem = try? String(contentsOf: data.appendingPathComponent("signaling-key.pem"), encoding: .utf8),
            let der = Data(base64Encoded: pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined())
        {
            serverKeys.append(Array(der))
            // PKCS#8 around SEC1's ECPrivateKey: version 1 (02 01 01), then the scalar (04 20 …).
            let bytes = Array(der), marker: [UInt8] = [0x02, 0x01, 0x01, 0x04, 0x20]
            if let at = (0...(bytes.count - marker.count - 32)).first(where: { bytes[$0..<$0 + marker.count].elementsEqual(marker) }) {
                serverKeys.append(Array(bytes[at + marker.count..<at + marker.count + 32]))
            }
        }
    }

    /// An event as the CLI prints it and as a debugger would dump it.
    private static func text(_ event: some Sendable) -> String {
        "\(event) | \(String(reflecting: event))"
    }
}
