import DuetWire

/// A meeting on this device, without I/O: what happens when the server answers a knock, lets
/// the device in, changes the meeting, closes it, or is lost and found again. Each phase holds
/// its own data; `MeetingEngine` feeds it events and carries out the actions (sockets, legs,
/// the server's requests), so the rules can be read — and tested — apart from the network.
struct MeetingStateMachine: Sendable {
    enum State: Sendable, Equatable {
        case idle
        /// Knocked at `code`; the host decides. `afterBreak`: knocking again after losing the
        /// server, so a refusal means the meeting could not be got back into.
        case waiting(code: String, afterBreak: Bool)
        /// Inside the meeting as last seen; `mediaConnected` once the leg's handshake finished.
        case inside(meeting: Signaling.Meeting, mediaConnected: Bool)
        /// Lost the server; knocking again with the same link.
        case rejoining
        case ended(MeetingEnding)
    }

    enum Event: Sendable, Equatable {
        /// The server let this device in at once (created, open meeting, rejoined).
        case entered(Signaling.Meeting)
        /// The server says the host decides.
        case waiting(code: String)
        /// The host let this device in.
        case admitted(Signaling.Meeting)
        /// A newer view of the meeting: who joined and left, and the server's notice, if any.
        case changed(Signaling.Meeting, joined: [String] = [], left: [String] = [], notice: String? = nil)
        case closed(reason: String)
        /// Signaling is back after a break: the server has taken this device out.
        case reconnected
        case mediaConnected(route: String)
        /// The leg was replaced: media is down until its successor's handshake finishes.
        case mediaLost
        case left
        case failed(String)
    }

    enum Action: Sendable, Equatable {
        /// Open the leg to the server's media port that `meeting` names.
        case openLeg(Signaling.Meeting)
        /// Listen to exactly the other participants of `meeting`.
        case listen(to: Signaling.Meeting)
        case emit(MeetingEngineEvent)
        /// Drop the leg (keys, socket) and knock again with the same link.
        case knockAgain
        /// Out: the leg and its keys go, the device is free, `ended` is told.
        case end(MeetingEnding)
    }

    private(set) var state: State = .idle

    /// The meeting as last seen, while inside.
    var meeting: Signaling.Meeting? {
        if case let .inside(meeting, _) = state { meeting } else { nil }
    }

    /// The reason a meeting that could not be got back into ends with.
    static let couldNotRejoin =
        "could not get back in after losing the server: the meeting is gone (the server restarted, or the host ended it meanwhile), or the host did not let this device in again"

    mutating func handle(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.ended, _):
            return []
        case let (.idle, .entered(meeting)), let (.rejoining, .entered(meeting)):
            return enter(meeting)
        case let (.waiting(code, _), .admitted(meeting)):
            return [.emit(.admitted(code: code))] + enter(meeting)
        case let (.idle, .waiting(code)), let (.rejoining, .waiting(code)):
            state = .waiting(code: code, afterBreak: state == .rejoining)
            return [.emit(.waiting(code: code))]
        case let (.inside(before, connected), .changed(meeting, joined, left, notice)):
            state = .inside(meeting: meeting, mediaConnected: connected)
            return [.listen(to: meeting)] + Self.news(from: before, to: meeting, joined: joined, left: left)
                + (notice.map { [.emit(.notice(.warning(.recording, $0)))] } ?? [])
        case let (.inside(meeting, _), .mediaConnected(route)):
            state = .inside(meeting: meeting, mediaConnected: true)
            return [.emit(.mediaConnected(route: route))]
        case let (.inside(meeting, _), .mediaLost):
            state = .inside(meeting: meeting, mediaConnected: false)
            return []
        case (.rejoining, .closed), (.waiting(_, afterBreak: true), .closed):
            return end(.failed(Self.couldNotRejoin))
        case let (_, .closed(reason)):
            return end(.closed(reason))
        case (.inside, .reconnected), (.waiting, .reconnected):
            state = .rejoining
            return [.knockAgain]
        case (_, .left):
            return end(.left)
        case let (_, .failed(reason)):
            return end(.failed(reason))
        default:
            return []
        }
    }

    private mutating func enter(_ meeting: Signaling.Meeting) -> [Action] {
        state = .inside(meeting: meeting, mediaConnected: false)
        // The leg first: `entered` is told only once the leg is on its way (opening it can fail).
        var actions: [Action] = [.openLeg(meeting), .listen(to: meeting), .emit(.entered(MeetingRoster(meeting)))]
        if meeting.host == meeting.you, !meeting.knocking.isEmpty {
            actions.append(.emit(.knocking(meeting.knocking.map(MeetingPerson.init))))
        }
        if meeting.recording { actions.append(.emit(.recording(true))) }
        return actions
    }

    private mutating func end(_ ending: MeetingEnding) -> [Action] {
        state = .ended(ending)
        return [.end(ending)]
    }

    /// What changed between two views of the meeting, as events: who joined and left (as the
    /// server named them), the knock list for the host, the recording.
    static func news(from before: Signaling.Meeting, to meeting: Signaling.Meeting, joined: [String], left: [String])
        -> [Action]
    {
        var news: [Action] = []
        for id in joined {
            if let person = meeting.participants.first(where: { $0.id == id }) { news.append(.emit(.joined(MeetingPerson(person)))) }
        }
        for id in left {
            if let person = before.participants.first(where: { $0.id == id }) { news.append(.emit(.left(MeetingPerson(person)))) }
        }
        if meeting.host == meeting.you, meeting.knocking != before.knocking {
            news.append(.emit(.knocking(meeting.knocking.map(MeetingPerson.init))))
        }
        if before.recording != meeting.recording { news.append(.emit(.recording(meeting.recording))) }
        return news
    }
}

extension MeetingEntry {
    /// The server's answer to a knock, as the machine takes it.
    var event: MeetingStateMachine.Event {
        switch self {
        case let .joined(meeting): .entered(meeting)
        case let .waiting(code): .waiting(code: code)
        }
    }
}
