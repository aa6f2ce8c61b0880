import ArgumentParser
import DuetClient
import DuetDemo
import DuetTUI
import Foundation

extension Duet {
    /// `duet` alone: the terminal UI (docs/ARCHITECTURE.md "Terminal UI"), on the profile's server, or on an embedded
    /// server with bots when the profile has none.
    func run() async throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw CommandFailure("duet's terminal UI needs a terminal; in scripts use the subcommands (duet --help)")
        }
        let location = try options.location
        let store = try options.openStore(create: true)
        if try store.initializeKeys() == .created {
            printEventLine("made this device's keys (profile \(location.name))")
        }
        let account = try store.account()
        var world: EmbeddedWorld?
        let session: DeviceSession
        do {
            if serverOptions.hostPort == nil, EmbeddedWorld.isEmbedded(location, account: account) {
                printEventLine("starting an embedded server and bots…")
                let started = try await EmbeddedWorld.start(profile: location)
                world = started
                session = try await started.connectUser(
                    store: store, name: location.name.prefix(1).uppercased() + location.name.dropFirst())
            } else {
                session = try await DeviceSession.open(
                    store: store, server: serverOptions.hostPort,
                    acceptFingerprint: serverOptions.acceptCertificate)
            }
        } catch {
            await world?.stop()
            throw CommandFailure(error)
        }
        let engine: CallEngine
        let controller: TUIController
        do {
            // Calls from the terminal UI are video calls, as the app Duet follows makes them:
            // the camera is on (V turns it off) and the pictures are drawn in the call pane.
            var callOptions = CallOptions()
            callOptions.video = try VideoSettings()
            callOptions.showsPictures = true
            engine = try CallEngine(session: session, options: callOptions)
            await engine.start()
            // Group calls and meetings too: the camera on, everyone's picture in a tile.
            var groupOptions = GroupCallEngine.Options()
            groupOptions.video = callOptions.video
            groupOptions.showsPictures = true
            let groupEngine = try session.store.account().number == nil ? nil : GroupCallEngine(session: session, options: groupOptions)
            let meetingEngine = try MeetingEngine(session: session, video: callOptions.video, showsPictures: true)
            controller = try TUIController(
                session: session, engine: engine, groupEngine: groupEngine, meetingEngine: meetingEngine, profile: location.name,
                embedded: world != nil, notes: world?.notes ?? [:])
        } catch {
            await session.close()
            await world?.stop()
            throw CommandFailure(error)
        }
        await TUIApplication.run(controller)
        await engine.hangUp()
        await session.close()
        await world?.stop()
    }
}
