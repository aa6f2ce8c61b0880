import DuetTUI
import Foundation

@testable import DuetClient

/// Fixed states the screen tests draw: every date is fixed, so the goldens never change by themselves.
enum Fixtures {
    static let verifiedAt = Date(timeIntervalSince1970: 1_700_000_000)

    /// A history of each kind and outcome, newest first (docs/history.md).
    static let history: [CallRecord] = [
        CallRecord(
            kind: .call, direction: .incoming, peer: "+15550003", peerName: "Carol", callID: "h1",
            startedAt: Date(timeIntervalSince1970: 1_700_300_000), endedAt: Date(timeIntervalSince1970: 1_700_300_000), outcome: .missed),
        CallRecord(
            kind: .call, direction: .outgoing, peer: "+15550002", peerName: "Bob", callID: "h2",
            startedAt: Date(timeIntervalSince1970: 1_700_200_000), connectedAt: Date(timeIntervalSince1970: 1_700_200_002),
            endedAt: Date(timeIntervalSince1970: 1_700_200_153), path: "p2p", verified: true, outcome: .answered),
        CallRecord(
            kind: .group, direction: .outgoing, peer: "Team", callID: "h3", startedAt: Date(timeIntervalSince1970: 1_700_100_000),
            connectedAt: Date(timeIntervalSince1970: 1_700_100_001), endedAt: Date(timeIntervalSince1970: 1_700_103_725), path: "sfu",
            outcome: .answered),
        CallRecord(
            kind: .meeting, direction: .incoming, peer: "abc-defg-hij", callID: "h4", startedAt: Date(timeIntervalSince1970: 1_700_050_000),
            endedAt: Date(timeIntervalSince1970: 1_700_050_010), outcome: .declined),
        CallRecord(
            kind: .call, direction: .outgoing, peer: "+15550004", callID: "h5", startedAt: Date(timeIntervalSince1970: 1_700_000_000))
    ]
    static let changedAt = Date(timeIntervalSince1970: 1_700_100_000)

    static let bob = ContactRow(number: "+15550002", name: "Bob", trust: .verified(at: verifiedAt), online: true)
    static let carol = ContactRow(number: "+15550003", name: "Carol", trust: .unverified, online: false)
    static let dave = ContactRow(number: "+15550004", name: "Dave", trust: .keyChanged(at: changedAt), online: true)
    static let echo = ContactRow(
        number: "+15550100", name: "Echo Test", trust: .unverified, online: true,
        note: "A bot: answers and plays your own audio back to you, so you can hear how you sound.")
    static let erin = ContactRow(number: "+15550005", name: nil, trust: .unverified, online: nil)

    static let contacts = [bob, carol, dave, echo, erin]

    static let teamGroups = [
        GroupRow(
            id: "g1a2b3c4d", name: "Team", owner: "+15550001",
            members: ["you (+15550001)", "Bob (+15550002)", "Carol (+15550003)"]),
        GroupRow(id: "g99887766", name: "Family", owner: "+15550004", members: ["you (+15550001)", "Dave (+15550004)"])
    ]

    static let groups = [
        "05183", "29471", "60382", "11947", "83020", "47265",
        "90613", "32758", "74109", "58836", "21490", "66172"
    ]

    /// Alice's device on an embedded server, with five contacts and Bob highlighted.
    static var base: TUIState {
        TUIState(
            profile: "alice", ownNumber: "+15550001", ownName: "Alice",
            server: ServerStatus(address: "127.0.0.1:7443", state: .connected, embedded: true),
            ownFingerprintShort: "1A2B 3C4D", contacts: contacts, selected: 0)
    }

    static func with(_ change: (inout TUIState) -> Void) -> TUIState {
        var state = base
        change(&state)
        return state
    }

    static let hearing = HearingReport(
        speaker: "Bob (+15550002)", level: -20.1, lossPercent: 0, jitterMilliseconds: 3.9,
        tamperedPackets: 0, replayedPackets: 0)

    static func call(_ state: CallState, _ change: (inout CallView) -> Void = { _ in }) -> CallView {
        var call = CallView(
            peerNumber: "+15550002", peerName: "Bob", peerTrust: .verified(at: verifiedAt),
            outgoing: true, state: state)
        change(&call)
        return call
    }

    static var connectedCall: CallView {
        call(.connected(.p2p)) {
            $0.elapsedSeconds = 83
            $0.path = .p2p
            $0.cipher = "AEAD_AES_128_GCM"
            $0.sas = "oxygen velvet harbor crimson"
            $0.hearing = hearing
        }
    }

    static let log = [
        LogEntry(time: "14:03:01", text: "connected to 127.0.0.1:7443"),
        LogEntry(time: "14:03:02", text: "registered +15550001", severity: .good),
        LogEntry(time: "14:03:10", text: "Dave's identity key changed", severity: .warning),
        LogEntry(time: "14:03:27", text: "calling Bob (+15550002)"),
        LogEntry(time: "14:03:29", text: "path p2p 192.168.1.20:50000"),
        LogEntry(time: "14:03:29", text: "sas oxygen velvet harbor crimson"),
        LogEntry(time: "14:04:52", text: "call ended: hung up"),
        LogEntry(time: "14:04:52", text: "keys wiped", severity: .good),
        LogEntry(
            time: "14:05:10", text: "Carol is unreachable: the server could not deliver the call offer",
            severity: .error)
    ]

    /// A name long enough to overflow every pane and box.
    static let longName = "Maximilian Alexander Wolfgang von Hohenzollern-Sigmaringen the Third of Many"

    /// Names that break naive width counting: marks, emoji, controls, bidi overrides.
    static let awkwardNames = [
        longName, "Zoë Ça Bien 🎉", "\u{301}leading mark", "tab\there\nnewline", "\u{202E}evil override",
        "\u{1B}[31mred escape", "🇺🇸🇫🇷 flags", "\u{1F1E6}", "日本語の名前", "", " ",
        "zero\u{200B}width", "e\u{301}\u{302}\u{303} stacked"
    ]
}
