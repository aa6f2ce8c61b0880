import DuetClient
import DuetMedia
import DuetWire
import Foundation
import Synchronization

/// One device of the load bench: its session with a 1:1 engine (relay forced, auto-answer)
/// and a group engine, and the last hearing report of its call. A hundred of these share two
/// cores with the server, so each encodes at Opus complexity 0 — once, replaying its voice
/// (`VoiceEncoder.Mode.replayed`) unless DUET_LOAD_VOICE=live — and, in the group call, decodes
/// only the members in `decodes` (every frame is still opened by SFrame and counted).
final class LoadDevice: Sendable {
    let number: String
    /// The group members whose audio this device decodes (nil: all).
    let decodes: Set<String>?
    /// False for a talker: it sends and reads nothing of the call's audio.
    let listens: Bool
    let session: DeviceSession
    let callEngine: CallEngine
    let groupEngine: GroupCallEngine
    /// The last hearing report of the device's 1:1 call, kept by `follower`.
    private final class LastHearing: Sendable {
        let report = Mutex<HearingReport?>(nil)
        /// The call's other events with their times since the bench began (DUET_LOAD_VERBOSE).
        let log = Mutex<[String]>([])
    }

    private let lastHearing = LastHearing()
    private let follower: Task<Void, Never>

    /// The cheapest Opus encoder: a hundred devices share the server's two cores.
    static let opusComplexity = 0

    init(
        _ number: String, home: URL, server: HostPort, relay: Bool, decodes: Set<String>? = nil, listens: Bool = true,
        voiceEncoding: VoiceEncoder.Mode
    ) async throws {
        self.number = number
        self.decodes = decodes
        // The replayed voice is the load generator's saving, not a device's work: made here,
        // before anything is measured, rather than when the device first joins a call.
        if voiceEncoding == .replayed { try VoiceEncoder.prepareReplay(number: number, complexity: Self.opusComplexity) }
        let store = try DeviceStore.open(ProfileLocation(name: number.filter(\.isNumber), home: home), passphrase: nil, create: true)
        try store.initializeKeys()
        session = try await DeviceSession.open(store: store, server: server)
        _ = try await session.register(number: number, name: nil, invite: nil)
        var options = CallOptions()
        options.forceRelay = relay
        options.autoAnswer = true
        options.opusComplexity = Self.opusComplexity
        options.voiceEncoding = voiceEncoding
        callEngine = try CallEngine(session: session, options: options)
        var groupOptions = GroupCallEngine.Options()
        groupOptions.opusComplexity = Self.opusComplexity
        groupOptions.voiceEncoding = voiceEncoding
        groupOptions.decoded = decodes
        groupOptions.receivesAudio = listens
        self.listens = listens
        groupEngine = try GroupCallEngine(session: session, options: groupOptions)
        let events = callEngine.events, hearing = lastHearing
        follower = Task {
            for await event in events {
                if case let .hearing(report) = event {
                    hearing.report.withLock { $0 = report }
                } else {
                    let line = "\(Int(ContinuousClock.now.milliseconds(since: LoadDevice.benchStarted))) ms \(event)"
                    hearing.log.withLock { $0.append(line) }
                }
            }
        }
        await callEngine.start()
        await groupEngine.follow()
    }

    /// Places a call and returns milliseconds from place() to the first frame decoded.
    func call(_ number: String) async throws -> Double {
        let events = callEngine.events
        let started = ContinuousClock.now
        try await callEngine.place(to: number)
        for await event in events {
            if event == .firstAudio { return ContinuousClock.now.milliseconds(since: started) }
            if case .state(.ended) = event { break }
        }
        throw CallSetupBench.BenchFailure("the call from \(self.number) to \(number) ended before any audio")
    }

    var hearing: HearingReport? { lastHearing.report.withLock { $0 } }
    /// The call's events other than hearing reports, timed from `benchStarted`.
    var callLog: [String] { lastHearing.log.withLock { $0 } }
    static let benchStarted = ContinuousClock.now  // read first when the bench starts

    func close() async {
        await callEngine.hangUp()
        await groupEngine.close()
        follower.cancel()
        await session.close()
    }
}
