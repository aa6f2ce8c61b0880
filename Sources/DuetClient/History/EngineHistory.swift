/// How the group-call and meeting engines write the device's history (docs/history.md): one
/// write, its failure told as the engine's notice.
extension GroupCallEngine {
    func recordHistory(_ write: (CallHistory) -> Notice?) {
        if let problem = write(CallHistory(store: session.store)) { eventSink.yield(.notice(problem)) }
    }
}

extension MeetingEngine {
    func recordHistory(_ write: (CallHistory) -> Notice?) {
        if let problem = write(CallHistory(store: session.store)) { eventSink.yield(.notice(problem)) }
    }
}
