import Testing

@testable import DuetClient
@testable import DuetTUI

/// The meeting pane fed by the engine's events alone: the room on entry, rows, knockers,
/// recording and the end, with nothing read back from the engine.
@Suite("MeetingRoom")
struct MeetingRoomTests {
    static let host = MeetingPerson(id: "+15550001", name: "Alice", guest: false)
    static let you = MeetingPerson(id: "+15550002", name: "+15550002", guest: false)
    static let guest = MeetingPerson(id: "guest-0a1b2c3d", name: "Frank", guest: true)
    static let names = ["+15550001": "Alice A."]

    func admitted() throws -> (MeetingView, MeetingRoom) {
        let link = try MeetingLink(parsing: "duet://127.0.0.1:4433/bns-qwer-tyu")
        let roster = MeetingRoster(code: link.code, you: Self.you.id, host: Self.host.id, people: [Self.host, Self.you], recording: true)
        var view = MeetingView(link: link.description, code: link.code, isHost: false, phase: .waiting)
        var room = MeetingRoom()
        for event: MeetingEngineEvent in [.admitted(code: link.code), .entered(roster)] {
            room.apply(event, to: &view) { Self.names[$0] }
        }
        return (view, room)
    }

    @Test func gettingInListsTheRoomAsItStands() throws {
        let (view, _) = try admitted()
        #expect(view.phase == .joining)
        #expect(view.recording)
        #expect(view.participants == [MeetingParticipantRow(id: Self.host.id, name: "Alice A.", guest: false, isHost: true)])
    }

    @Test func theRoomOfAnotherMeetingIsNotTaken() {
        var view = MeetingView(code: "bns-qwer-tyu", isHost: false, phase: .waiting)
        var room = MeetingRoom()
        let other = MeetingRoster(
            code: "zzz-zzzz-zzz", you: Self.you.id, host: Self.host.id, people: [Self.host, Self.you], recording: true)
        room.apply(.entered(other), to: &view) { Self.names[$0] }
        #expect(view.phase == .waiting)
        #expect(view.participants.isEmpty && !view.recording)
    }

    @Test func theHostGettingInSeesWhoKnocks() {
        var view = MeetingView(isHost: true)
        var room = MeetingRoom()
        let roster = MeetingRoster(
            code: "bns-qwer-tyu", you: Self.host.id, host: Self.host.id, people: [Self.host], knocking: [Self.guest], recording: false)
        room.apply(.entered(roster), to: &view) { Self.names[$0] }
        #expect(view.code == "bns-qwer-tyu")
        #expect(view.isHost && view.phase == .joining)
        #expect(view.participants.isEmpty)
        #expect(view.knocking.map(\.shortName) == ["Frank (guest)"])
    }

    @Test func eventsFillTheRowsAndTheEndKeepsThem() throws {
        var (view, room) = try admitted()
        let hearing = MeetingHearing(participant: Self.guest, heard: true, level: -18, received: 40)
        for event: MeetingEngineEvent in [.mediaConnected(route: "udp"), .joined(Self.guest), .hearing([hearing]), .recording(false)] {
            room.apply(event, to: &view) { Self.names[$0] }
        }
        #expect(view.phase == .connected)
        #expect(!view.recording)
        #expect(view.participants.map(\.label) == ["Alice A. (host)", "Frank (guest)"])
        #expect(view.participants[1].heard)
        room.apply(.left(Self.guest), to: &view) { Self.names[$0] }
        #expect(view.participants.map(\.id) == [Self.host.id])
        room.apply(.keysWiped, to: &view) { Self.names[$0] }
        room.apply(.ended(.closed("the host ended the meeting")), to: &view) { Self.names[$0] }
        room.apply(.joined(Self.guest), to: &view) { Self.names[$0] }
        #expect(view.keysWiped)
        #expect(view.phase == .ended(reason: "the host ended the meeting"))
        #expect(view.participants.map(\.id) == [Self.host.id])
    }

    @Test func theHostSeesWhoKnocks() {
        var view = MeetingView(code: "bns-qwer-tyu", isHost: true, phase: .joining)
        var room = MeetingRoom()
        room.apply(.knocking([Self.guest, Self.host]), to: &view) { Self.names[$0] }
        #expect(view.knocking.map(\.shortName) == ["Frank (guest)", "Alice A."])
        room.apply(.knocking([]), to: &view) { Self.names[$0] }
        #expect(view.knocking.isEmpty)
    }
}
