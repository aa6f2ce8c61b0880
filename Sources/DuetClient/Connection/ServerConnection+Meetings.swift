import DuetMedia
import DuetWire

/// What a join request got: in at once (an open meeting, or its host), or waiting at the
/// door until the host decides (`meetingAdmitted` or `meetingClosed` follow as events).
public enum MeetingEntry: Sendable, Equatable {
    case joined(Signaling.Meeting)
    case waiting(code: String)
}

/// Meetings (docs/meetings.md). Errors: `.server` with code `rate_limited` (too many join
/// attempts from this address), `unknown_meeting` (not one you are in, or not its host),
/// `quota_exceeded` (this device hosts as many meetings, or recordings, as one may).
extension ServerConnection {
    /// Makes a meeting with this device as its host. `dtlsFingerprint` and `ssrc` are this
    /// device's media leg: its DTLS certificate and the SSRC its audio will carry.
    public func createMeeting(
        open: Bool, record: Bool, name: String?, dtlsFingerprint: DTLSFingerprint,
        ssrc: UInt32
    ) async throws(ServerConnectionError) -> Signaling.Meeting {
        let request = Signaling.CreateMeeting(
            open: open, record: record, name: name, dtlsFingerprint: dtlsFingerprint.description, ssrc: ssrc)
        guard case let .meeting(meeting) = try await send(.createMeeting(request)) else { throw unexpected("createMeeting") }
        return meeting
    }

    /// Knocks at `code` (a guest must give a `name`).
    public func joinMeeting(code: String, name: String?, dtlsFingerprint: DTLSFingerprint, ssrc: UInt32) async throws(ServerConnectionError)
        -> MeetingEntry
    {
        let request = Signaling.JoinMeeting(code: code, name: name, dtlsFingerprint: dtlsFingerprint.description, ssrc: ssrc)
        switch try await send(.joinMeeting(request)) {
        case let .meeting(meeting): return .joined(meeting)
        case let .meetingWaiting(waiting): return .waiting(code: waiting.code)
        default: throw unexpected("joinMeeting")
        }
    }

    /// The host lets `participant` (an id from the meeting's `knocking`) in, or not.
    public func admitToMeeting(code: String, participant: String, admit: Bool) async throws(ServerConnectionError) -> Signaling.Meeting {
        guard case let .meeting(meeting) = try await send(.admitToMeeting(.init(code: code, participant: participant, admit: admit))) else {
            throw unexpected("admitToMeeting")
        }
        return meeting
    }

    public func recordMeeting(code: String, on: Bool) async throws(ServerConnectionError) -> Signaling.Meeting {
        guard case let .meeting(meeting) = try await send(.recordMeeting(.init(code: code, on: on))) else {
            throw unexpected("recordMeeting")
        }
        return meeting
    }

    /// Leaves (or stops knocking at) `code`; a host leaving ends the meeting for everyone.
    public func leaveMeeting(code: String) async throws(ServerConnectionError) {
        guard case .meetingWaiting = try await send(.leaveMeeting(.init(code: code))) else { throw unexpected("leaveMeeting") }
    }
}
