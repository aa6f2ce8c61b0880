import Testing

@testable import DuetTUI

/// The meeting pane and boxes as text: a meeting says it is cloud-encrypted and never
/// end-to-end, REC is seen whichever pane is up, and the new keys are offered on 80×24.
@Suite("Meeting screens")
struct MeetingScreenTests {
    func text(_ state: TUIState, width: Int = 80, height: Int = 24) -> String {
        ScreenRenderer.render(state, width: width, height: height).joinedText
    }

    @Test func aMeetingSaysCloudEncryptedAndNeverEndToEnd() {
        for state in [
            Fixtures.inMeeting(),
            Fixtures.inMeeting {
                $0.showLog = true
                $0.log = Fixtures.meetingLog
            },
            Fixtures.inMeeting {
                $0.meeting?.phase = .waiting
                $0.meeting?.isHost = false
            }
        ] {
            let screen = text(state, width: 120, height: 40)
            #expect(screen.contains(MeetingPaneView.cloudEncrypted), "\(screen)")
            #expect(!screen.lowercased().contains("end-to-end") && !screen.lowercased().contains("end to end"), "\(screen)")
        }
    }

    @Test func theLinkIsWholeOnALineOfItsOwn() {
        let pane = MeetingPaneView.lines(Fixtures.inMeeting(), width: 49).map { $0.string.trimmingCharacters(in: .whitespaces) }
        #expect(pane.contains(Fixtures.meetingLink))
        let long = "duet://a-rather-long-host-name.meetings.example.org:7443/bns-qwer-tyu"
        let cut = MeetingPaneView.linkLines(long, width: 30).map(\.string)
        #expect(cut.joined() == long && cut.allSatisfy { $0.count <= 30 })
    }

    @Test func recIsShownInTheStatusBarOnEveryPaneWhileRecorded() {
        let elsewhere = Fixtures.inMeeting {
            $0.pane = .contact
            $0.overlay = nil
        }
        let top = ScreenRenderer.render(elsewhere, width: 80, height: 24).text[0]
        #expect(top.hasPrefix(" ● REC  Duet") || top.hasPrefix(" ● REC  alice"), "\(top)")
        #expect(top.count == 80)
        let stopped = Fixtures.inMeeting { $0.meeting?.recording = false }
        #expect(!text(stopped).contains("REC"))
        let over = Fixtures.inMeeting { $0.meeting?.phase = .ended(reason: "left the meeting") }
        #expect(!text(over).contains("REC"), "an ended meeting shows no REC")
    }

    @Test func participantsReadInWordsWithTheirPart() {
        let lines = MeetingPaneView.lines(Fixtures.inMeeting(), width: 60).map(\.string)
        func line(_ name: String) -> String? { lines.first { $0.hasPrefix(name) } }
        #expect(line("Bob")?.hasSuffix("hearing") == true)
        #expect(line("Frank (guest)")?.hasSuffix("not heard") == true)
        #expect(lines.contains { $0.hasPrefix("Knocking: Carol, Gina (guest)") })
        #expect(lines.contains { $0.hasPrefix("Host") && $0.hasSuffix("you") })
    }

    @Test func theEndSaysWhyWithoutLiveMeters() {
        let state = Fixtures.inMeeting {
            $0.meeting?.phase = .ended(reason: "the host left, which ends the meeting")
            $0.meeting?.keysWiped = true
        }
        let pane = MeetingPaneView.lines(state, width: 49).map(\.string).joined(separator: "\n")
        #expect(pane.contains("ended: the host left"))
        #expect(!pane.contains("dBFS") && !pane.contains("Knocking"))
        #expect(pane.contains("keys wiped ✓"))
    }

    @Test func theNewKeysAreHintedAndHelpedOn80x24() {
        let contacts = ScreenRenderer.render(Fixtures.base, width: 80, height: 24).text[23]
        #expect(contacts.contains("n new meeting") && contacts.contains("J join link"), "\(contacts)")
        let hints = ScreenRenderer.render(Fixtures.inMeeting { $0.overlay = nil }, width: 80, height: 24).text[23]
        #expect(hints.hasPrefix(" a answer knock  m mute/unmute  R stop recording  h leave"), "\(hints)")
        let help = text(Fixtures.with { $0.overlay = .help })
        for phrase in ["new meeting", "join: paste a link", "start / stop recording", "admit", "deny", "hang up / leave"] {
            #expect(help.contains(phrase), "help lacks \(phrase):\n\(help)")
        }
        #expect(!help.contains("…"), "nothing in the help is cut:\n\(help)")
    }

    @Test func theKnockBoxSaysWhoKnocks() {
        let carol = Fixtures.hostedMeeting.knocking[0], gina = Fixtures.hostedMeeting.knocking[1]
        let box = KnockOverlay.lines(KnockPrompt(code: "bns-qwer-tyu", knocker: gina), width: 56).map(\.string)
        #expect(box.contains { $0.contains("guest, not registered on this server") })
        #expect(carol.who == "Carol (+15550003), in your contacts")
        let stranger = MeetingKnocker(id: "+15550009", name: "+15550009", guest: false)
        #expect(stranger.who == "+15550009, registered on this server")
    }
}
