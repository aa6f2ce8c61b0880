import DuetTUI
import Foundation
import Testing

@testable import DuetClient

/// One screen kept as a text file: what a person saw and approved.
struct GoldenCase: CustomTestStringConvertible, Sendable {
    var name: String
    var state: TUIState
    var width = 80
    var height = 24

    var testDescription: String { name }
}

extension GoldenCase {
    static let all: [GoldenCase] =
        [
            GoldenCase(name: "contacts", state: Fixtures.base),
            GoldenCase(name: "contacts-wide", state: Fixtures.base, width: 100, height: 30),
            GoldenCase(name: "contacts-empty", state: Fixtures.with { $0.contacts = [] }),
            GoldenCase(name: "groups", state: Fixtures.with { $0.groups = Fixtures.teamGroups }),
            GoldenCase(
                name: "group-detail",
                state: Fixtures.with {
                    $0.groups = Fixtures.teamGroups
                    $0.selected = Fixtures.contacts.count
                }),
            GoldenCase(name: "contact-detail-key-changed", state: Fixtures.with { $0.selected = 2 }),
            GoldenCase(name: "contact-detail-unverified-note", state: Fixtures.with { $0.selected = 3 }),
            GoldenCase(
                name: "contacts-scrolled",
                state: Fixtures.with {
                    $0.contacts = (1...60).map { index in
                        ContactRow(
                            number: "+1555\(1000 + index)", name: "Person \(index)",
                            trust: index % 7 == 0 ? .keyChanged(at: Fixtures.changedAt) : .unverified, online: index % 2 == 0)
                    }
                    $0.selected = 41
                }),
            GoldenCase(
                name: "safety-number",
                state: Fixtures.with {
                    $0.selected = 1
                    $0.pane = .safetyNumber
                    $0.safetyNumber = SafetyNumberView(contact: Fixtures.carol, groups: Fixtures.groups)
                }),
            GoldenCase(
                name: "keys",
                state: Fixtures.with {
                    $0.pane = .keys
                    $0.keys = KeysView(
                        fingerprint: "1A2B 3C4D 5E6F 7A8B 9C0D 1E2F 3A4B 5C6D", oneTimePrekeys: 12,
                        signedPrekeyID: 3, signedPrekeyAge: "5 days")
                }),
            GoldenCase(
                name: "history",
                state: Fixtures.with {
                    $0.pane = .history
                    $0.history = HistoryLines.lines(Fixtures.history, timeZone: TimeZone(identifier: "UTC")!)
                }),
            GoldenCase(
                name: "keys-wide",
                state: Fixtures.with {
                    $0.pane = .keys
                    $0.keys = KeysView(
                        fingerprint: "1A2B 3C4D 5E6F 7A8B 9C0D 1E2F 3A4B 5C6D", oneTimePrekeys: 87,
                        signedPrekeyID: 3, signedPrekeyAge: "5 days")
                }, width: 100, height: 30),
            GoldenCase(
                name: "call-ringing",
                state: Fixtures.with {
                    $0.pane = .call
                    $0.call = Fixtures.call(.outgoing)
                }),
            GoldenCase(
                name: "call-connected",
                state: Fixtures.with {
                    $0.pane = .call
                    $0.call = Fixtures.connectedCall
                }),
            GoldenCase(
                name: "call-connected-wide-log",
                state: Fixtures.with {
                    $0.pane = .call
                    $0.call = Fixtures.connectedCall
                    $0.showLog = true
                    $0.log = Fixtures.log
                }, width: 100, height: 30),
            GoldenCase(
                name: "call-muted-rejected",
                state: Fixtures.with {
                    $0.pane = .call
                    $0.call = Fixtures.connectedCall
                    $0.call?.muted = true
                    $0.call?.path = .relay(.udp)
                    $0.call?.state = .connected(.relay(.udp))
                    $0.call?.hearing = HearingReport(
                        speaker: nil, level: -72.5, lossPercent: 12.25, jitterMilliseconds: 41.04,
                        tamperedPackets: 3, replayedPackets: 1)
                }),
            GoldenCase(
                name: "call-video",
                state: Fixtures.with {
                    $0.pane = .call
                    $0.call = Fixtures.connectedCall
                    $0.call?.video = CallVideo(
                        peer: VideoPicture(cameraOf: "+15550002", index: 30), own: VideoPicture(cameraOf: "+15550001", index: 30))
                }),
            GoldenCase(
                name: "call-video-large-camera-off",
                state: Fixtures.with {
                    $0.pane = .call
                    $0.call = Fixtures.connectedCall
                    $0.call?.video = CallVideo(peer: VideoPicture(cameraOf: "+15550002", index: 30), peerCameraOff: true, cameraOn: false)
                }, width: 120, height: 40),
            GoldenCase(
                name: "call-ended",
                state: Fixtures.with {
                    $0.pane = .call
                    $0.call = Fixtures.connectedCall
                    $0.call?.state = .ended(.hungUpByPeer)
                    $0.call?.keysWiped = true
                    $0.call?.hearing = nil
                    $0.message = StatusMessage("Call ended: the other side hung up.", severity: .info)
                }),
            GoldenCase(
                name: "call-key-changed-keylog",
                state: Fixtures.with {
                    $0.pane = .call
                    $0.call = Fixtures.call(.connecting) {
                        $0.peerName = "Dave"
                        $0.peerNumber = "+15550004"
                        $0.peerTrust = .keyChanged(at: Fixtures.changedAt)
                        $0.outgoing = false
                        $0.warning = "DUET_SRTP_KEYLOG is set: this call's keys are written to a file, so the call is not private."
                    }
                }),
            GoldenCase(name: "no-call", state: Fixtures.with { $0.pane = .call }),
            GoldenCase(
                name: "incoming-unverified",
                state: Fixtures.with {
                    $0.overlay = .incoming(IncomingCall(number: "+15550003", name: "Carol", trust: .unverified))
                }),
            GoldenCase(
                name: "incoming-key-changed",
                state: Fixtures.with {
                    $0.overlay = .incoming(IncomingCall(number: "+15550004", name: "Dave", trust: .keyChanged(at: Fixtures.changedAt)))
                }),
            GoldenCase(
                name: "add-contact-error",
                state: Fixtures.with {
                    $0.overlay = .addContact(
                        AddContactPrompt(
                            number: "+1555000", name: "", field: .number,
                            error: "No one is registered as +1555000 on this server. Check the number."))
                }),
            GoldenCase(
                name: "add-contact-name",
                state: Fixtures.with {
                    $0.overlay = .addContact(AddContactPrompt(number: "+15550009", name: "Frank", field: .name))
                }),
            GoldenCase(
                name: "confirm-remove",
                state: Fixtures.with {
                    $0.selected = 1
                    $0.overlay = .confirmRemove(Fixtures.carol)
                }),
            GoldenCase(
                name: "key-changed-warning",
                state: Fixtures.with {
                    $0.selected = 2
                    $0.overlay = .keyChangedWarning(Fixtures.dave)
                }),
            GoldenCase(name: "help", state: Fixtures.with { $0.overlay = .help }),
            GoldenCase(name: "help-wide", state: Fixtures.with { $0.overlay = .help }, width: 100, height: 30),
            GoldenCase(
                name: "event-log",
                state: Fixtures.with {
                    $0.showLog = true
                    $0.log = Fixtures.log
                    $0.message = StatusMessage("Carol is unreachable. Try again when they are online.", severity: .error)
                }),
            GoldenCase(name: "event-log-empty", state: Fixtures.with { $0.showLog = true }),
            GoldenCase(
                name: "server-failed",
                state: Fixtures.with {
                    $0.ownNumber = nil
                    $0.server = ServerStatus(
                        address: "duet.example.org:7443",
                        state: .failed("could not connect after 5 attempts; check the address or run `duet server`"),
                        embedded: false)
                }),
            GoldenCase(
                name: "server-reconnecting",
                state: Fixtures.with {
                    $0.server = ServerStatus(address: "duet.example.org:7443", state: .reconnecting(attempt: 3), embedded: false)
                    $0.message = StatusMessage("Lost the server; retrying.", severity: .warning)
                }),
            GoldenCase(
                name: "hostile-names",
                state: Fixtures.with {
                    $0.contacts = Fixtures.awkwardNames.enumerated().map { index, name in
                        ContactRow(
                            number: "+1555\(2000 + index)", name: name,
                            trust: index.isMultiple(of: 2) ? .keyChanged(at: Fixtures.changedAt) : .verified(at: Fixtures.verifiedAt),
                            online: index.isMultiple(of: 3), note: name)
                    }
                    $0.ownName = Fixtures.longName
                    $0.message = StatusMessage(Fixtures.longName + " " + Fixtures.longName, severity: .warning)
                }),
            GoldenCase(
                name: "call-connected-log",
                state: Fixtures.with {
                    $0.pane = .call
                    $0.call = Fixtures.connectedCall
                    $0.call?.muted = true
                    $0.showLog = true
                    $0.log = Fixtures.log
                }),
            GoldenCase(name: "too-small", state: Fixtures.base, width: 60, height: 20)
        ] + groupCalls + meetings
}

@Suite("Golden screens")
struct GoldenTests {
    /// Set DUET_UPDATE_GOLDEN=1 to rewrite the files in the source tree instead of comparing.
    static let updating = ProcessInfo.processInfo.environment["DUET_UPDATE_GOLDEN"] == "1"

    /// Tests/DuetTUITests/Golden in the source tree, found from this file's path.
    static let sourceFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    @Test(arguments: GoldenCase.all)
    func screenMatchesGolden(_ golden: GoldenCase) throws {
        let text = ScreenRenderer.render(golden.state, width: golden.width, height: golden.height).text
            .joined(separator: "\n")
        if Self.updating {
            try FileManager.default.createDirectory(at: Self.sourceFolder, withIntermediateDirectories: true)
            try (text + "\n").write(
                to: Self.sourceFolder.appendingPathComponent("\(golden.name).txt"),
                atomically: true, encoding: .utf8)
            return
        }
        let url = try #require(
            Bundle.module.url(forResource: golden.name, withExtension: "txt", subdirectory: "Golden"),
            "missing Golden/\(golden.name).txt: run with DUET_UPDATE_GOLDEN=1 and read the file")
        var expected = try String(contentsOf: url, encoding: .utf8)
        if expected.hasSuffix("\n") { expected.removeLast() }
        #expect(text == expected, "\(golden.name) differs from its golden file:\n\(text)")
    }

    @Test func goldenNamesAreUnique() {
        #expect(Set(GoldenCase.all.map(\.name)).count == GoldenCase.all.count)
    }
}
