import Testing

@testable import DuetClient
@testable import DuetTUI

/// The group call pane fed by the engine's events alone: rows, epoch, rekeys and who holds
/// this device's key, with no snapshot read back from the engine.
@Suite("GroupCallRoom")
struct GroupCallRoomTests {
    static let own = "+15550001"
    static let group = GroupInfo(id: "g1", name: "Team", owner: own, members: [own, "+15550002", "+15550003", "+15550004"])
    static let names = ["+15550002": "Bob", "+15550003": "Carol"]

    func entered(participants: [String] = [own, "+15550002"]) -> (GroupCallView, GroupCallRoom) {
        var view = GroupCallView(groupID: "", groupName: "Team")
        var room = GroupCallRoom(ownNumber: Self.own)
        room.enter(GroupCallInfo(callID: "c1", group: Self.group, participants: participants), view: &view) { Self.names[$0] }
        return (view, room)
    }

    func apply(_ events: [GroupCallEngineEvent], _ view: inout GroupCallView, _ room: inout GroupCallRoom) {
        for event in events { room.apply(event, to: &view) { Self.names[$0] } }
    }

    @Test func enteringListsTheRoomAndTheMembersNotInIt() {
        let (view, _) = entered()
        #expect(view.callID == "c1")
        #expect(view.groupID == "g1")
        #expect(view.participants == [GroupParticipantRow(number: "+15550002", name: "Bob", heard: false, level: nil)])
        #expect(view.invited.map(\.number) == ["+15550003", "+15550004"])
        #expect(view.invited.allSatisfy { !$0.hasKey })
    }

    @Test func aRungMemberGivenTheCurrentKeyIsMarked() {
        var (view, room) = entered()
        apply([.keyGiven(to: "+15550003", epoch: 1), .keyGiven(to: "+15550002", epoch: 1), .rekey(.joined, epoch: 1)], &view, &room)
        #expect(view.epoch == 1)
        #expect(view.rekeys == 0)
        #expect(
            view.invited == [
                GroupInvitedRow(number: "+15550003", name: "Carol", hasKey: true),
                GroupInvitedRow(number: "+15550004", name: nil, hasKey: false)
            ])
        // A member who left was forgotten: an older key does not count after the next rekey.
        apply([.memberRemoved("+15550004", by: Self.own), .rekey(.memberLeft, epoch: 2)], &view, &room)
        #expect(view.rekeys == 1)
        #expect(view.lastRekeyCause == "a member left")
        #expect(view.invited == [GroupInvitedRow(number: "+15550003", name: "Carol", hasKey: false)])
    }

    @Test func joinsLeavesAndHearingFillTheRows() throws {
        var (view, room) = entered()
        let hearing = GroupCallHearing(member: "+15550003", heard: true, level: -20, epoch: 1, received: 50)
        apply([.joined("+15550003"), .hearing([hearing])], &view, &room)
        #expect(view.participants.map(\.number) == ["+15550002", "+15550003"])
        #expect(view.participants[1].heard)
        #expect(view.participants[1].level == -20)
        #expect(view.participants[0].level == nil)
        #expect(view.invited.map(\.number) == ["+15550004"])
        apply([.left("+15550002")], &view, &room)
        #expect(view.participants.map(\.number) == ["+15550003"])
        #expect(view.invited.map(\.number) == ["+15550002", "+15550004"])
    }

    @Test func changesSeenBeforeTheEngineAnsweredAreNotUndone() {
        var view = GroupCallView(groupID: "", groupName: "Team")
        var room = GroupCallRoom(ownNumber: Self.own)
        apply([.left("+15550002"), .joined("+15550004")], &view, &room)
        let info = GroupCallInfo(callID: "c1", group: Self.group, participants: [Self.own, "+15550002", "+15550003"])
        room.enter(info, view: &view) { Self.names[$0] }
        #expect(view.participants.map(\.number) == ["+15550003", "+15550004"])
    }

    @Test func anEndedCallKeepsItsLastRows() {
        var (view, room) = entered()
        apply([.mediaConnected(callID: "c1", route: "udp")], &view, &room)
        #expect(view.phase == .connected)
        #expect(view.elapsedSeconds == 0)
        apply([.keysWiped, .ended, .joined("+15550003")], &view, &room)
        #expect(view.phase == .ended(reason: nil))
        #expect(view.keysWiped)
        #expect(view.participants.map(\.number) == ["+15550002"])
    }

    @Test func aRejoinForgetsTheKeysGiven() {
        var (view, room) = entered()
        apply([.keyGiven(to: "+15550003", epoch: 1), .rekey(.joined, epoch: 1)], &view, &room)
        apply([.rejoined(callID: "c1", group: Self.group, participants: [Self.own, "+15550002", "+15550004"])], &view, &room)
        #expect(view.participants.map(\.number) == ["+15550002", "+15550004"])
        #expect(view.invited == [GroupInvitedRow(number: "+15550003", name: "Carol", hasKey: false)])
        apply([.rekey(.rejoined, epoch: 2)], &view, &room)
        #expect(view.lastRekeyCause == "rejoined")
    }

    /// Members removed or added while this device was cut off were told to nobody: the rejoin
    /// itself says what the group is now.
    @Test func aRejoinTakesTheGroupAsItIsNow() {
        var (view, room) = entered()
        let now = GroupInfo(id: "g1", name: "Team", owner: Self.own, members: [Self.own, "+15550002", "+15550004", "+15550005"])
        apply([.rejoined(callID: "c1", group: now, participants: [Self.own, "+15550002"])], &view, &room)
        #expect(view.participants.map(\.number) == ["+15550002"])
        #expect(view.invited.map(\.number) == ["+15550004", "+15550005"])
    }
}
