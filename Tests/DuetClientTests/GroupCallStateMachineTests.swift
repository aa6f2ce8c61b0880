import Testing

@testable import DuetClient

/// The group call's room rules alone: who gets this device's key, when it rotates, what news
/// waits while entering — with no server, no key and no socket.
@Suite("Group call state machine")
struct GroupCallStateMachineTests {
    static let me = "+15550001"
    static let group = GroupInfo(id: "g1", name: "Team", owner: me, members: ["+15550002", "+15550003", "+15550004"])

    static func call(_ participants: [String], version: UInt64, group: GroupInfo = group) -> GroupCallInfo {
        GroupCallInfo(callID: "c1", group: group, participants: participants, version: version)
    }

    static func inCall(_ participants: [String] = [me, "+15550002"]) -> GroupCallStateMachine {
        var machine = GroupCallStateMachine(number: me)
        _ = machine.handle(.entering(callID: "c1"))
        _ = machine.handle(.entered(call(participants, version: 1)))
        return machine
    }

    /// Everyone of the group gets the first key at once, rung or in the room, so a member who
    /// joins later costs no rekey; news of the room that came while entering is handled after.
    @Test func enteringListensToTheRoomKeysTheWholeGroupAndReplaysWhatCameMeanwhile() {
        var machine = GroupCallStateMachine(number: Self.me)
        _ = machine.handle(.entering(callID: "c1"))
        let early = DeviceSession.GroupCallEvent(
            call: Self.call([Self.me, "+15550002", "+15550003"], version: 2), joined: ["+15550003"], left: [])
        #expect(machine.handle(.roomChanged(early)).isEmpty, "held until the call is set up")
        let actions = machine.handle(.entered(Self.call([Self.me, "+15550002"], version: 1)))
        #expect(
            actions == [
                .listen("+15550002"), .rekey(.joined, to: [Self.me, "+15550002", "+15550003", "+15550004"]), .replay(early)
            ])
    }

    /// A member who left the room but is still in the group makes everyone rotate, and gets no
    /// key again until they rejoin the room; joining again gives them the current key only.
    @Test func aLeaverIsForgottenAndRotatedAwayFromUntilTheyJoinAgain() {
        var machine = Self.inCall()
        let left = DeviceSession.GroupCallEvent(call: Self.call([Self.me], version: 2), joined: [], left: ["+15550002"])
        #expect(
            machine.handle(.roomChanged(left)) == [
                .emit(.left("+15550002")), .forget(["+15550002"]), .rekey(.memberLeft, to: [Self.me, "+15550003", "+15550004"])
            ])
        #expect(machine.room?.departed == ["+15550002"])
        let back = DeviceSession.GroupCallEvent(call: Self.call([Self.me, "+15550002"], version: 3), joined: ["+15550002"], left: [])
        #expect(machine.handle(.roomChanged(back)) == [.listen("+15550002"), .emit(.joined("+15550002")), .giveCurrentKey("+15550002")])
        #expect(machine.room?.keyHolders().contains("+15550002") == true)
    }

    /// Joins announced out of order: an older view of the room does not replace a newer one.
    @Test func anOlderViewOfTheRoomDoesNotOverrideANewerOne() {
        var machine = Self.inCall()
        let newer = DeviceSession.GroupCallEvent(
            call: Self.call([Self.me, "+15550002", "+15550003", "+15550004"], version: 5), joined: ["+15550004"], left: [])
        let older = DeviceSession.GroupCallEvent(
            call: Self.call([Self.me, "+15550002", "+15550003"], version: 4), joined: ["+15550003"], left: [])
        _ = machine.handle(.roomChanged(newer))
        _ = machine.handle(.roomChanged(older))
        #expect(machine.room?.participants == [Self.me, "+15550002", "+15550003", "+15550004"])
    }

    /// A member removed from the group held our key even if never in the room: everyone
    /// rotates; one added mid-call gets a new key, so they cannot read what came before; this
    /// device removed is out.
    @Test func groupChangesRotateTheKeyAndARemovalOfThisDeviceEndsItsPart() {
        var machine = Self.inCall()
        let smaller = GroupInfo(id: "g1", name: "Team", owner: Self.me, members: ["+15550002", "+15550003"])
        #expect(
            machine.handle(.groupChanged(GroupChange(group: smaller, added: [], removed: ["+15550004"], by: Self.me))) == [
                .emit(.memberRemoved("+15550004", by: Self.me)), .forget(["+15550004"]),
                .rekey(.memberLeft, to: [Self.me, "+15550002", "+15550003"])
            ])
        let larger = GroupInfo(id: "g1", name: "Team", owner: Self.me, members: ["+15550002", "+15550003", "+15550009"])
        #expect(
            machine.handle(.groupChanged(GroupChange(group: larger, added: ["+15550009"], removed: [], by: Self.me))) == [
                .emit(.memberAdded("+15550009", by: Self.me)), .rekey(.memberAdded, to: [Self.me, "+15550002", "+15550003", "+15550009"])
            ])
        var removed = Self.inCall()
        let without = GroupInfo(id: "g1", name: "Team", owner: "+15550002", members: ["+15550003"])
        #expect(
            removed.handle(.groupChanged(GroupChange(group: without, added: [], removed: [Self.me], by: "+15550002"))) == [
                .emit(.removedFromGroup("Team", by: "+15550002")), .leave(tellServer: false)
            ])
        #expect(removed.room == nil)
    }

    /// Back after losing the server: frames are held until the rejoin's key is out, members
    /// removed meanwhile are forgotten, and those who left the room before stay keyless.
    @Test func aRejoinHoldsFramesForgetsTheRemovedAndRekeys() {
        var machine = Self.inCall([Self.me, "+15550002", "+15550003"])
        let left = DeviceSession.GroupCallEvent(call: Self.call([Self.me, "+15550002"], version: 2), joined: [], left: ["+15550003"])
        _ = machine.handle(.roomChanged(left))
        let smaller = GroupInfo(id: "g1", name: "Team", owner: Self.me, members: ["+15550002", "+15550003"])
        let actions = machine.handle(.rejoined(Self.call([Self.me, "+15550002"], version: 1, group: smaller)))
        #expect(
            actions == [
                .forget(["+15550004"]), .listen("+15550002"),
                .emit(.rejoined(callID: "c1", group: smaller, participants: [Self.me, "+15550002"])),
                .rekey(.rejoined, to: [Self.me, "+15550002"])
            ])
        #expect(machine.room?.holdsFrames == true)
        _ = machine.handle(.rekeyed(.rejoined))
        #expect(machine.room?.holdsFrames == false)
    }

    /// News of a join that a newer change has overtaken (they joined and left while this
    /// device was entering, and the join is replayed after the leave): they stay departed and
    /// are given no key.
    @Test func aJoinOvertakenByALeaveGivesNoKey() {
        var machine = Self.inCall([Self.me, "+15550002"])
        let left = DeviceSession.GroupCallEvent(call: Self.call([Self.me, "+15550002"], version: 6), joined: [], left: ["+15550003"])
        _ = machine.handle(.roomChanged(left))
        let joined = DeviceSession.GroupCallEvent(
            call: Self.call([Self.me, "+15550002", "+15550003"], version: 5), joined: ["+15550003"], left: [])
        let actions = machine.handle(.roomChanged(joined))
        #expect(!actions.contains(.giveCurrentKey("+15550003")))
        #expect(machine.room?.keyHolders().contains("+15550003") == false)
        #expect(machine.room?.participants == [Self.me, "+15550002"])
    }

    /// A room change says who is in the room, never who is in the group: the group whose
    /// vouches decide who is given keys comes only from the join's reply and from group changes.
    /// Room changes carry the group without its vouches (`Signaling.GroupCall.announced`), and a
    /// server that announces a room under a group of its own adds nobody to the group this way.
    @Test func aRoomChangeNeverChangesTheGroup() {
        var machine = Self.inCall()
        let padded = GroupInfo(id: "g1", name: "Team", owner: "+15550666", members: Self.group.members + ["+15550666"])
        let change = DeviceSession.GroupCallEvent(
            call: Self.call([Self.me, "+15550002", "+15550666"], version: 2, group: padded), joined: ["+15550666"], left: [])
        _ = machine.handle(.roomChanged(change))
        #expect(machine.room?.group == Self.group)
        #expect(machine.room?.isMember("+15550666") == false)
    }

    /// News of another call is a possible ring, whatever this device is doing.
    @Test func newsOfAnotherCallIsARing() {
        var machine = Self.inCall()
        let other = DeviceSession.GroupCallEvent(
            call: GroupCallInfo(callID: "c2", group: Self.group, participants: ["+15550003"], version: 1), joined: ["+15550003"], left: [])
        #expect(machine.handle(.roomChanged(other)) == [.noteRing(other)])
    }
}
