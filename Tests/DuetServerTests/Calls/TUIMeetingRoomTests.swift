import DuetWire
import Testing

@testable import DuetClient
@testable import DuetTUI

/// The meeting pane fed by the engine's events: rows, knockers, recording and the end, with
/// the engine read only when this device gets in.
@Suite("TUIMeetingRoom")
struct TUIMeetingRoomTests {
    static let host = Signaling.MeetingParticipant(id: "+15550001", name: "Alice", guest: false)
    static let you = Signaling.MeetingParticipant(id: "+15550002", name: "+15550002", guest: false)
    static let guest = Signaling.MeetingParticipant(id: "guest-0a1b2c3d", name: "Frank", guest: true)
    static let names = ["+15550001": "Alice A."]

    func admitted() throws -> (MeetingView, MeetingRoom) {
        let link = try MeetingLink(parsing: "duet://127.0.0.1:4433/bns-qwer-tyu")
        let meeting = Signaling.Meeting(
            code: "bns-qwer-tyu", host: Self.host.id, open: false, participants: [Self.host, Self.you], recording: true,
            you: Self.you.id)
        let snapshot = MeetingSnapshot(
            code: meeting.code, link: link, you: Self.you.id, isHost: false, inside: true, meeting: meeting,
            mediaConnected: false, hearing: [:])
        var view = MeetingView(link: link.description, code: link.code, isHost: false, phase: .waiting)
        var room = MeetingRoom()
        room.enter(snapshot, view: &view) { Self.names[$0] }
        return (view, room)
    }

    @Test func gettingInListsTheRoomAsItStands() throws {
        let (view, _) = try admitted()
        #expect(view.phase == .joining)
        #expect(view.recording)
        #expect(view.participants == [MeetingParticipantRow(id: Self.host.id, name: "Alice A.", guest: false, isHost: true)])
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
