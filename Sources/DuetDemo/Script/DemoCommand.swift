/// One line of a demo script (docs/demo.md lists them all). Names are the script's own
/// (`alice`, `team`); the runner maps them to devices, numbers and group ids.
public enum DemoCommand: Sendable, Equatable {
    /// A line of narration in the transcript.
    case say(String)
    /// Devices with keys made in the demo's temporary home; a number each, chosen or given.
    case devices([DeviceDeclaration])
    /// Devices with keys that never register: meeting guests, shown under a display name.
    case guests([String])
    case register([String])
    /// Each device adds every other one as a contact.
    case contacts([String])
    /// Both devices compute their safety number; equal numbers are marked verified on both sides.
    case verify(String, String)
    /// A 1:1 call from the first device to the second; the callee must be ringing afterwards.
    case call(caller: String, callee: String, relay: Bool)
    /// The device starts a call in a group of the script.
    case groupCall(caller: String, group: String)
    /// The device accepts the 1:1 call ringing on it; returns once both sides hear audio.
    case answer(String)
    /// The device joins the group call it is rung for.
    case join(String)
    /// The device leaves its group call or meeting.
    case leave(String)
    /// The device hangs up its 1:1 call.
    case hangUp(String)
    case mute(String, Bool)
    case wait(Duration)
    case groupCreate(group: String, owner: String, members: [String])
    /// The group's owner adds or removes a member.
    case groupAdd(group: String, member: String)
    case groupRemove(group: String, member: String)
    case meetingCreate(host: String, open: Bool, record: Bool)
    /// The device knocks with the meeting's link (a guest gives its display name).
    case meetingJoin(String)
    /// The host lets the device in (`admit`) or not (`deny`), once it knocks.
    case meetingAdmit(String, admit: Bool)
    case meetingRecord(String, on: Bool)
    /// Exports the meeting's recording (once the server finished it) to a file and decodes it.
    case export
    case expect(DemoExpectation)

    /// A device of the `devices` line: its script name and, if given, its number.
    public struct DeviceDeclaration: Sendable, Equatable {
        public let name: String
        public let number: String?
    }
}

/// What a careful person checks at a point of the story. Each waits up to a deadline for the
/// property to hold (audio takes a moment to be analysed), then passes or fails.
public enum DemoExpectation: Sendable, Equatable {
    /// The listener identifies each speaker's voice in its current call or meeting.
    case hears(listener: String, speakers: [String])
    /// The listener's current call or meeting carries none of these voices.
    case hearsNot(listener: String, speakers: [String])
    /// In a 1:1 call, the viewer's pictures show the other, named by the picture itself, moving.
    case sees(viewer: String, shown: String)
    case path(String, DemoPath)
    /// Both devices of a 1:1 call show the same short authentication string.
    case sas(String, String)
    /// What the server's relay (1:1) or SFU (group calls) carried held no audio it could play.
    case ciphertext(DemoWireSite)
    /// The server could play these voices from the meeting's media (cloud-encrypted, as said).
    case serverHears([String])
    /// Each device sends under a newer sender-key epoch than before the last membership change.
    case rekey([String])
    /// Exactly these devices are in the group call, as each of them sees it.
    case inCall([String])
    /// Each device reported every key of its last call or meeting released and zeroed.
    case wiped([String])
    /// The exported recording decodes, and each voice is identified in it.
    case recording([String])
}

/// How a 1:1 call's media goes, as `expect path` names it.
public enum DemoPath: String, Sendable, Equatable, CaseIterable {
    case p2p, relay
}

/// Where on the server `expect ciphertext` looks: the TURN relay or the group-call SFU.
public enum DemoWireSite: String, Sendable, Equatable, CaseIterable {
    case relay, sfu
}
