import DuetWire

/// One person in (or knocking at) a meeting, in the terms a screen shows: who they are, the
/// name they go by, whether they are a guest. The wire's participant also carries its SSRC,
/// which only the engine needs; this keeps screens (the TUI) free of wire types.
public struct MeetingPerson: Sendable, Hashable {
    /// The number of a registered device, or "guest-" and 8 hex digits of its key's fingerprint.
    public let id: String
    /// What others see: the device's number or display name, or the guest's chosen name.
    public let name: String
    public let guest: Bool

    public init(id: String, name: String, guest: Bool) {
        self.id = id
        self.name = name
        self.guest = guest
    }

    init(_ participant: Signaling.MeetingParticipant) {
        self.init(id: participant.id, name: participant.name, guest: participant.guest)
    }
}
