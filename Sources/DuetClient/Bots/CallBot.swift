/// A device that answers every call by itself: the embedded world's "Echo
/// Test" and tone bots, `duet bot`, and the demo's extras. It is an ordinary device — its own
/// keys, store and server session — whose call engine answers at once, and which joins every
/// group call it is rung for (singing its own voice) and leaves once nobody else is in it.
public final class CallBot: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Sends back what it hears and sees: you hear and see yourself, a moment late.
        case echo
        /// Plays its own synthetic voice.
        case tone
    }

    public let kind: Kind
    public let session: DeviceSession
    public let engine: CallEngine
    public let groupEngine: GroupCallEngine
    private let groupAnswering: Task<Void, Never>

    /// Starts answering calls to the session's number.
    public init(kind: Kind, session: DeviceSession, options: CallOptions = CallOptions()) async throws {
        var options = options
        options.autoAnswer = true
        options.echo = kind == .echo
        // A tone bot shows its own scene; the Echo Test sends back the pictures it is shown.
        if kind == .tone, options.video == nil { options.video = try VideoSettings() }
        self.kind = kind
        self.session = session
        engine = try CallEngine(session: session, options: options)
        await engine.start()
        // In a group call a tone bot shows its scene too (the Echo Test echoes no group video).
        var groupOptions = GroupCallEngine.Options()
        groupOptions.video = kind == .tone ? options.video : nil
        let group = try GroupCallEngine(session: session, options: groupOptions)
        groupEngine = group
        // Subscribed before following: a ring that comes at once is not missed.
        let events = group.events
        groupAnswering = Task { await Self.answerGroupCalls(group, events) }
        await group.follow()
    }

    /// Joins each group call it is rung for when not in one, and leaves once everyone who was
    /// in the room when it rang has gone — so a choir of bots does not sing on to itself.
    private static func answerGroupCalls(_ engine: GroupCallEngine, _ events: AsyncStream<GroupCallEngineEvent>) async {
        var hosts: Set<String> = []
        for await event in events {
            if case let .ringing(call) = event, await engine.snapshot() == nil {
                hosts = Set(call.participants)
                _ = try? await engine.join(callID: call.callID)
            } else if let call = await engine.snapshot(), hosts.isDisjoint(with: call.participants) {
                await engine.leave()
            }
        }
    }

    /// What the bot says about itself in a contact list.
    public var description: String {
        switch kind {
        case .echo: "answers at once and plays your own voice and picture back"
        case .tone: "answers at once and plays its own voice"
        }
    }

    /// Hangs up any call and leaves the server.
    public func stop() async {
        await engine.hangUp()
        await groupEngine.close()
        groupAnswering.cancel()
        await session.close()
    }
}

/// The Echo Test bot.
public enum EchoBot {
    public static func start(session: DeviceSession, options: CallOptions = CallOptions()) async throws -> CallBot {
        try await CallBot(kind: .echo, session: session, options: options)
    }
}

/// A bot that answers with its own voice.
public enum ToneBot {
    public static func start(session: DeviceSession, options: CallOptions = CallOptions()) async throws -> CallBot {
        try await CallBot(kind: .tone, session: session, options: options)
    }
}
