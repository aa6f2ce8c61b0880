import DuetTUI
import Foundation

@testable import DuetClient

/// Meeting states for the screen tests: Alice hosts bns-qwer-tyu with Bob (heard) and Frank, a
/// guest (not heard); Carol knocks, then Gina, a guest.
extension Fixtures {
    static let meetingLink = "duet://127.0.0.1:7443/bns-qwer-tyu"

    static var hostedMeeting: MeetingView {
        MeetingView(
            link: meetingLink, code: "bns-qwer-tyu", isHost: true, phase: .connected, elapsedSeconds: 75, recording: true,
            participants: [
                MeetingParticipantRow(id: "+15550002", name: "Bob", guest: false, isHost: false, heard: true, level: -18.3),
                MeetingParticipantRow(id: "guest-1a2b3c4d", name: "Frank", guest: true, isHost: false, heard: false, level: -64.0)
            ],
            knocking: [
                MeetingKnocker(id: "+15550003", name: "+15550003", guest: false, contactName: "Carol"),
                MeetingKnocker(id: "guest-99aa00bb", name: "Gina", guest: true)
            ])
    }

    static func inMeeting(_ change: (inout TUIState) -> Void = { _ in }) -> TUIState {
        with {
            $0.pane = .meeting
            $0.meeting = hostedMeeting
            change(&$0)
        }
    }

    static let meetingLog = [
        LogEntry(
            time: "14:10:02", text: "meeting bns-qwer-tyu made: share \(meetingLink); people knock and you admit them",
            severity: .good),
        LogEntry(
            time: "14:10:03", text: "media: DTLS-SRTP leg to the server up; cloud-encrypted: the server can access this meeting",
            severity: .good),
        LogEntry(time: "14:10:20", text: "knocking: Frank (guest)"),
        LogEntry(time: "14:10:22", text: "letting Frank (guest) in", severity: .good),
        LogEntry(time: "14:10:23", text: "Frank (guest) joined the meeting"),
        LogEntry(time: "14:10:40", text: "REC: the server is recording this meeting (everyone sees REC)", severity: .warning)
    ]
}

extension GoldenCase {
    static let meetings: [GoldenCase] = [
        // The host: link, REC, participants (one a guest), and Carol's knock box up.
        GoldenCase(
            name: "meeting-host-knock",
            state: Fixtures.inMeeting {
                $0.overlay = .knock(KnockPrompt(code: "bns-qwer-tyu", knocker: $0.meeting!.knocking[0], othersWaiting: ["Gina (guest)"]))
            }),
        // The same pane with the box put aside: the knockers listed, and every row.
        GoldenCase(name: "meeting-host", state: Fixtures.inMeeting()),
        GoldenCase(
            name: "meeting-host-log-wide",
            state: Fixtures.inMeeting {
                $0.showLog = true
                $0.log = Fixtures.meetingLog
            }, width: 100, height: 30),
        // Bob's side of the same meeting, knocking and waiting.
        GoldenCase(
            name: "meeting-waiting",
            state: Fixtures.with {
                $0.ownName = "Bob"
                $0.ownNumber = "+15550002"
                $0.pane = .meeting
                $0.meeting = MeetingView(link: Fixtures.meetingLink, code: "bns-qwer-tyu", isHost: false, phase: .waiting)
            }),
        // Inside Bob's meeting: the host marked, a guest's row, and REC shown to those who did not start it.
        GoldenCase(
            name: "meeting-guest-view",
            state: Fixtures.with {
                $0.pane = .meeting
                $0.meeting = MeetingView(
                    link: Fixtures.meetingLink, code: "bns-qwer-tyu", isHost: false, phase: .connected, elapsedSeconds: 9, recording: true,
                    participants: [
                        MeetingParticipantRow(id: "+15550002", name: "Bob", guest: false, isHost: true, heard: true, level: -21.7),
                        MeetingParticipantRow(id: "guest-1a2b3c4d", name: "Frank", guest: true, isHost: false, heard: true, level: -19.9)
                    ])
            }),
        GoldenCase(
            name: "meeting-not-admitted",
            state: Fixtures.with {
                $0.pane = .meeting
                $0.meeting = MeetingView(
                    link: Fixtures.meetingLink, code: "bns-qwer-tyu", isHost: false,
                    phase: .ended(reason: "not admitted: there is no such meeting, or its host did not let you in"),
                    keysWiped: true)
                $0.message = StatusMessage(
                    "meeting ended: not admitted: there is no such meeting, or its host did not let you in",
                    severity: .warning)
            }),
        GoldenCase(
            name: "meeting-join-prompt",
            state: Fixtures.with {
                $0.overlay = .joinMeeting(JoinMeetingPrompt(link: "duet://127.0.0.1:7443/bns-qwer-tyu", name: "Alice"))
            }),
        GoldenCase(
            name: "meeting-join-prompt-error",
            state: Fixtures.with {
                $0.overlay = .joinMeeting(
                    JoinMeetingPrompt(
                        link: "duet://meet.example.org:7443/bns-qwer-tyu", name: "Alice",
                        error: "this link is for the server meet.example.org:7443; this version joins meetings on your own server "
                            + "(127.0.0.1:7443) only: in a shell, duet meeting join LINK --name NAME"))
            }),
        GoldenCase(
            name: "meeting-create-prompt",
            state: Fixtures.with {
                $0.overlay = .createMeeting(CreateMeetingPrompt(open: false, record: true))
            })
    ]
}
