import DuetClient
import DuetMedia

/// One device of a demo story: a real profile (store, keys) and session on the demo server,
/// with its engines once registered, and a log of what each engine reported.
struct DemoDevice {
    /// What the device was last doing, and where its log stood when that began, so
    /// "keys wiped" is looked for after the right start.
    enum Activity: Equatable {
        case call(since: Int)
        case group(since: Int)
        case meeting(since: Int)
    }

    let name: String
    /// "Alice" for `alice`: the display name others see.
    let display: String
    /// Nil for a guest (never registered).
    let number: String?
    let store: DeviceStore
    let session: DeviceSession
    let meetings: MeetingEngine
    let meetingLog: EventLog<MeetingEngineEvent>
    var calls: CallEngine?
    var callLog: EventLog<CallEngineEvent>?
    var groups: GroupCallEngine?
    var groupLog: EventLog<GroupCallEngineEvent>?
    var activity: Activity?

    /// Public view for a UI that shows this device while the story drives it.
    var handle: DemoDeviceHandle? {
        guard let calls, let groups else { return nil }
        return DemoDeviceHandle(name: name, session: session, calls: calls, groups: groups, meetings: meetings)
    }

    /// Closes the engines and the session.
    func close() async {
        await calls?.hangUp()
        await groups?.close()
        await meetings.close()
        callLog?.stop()
        groupLog?.stop()
        meetingLog.stop()
        await session.close()
    }
}

/// A registered demo device's session and engines, for `duet demo --tui` to show its screen.
public struct DemoDeviceHandle: Sendable {
    public let name: String
    public let session: DeviceSession
    public let calls: CallEngine
    public let groups: GroupCallEngine
    public let meetings: MeetingEngine
}
