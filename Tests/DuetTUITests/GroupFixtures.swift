import DuetTUI
import Foundation

@testable import DuetClient

/// Group call states for the screen tests: Alice in a call in "Team" with Bob (heard) and
/// Dave (not heard); Carol was rung and holds Alice's current key, Erin (no name) has not.
extension Fixtures {
    static var groupCall: GroupCallView {
        GroupCallView(
            groupID: "g1a2b3c4d", groupName: "Team", callID: "c-42", phase: .connected, elapsedSeconds: 125, epoch: 2,
            rekeys: 2, lastRekeyCause: "a member was added",
            participants: [
                GroupParticipantRow(number: "+15550002", name: "Bob", heard: true, level: -18.3),
                GroupParticipantRow(number: "+15550004", name: "Dave", heard: false, level: -63.0)
            ],
            invited: [
                GroupInvitedRow(number: "+15550003", name: "Carol", hasKey: true),
                GroupInvitedRow(number: "+15550005", name: nil, hasKey: false)
            ])
    }

    static let groupLog = [
        LogEntry(time: "14:03:27", text: "in the group call in Team (call c-42): members you, Bob (+15550002), Carol (+15550003)"),
        LogEntry(
            time: "14:03:28", text: "media: DTLS-SRTP leg to the SFU up; voices travel in it SFrame-encrypted end to end",
            severity: .good),
        LogEntry(time: "14:03:28", text: "rekey: now sending under key epoch 0 (joined the call)"),
        LogEntry(time: "14:03:30", text: "Bob (+15550002) joined the group call"),
        LogEntry(time: "14:04:02", text: "rekey: now sending under key epoch 1 (a member left: they cannot read what follows)"),
        LogEntry(time: "14:04:40", text: "+15550005 added to the group by Bob (+15550002)"),
        LogEntry(time: "14:04:41", text: "rekey: now sending under key epoch 2 (a member was added: they cannot read what came before)")
    ]

    static func inGroupCall(_ change: (inout TUIState) -> Void = { _ in }) -> TUIState {
        with {
            $0.groups = teamGroups
            $0.selected = contacts.count
            $0.pane = .groupCall
            $0.groupCall = groupCall
            change(&$0)
        }
    }
}

extension GoldenCase {
    static let groupCalls: [GoldenCase] = [
        GoldenCase(name: "group-call", state: Fixtures.inGroupCall()),
        GoldenCase(
            name: "group-call-log-wide",
            state: Fixtures.inGroupCall {
                $0.showLog = true
                $0.log = Fixtures.groupLog
            }, width: 100, height: 30),
        GoldenCase(
            name: "group-call-joining",
            state: Fixtures.inGroupCall {
                $0.groupCall = GroupCallView(groupID: "g1a2b3c4d", groupName: "Team")
            }),
        GoldenCase(
            name: "group-call-ended",
            state: Fixtures.inGroupCall {
                $0.groupCall?.phase = .ended(reason: nil)
                $0.groupCall?.elapsedSeconds = 125
                $0.groupCall?.keysWiped = true
                $0.message = StatusMessage("left the group call in Team", severity: .info)
            }),
        GoldenCase(
            name: "incoming-group-call",
            state: Fixtures.with {
                $0.groups = Fixtures.teamGroups
                $0.overlay = .incomingGroupCall(
                    IncomingGroupCall(
                        callID: "c-42", groupName: "Team",
                        participants: ["Bob (+15550002)", "+15550009"], memberCount: 3))
            }),
        GoldenCase(
            name: "create-group",
            state: Fixtures.with {
                $0.groups = Fixtures.teamGroups
                $0.overlay = .createGroup(CreateGroupPrompt(name: "Book club", members: "+15550002 +15550003", field: .members))
            }),
        GoldenCase(
            name: "create-group-error",
            state: Fixtures.with {
                $0.overlay = .createGroup(
                    CreateGroupPrompt(
                        name: "Book club", members: "+15550002 5550003", field: .members,
                        error: "5550003 is not a number: write + and 1–15 digits"))
            }),
        GoldenCase(
            name: "group-remove-member",
            state: Fixtures.inGroupCall {
                $0.overlay = .groupMember(
                    GroupMemberPrompt(
                        action: .remove, groupID: "g1a2b3c4d", groupName: "Team", number: "+15550004",
                        choices: [
                            .init(number: "+15550002", name: "Bob"), .init(number: "+15550004", name: "Dave"),
                            .init(number: "+15550003", name: "Carol"), .init(number: "+15550005", name: nil)
                        ]))
            }),
        GoldenCase(
            name: "group-add-member-error",
            state: Fixtures.inGroupCall {
                $0.overlay = .groupMember(
                    GroupMemberPrompt(
                        action: .add, groupID: "g1a2b3c4d", groupName: "Team", number: "+15550077",
                        error: "No one is registered as +15550077 on this server."))
            })
    ]
}
