import ArgumentParser
import DuetClient
import DuetWire
import Foundation

/// A length of time typed on the command line: `10s`, `500ms`, `2m`.
struct CallDuration: ExpressibleByArgument, Sendable {
    let duration: Duration

    init?(argument: String) {
        let units: [(String, Int)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
        for (suffix, scale) in units where argument.hasSuffix(suffix) {
            guard let value = Double(argument.dropLast(suffix.count)), value >= 0 else { return nil }
            duration = .milliseconds(Int(value * Double(scale)))
            return
        }
        guard let seconds = Double(argument), seconds >= 0 else { return nil }
        duration = .milliseconds(Int(seconds * 1000))
    }
}

/// `--turn turn:HOST:PORT --turn-user U --turn-pass P`: an external TURN server (coturn),
/// reached over UDP and then TCP on that port, or only TCP with `?transport=tcp` (RFC 7065), or
/// over TLS with `turns:HOST:PORT` and the certificate it must show (`--turn-certificate`).
struct TURNOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Use this TURN server for the relay instead of the Duet server's (UDP, then TCP; add ?transport=tcp for TCP only; turns: for TLS).",
            valueName: "turn:HOST:PORT|turns:HOST:PORT"))
    var turn: String?
    @Option(help: "TURN username (with --turn).") var turnUser: String?
    @Option(help: "TURN password (with --turn).") var turnPass: String?
    @Option(
        help: ArgumentHelp(
            "The SHA-256 fingerprint of the certificate a turns: server must show, as `openssl x509 -noout -fingerprint -sha256` prints it.",
            valueName: "AB:CD:…"))
    var turnCertificate: String?
    @Option(
        help: ArgumentHelp(
            "Reach the relay only this way (udp, tcp or tls), e.g. on a network known to drop UDP.",
            valueName: "udp|tcp|tls"))
    var relayOver: RelayTransport?

    func validate() throws {
        guard let turn else {
            if turnCertificate != nil { throw ValidationError("--turn-certificate goes with --turn turns:HOST:PORT") }
            return
        }
        guard turnUser != nil, turnPass != nil else { throw ValidationError("--turn needs --turn-user and --turn-pass") }
        let tls = turn.hasPrefix("turns:")
        if tls {
            guard let turnCertificate else {
                throw ValidationError(
                    "--turn turns:… needs --turn-certificate FINGERPRINT: the SHA-256 of the certificate the relay shows (`openssl x509 -noout -fingerprint -sha256 -in cert.pem` on the relay)"
                )
            }
            do { _ = try CertificateFingerprint(parsing: turnCertificate) } catch { throw ValidationError("--turn-certificate: \(error)") }
        } else if turnCertificate != nil {
            throw ValidationError(
                "--turn-certificate is for turns: (TLS); this relay is reached over \(turn.hasSuffix("?transport=tcp") ? "TCP" : "UDP and TCP")"
            )
        }
        if let relayOver, (relayOver == .tls) != tls {
            throw ValidationError(
                tls
                    ? "--relay-over: a turns: relay is reached over TLS only"
                    : "--relay-over tls needs --turn turns:HOST:PORT (or the Duet server's own relay)")
        }
        guard address(turn) != nil else {
            throw ValidationError("--turn: write turn:HOST:PORT with a host this machine can resolve, e.g. turn:198.51.100.7:3478")
        }
    }

    private func address(_ text: String) -> TransportAddress? {
        var rest = text
        for scheme in ["turns:", "turn:"] where rest.hasPrefix(scheme) { rest = String(rest.dropFirst(scheme.count)) }
        if let query = rest.firstIndex(of: "?") { rest = String(rest[..<query]) }
        guard let hostPort = try? HostPort(parsing: rest) else { return nil }
        return ServerAddress.resolve(hostPort.host, port: UInt16(hostPort.port))
    }

    func apply(to options: inout CallOptions) {
        if let relayOver { options.relayTransports = [relayOver] }
        if let turn, let server = address(turn), let user = turnUser, let pass = turnPass {
            let transports: [RelayTransport] = turn.hasPrefix("turns:") ? [.tls] : turn.hasSuffix("?transport=tcp") ? [.tcp] : [.udp, .tcp]
            options.externalTURN = ExternalTURN(
                server: server, username: user, password: pass, transports: transports,
                certificate: turnCertificate.flatMap { try? CertificateFingerprint(parsing: $0) })
        }
    }
}

extension Duet {
    /// `duet call NUMBER|GROUP`: rings a contact (or a group), talks for `--duration`, hangs up.
    struct Call: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Call a number or a group: end-to-end encrypted, peer-to-peer, through the relay, or through the server's SFU.",
            discussion: """
                Prints one event a line; exits 0 only when the call connected and ended normally. A group \
                call prints who joins and leaves, every sender-key rekey with its cause, and once a second \
                whom it hears under which key epoch.
                """)

        @OptionGroup var profile: ProfileOptions
        @OptionGroup var serverOptions: ServerOptions
        @OptionGroup var turnOptions: TURNOptions
        @Argument(help: ArgumentHelp("The number, or the name of a group you are in, to call.", valueName: "number|group"))
        var number: String
        @Option(help: "How long to talk once connected (e.g. 10s).") var duration = CallDuration(argument: "10s")!
        @Flag(help: "Send media through the relay even if a direct path works.") var relay = false
        @Option(help: "Write what you hear to this WAV file.") var wav: String?
        @Flag(help: "Call even though the contact's identity key changed since you verified it.") var acceptKeyChange = false
        @OptionGroup var videoOptions: VideoOptions

        func run() async throws {
            if GroupCallRunner.isGroupName(number) { return try await callGroup() }
            var options = CallOptions()
            options.forceRelay = relay
            options.wav = wav.map { URL(fileURLWithPath: $0) }
            turnOptions.apply(to: &options)
            videoOptions.apply(to: &options)
            let session = try await serverOptions.session(profile)
            let engine = try CallEngine(session: session, options: options)
            await engine.start()
            let outcome = CallOutcome()
            let events = engine.events
            let printer = Task { await outcome.follow(events) }
            await outcome.dialling()
            do {
                try await engine.place(to: number, acceptKeyChange: acceptKeyChange)
            } catch {
                printer.cancel()
                await session.close()
                throw CommandFailure(error)
            }
            await outcome.waitUntilConnectedOrEnded()
            if await outcome.connected, await !outcome.waitUntilEnded(within: duration.duration) {
                await engine.hangUp()
            }
            await outcome.waitUntilWiped()
            printer.cancel()
            await session.close()
            if let failure = await outcome.failure { throw CommandFailure(failure) }
        }

        private func callGroup() async throws {
            guard !relay, wav == nil, turnOptions.turn == nil, videoOptions.saveVideo == nil else {
                throw ValidationError(
                    "--relay, --wav, --turn and --save-video apply to 1:1 calls; a group call goes through the server's SFU")
            }
            let session = try await serverOptions.session(profile)
            let runner = try await GroupCallRunner(session: session, video: try? videoOptions.settings())
            do {
                try await runner.call(groupName: number, duration: duration.duration)
            } catch {
                await runner.finish()
                await session.close()
                throw CommandFailure(error)
            }
            await session.close()
        }
    }

    /// `duet answer`: waits for a call (1:1 or group) and answers it.
    struct Answer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Wait for a call and answer it.",
            discussion: "Prints one event a line; exits 0 only when a call connected and ended normally.")

        @OptionGroup var profile: ProfileOptions
        @OptionGroup var serverOptions: ServerOptions
        @OptionGroup var turnOptions: TURNOptions
        @Flag(help: "Answer without asking.") var auto = false
        @Option(help: "Hang up after this long connected (default: when the caller hangs up).") var duration: CallDuration?
        @Option(help: "Write what you hear to this WAV file.") var wav: String?
        @Flag(
            help:
                "Keep no media socket ready between calls (no STUN Binding every 15 s); the address it would have learned is trickled during the call instead."
        )
        var noSpareSocket = false
        @OptionGroup var videoOptions: VideoOptions

        func run() async throws {
            var options = CallOptions()
            options.wav = wav.map { URL(fileURLWithPath: $0) }
            options.keepsSpareSocket = !noSpareSocket
            turnOptions.apply(to: &options)
            videoOptions.apply(to: &options)
            let session = try await serverOptions.session(profile)
            let engine = try CallEngine(session: session, options: options)
            let outcome = CallOutcome()
            let events = engine.events
            let printer = Task { await outcome.follow(events) }
            await engine.start()
            let group = try await GroupCallRunner(session: session, video: try? videoOptions.settings())
            printEventLine("waiting for a call to \(try session.store.account().number ?? "?")")
            // Whichever rings first: a 1:1 call, or a call in one of this device's groups.
            var invitation: GroupCallInfo?
            while await !outcome.incoming, invitation == nil {
                invitation = await group.outcome.invitation
                if invitation == nil { try? await Task.sleep(for: .milliseconds(20)) }
            }
            if let invitation {
                printer.cancel()
                try await answerGroup(invitation, with: group, session: session)
                return
            }
            await group.finish(hadCall: false)
            if auto || Self.confirm() {
                await engine.accept()
            } else {
                await engine.decline()
            }
            await outcome.waitUntilConnectedOrEnded()
            if await outcome.connected, let duration, await !outcome.waitUntilEnded(within: duration.duration) {
                await engine.hangUp()
            }
            await outcome.waitUntilWiped()
            printer.cancel()
            await session.close()
            if let failure = await outcome.failure { throw CommandFailure(failure) }
        }

        private func answerGroup(_ invitation: GroupCallInfo, with runner: GroupCallRunner, session: DeviceSession) async throws {
            do {
                guard auto || Self.confirm() else { throw CommandFailure("declined the group call") }
                try await runner.join(invitation, duration: duration?.duration)
            } catch {
                await runner.finish()
                await session.close()
                throw CommandFailure(error)
            }
            await session.close()
        }

        static func confirm() -> Bool {
            print("answer? [y/N] ", terminator: "")
            return readLine()?.lowercased().hasPrefix("y") == true
        }
    }
}

/// Follows a call's events for a headless command: prints each, and remembers whether the
/// call connected, how it ended, and when its keys were wiped.
actor CallOutcome {
    private(set) var connected = false
    private(set) var ended: CallEndReason?
    private(set) var wiped = false
    private(set) var incoming = false
    /// When this side dialled (the caller only): its first audio line says how long setup took.
    private var dialledAt: ContinuousClock.Instant?

    func dialling() { dialledAt = .now }

    func follow(_ events: AsyncStream<CallEngineEvent>) async {
        for await event in events {
            printEventLine(event.description)
            switch event {
            case .firstAudio:
                guard let dialledAt else { break }
                let elapsed = (ContinuousClock.now - dialledAt).components
                printEventLine(
                    "setup \(elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000) ms (dial → first audio heard)")
            case .state(.connected): connected = true
            case let .state(.ended(reason)): ended = reason
            case .keysWiped: wiped = true
            case .incoming: incoming = true
            default: break
            }
        }
    }

    /// Nil for a call that connected and was hung up by either side; else why it did not complete.
    var failure: String? {
        guard let ended else { return "the call did not end" }
        return connected && ended.isCompletedCall ? nil : "call \(ended)"
    }

    func waitForIncoming() async { while !incoming { try? await Task.sleep(for: .milliseconds(20)) } }
    func waitUntilConnectedOrEnded() async { while !connected && ended == nil { try? await Task.sleep(for: .milliseconds(20)) } }
    /// True if the call ended (the peer hung up, the path failed) before `limit` passed.
    func waitUntilEnded(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ended == nil, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return ended != nil
    }
    func waitUntilWiped() async { while !(wiped && ended != nil) { try? await Task.sleep(for: .milliseconds(20)) } }
}

extension RelayTransport: ExpressibleByArgument {}
