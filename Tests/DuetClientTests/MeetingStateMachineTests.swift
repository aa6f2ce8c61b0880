import DuetWire
import Testing

@testable import DuetClient

/// The meeting's rules alone, with no server and no socket.
@Suite("Meeting state machine")
struct MeetingStateMachineTests {
    typealias Person = Signaling.MeetingParticipant
    static let host = Person(id: "+15550001", name: "Ann", guest: false, ssrc: 11)
    static let bob = Person(id: "+15550002", name: "Bob", guest: false, ssrc: 22)
    static let gus = Person(id: "guest-0a0b0c0d", name: "Gus", guest: true, ssrc: 33)

    static func meeting(_ people: [Person], knocking: [Person] = [], recording: Bool = false, you: Person = host)
        -> Signaling.Meeting
    {
        Signaling.Meeting(
            code: "abc-defg-hij", host: host.id, open: false, participants: people, knocking: knocking, recording: recording,
            media: "192.0.2.1:3479", mediaFingerprint: "ab", you: you.id)
    }

    /// What a screen shows of a wire participant (no SSRC).
    static func shown(_ person: Person) -> MeetingPerson { MeetingPerson(id: person.id, name: person.name, guest: person.guest) }

    @Test func enteringOpensTheLegListensAndSaysWhatIsAlreadyTrue() {
        var machine = MeetingStateMachine()
        let meeting = Self.meeting([Self.host, Self.bob], knocking: [Self.gus], recording: true)
        let roster = MeetingRoster(
            code: "abc-defg-hij", you: Self.host.id, host: Self.host.id, people: [Self.shown(Self.host), Self.shown(Self.bob)],
            knocking: [Self.shown(Self.gus)], recording: true)
        #expect(
            machine.handle(.entered(meeting)) == [
                .openLeg(meeting), .listen(to: meeting), .emit(.entered(roster)), .emit(.knocking([Self.shown(Self.gus)])),
                .emit(.recording(true))
            ])
        #expect(roster.isHost && roster.others == [Self.shown(Self.bob)])
        #expect(machine.state == .inside(meeting: meeting, mediaConnected: false))
        #expect(machine.handle(.mediaConnected(route: "udp")) == [.emit(.mediaConnected(route: "udp"))])
        #expect(machine.state == .inside(meeting: meeting, mediaConnected: true))
    }

    @Test func aKnockerIsToldToWaitAndEntersOnlyWhenAdmitted() {
        var machine = MeetingStateMachine()
        let meeting = Self.meeting([Self.host, Self.gus], you: Self.gus)
        #expect(machine.handle(.waiting(code: "abc-defg-hij")) == [.emit(.waiting(code: "abc-defg-hij"))])
        #expect(machine.handle(.changed(meeting)).isEmpty, "no view of a meeting one is not in")
        #expect(machine.meeting == nil)
        let roster = MeetingRoster(
            code: "abc-defg-hij", you: Self.gus.id, host: Self.host.id, people: [Self.shown(Self.host), Self.shown(Self.gus)],
            recording: false)
        #expect(
            machine.handle(.admitted(meeting)) == [
                .emit(.admitted(code: "abc-defg-hij")), .openLeg(meeting), .listen(to: meeting), .emit(.entered(roster))
            ])
        #expect(!roster.isHost)
    }

    @Test func changesBecomeJoinedLeftKnockingAndRecordingNews() {
        var machine = MeetingStateMachine()
        let before = Self.meeting([Self.host, Self.bob])
        _ = machine.handle(.entered(before))
        let after = Self.meeting([Self.host, Self.gus], knocking: [], recording: true)
        #expect(
            machine.handle(.changed(after, joined: [Self.gus.id], left: [Self.bob.id], notice: "disk nearly full"))
                == [
                    .listen(to: after), .emit(.joined(Self.shown(Self.gus))), .emit(.left(Self.shown(Self.bob))), .emit(.recording(true)),
                    .emit(.notice(.warning(.recording, "disk nearly full")))
                ])
    }

    /// After losing the server the device knocks again; a meeting that is gone meanwhile ends
    /// saying so, not in the server's words for an ordinary refusal.
    @Test func aMeetingLostWhileRejoiningEndsAsCouldNotRejoin() {
        var machine = MeetingStateMachine()
        _ = machine.handle(.entered(Self.meeting([Self.host])))
        #expect(machine.handle(.reconnected) == [.knockAgain])
        #expect(machine.state == .rejoining)
        // A restarted server knows no such meeting: it answers like a host who lets nobody in.
        #expect(machine.handle(.waiting(code: "abc-defg-hij")) == [.emit(.waiting(code: "abc-defg-hij"))])
        #expect(
            machine.handle(.closed(reason: "not admitted")) == [.end(.failed(MeetingStateMachine.couldNotRejoin))])
        #expect(machine.handle(.entered(Self.meeting([Self.host]))).isEmpty, "an ended meeting stays ended")
    }

    @Test func leavingAndClosingEndWithTheirReason() {
        var left = MeetingStateMachine()
        _ = left.handle(.entered(Self.meeting([Self.host])))
        #expect(left.handle(.left) == [.end(.left)])
        var closed = MeetingStateMachine()
        _ = closed.handle(.entered(Self.meeting([Self.host])))
        #expect(closed.handle(.closed(reason: "the host left")) == [.end(.closed("the host left"))])
        #expect(closed.state == .ended(.closed("the host left")))
    }
}
