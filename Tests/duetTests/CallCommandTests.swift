import Foundation
import Testing

/// `duet call`, `duet answer` and `duet bot` as a person runs them: separate processes, a
/// real `duet server`, the event lines they print (README.md "Calls").
@Suite("duet call, answer and bot", .serialized)
struct CallCommandTests {
    let home: URL
    let duet: DuetCommandLine
    let alice = "+15553001", bob = "+15553002"

    init() {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-calls-\(UUID().uuidString)")
        duet = DuetCommandLine(home: home)
    }

    func run(_ args: [String]) throws {
        let result = try duet.run(args)
        #expect(result.status == 0, "duet \(args.joined(separator: " ")) failed: \(result.stderr)")
    }

    /// A server, and Alice and Bob registered with each other as contacts.
    func setUp() throws -> ServerProcess {
        let server = try ServerProcess(dataDirectory: home.appendingPathComponent("server"))
        try run(["register", alice, "--profile", "alice", "--server", server.signaling, "--name", "Alice"])
        try run(["register", bob, "--profile", "bob", "--server", server.signaling, "--name", "Bob"])
        try run(["contacts", "add", bob, "--name", "Bob", "--profile", "alice"])
        try run(["contacts", "add", alice, "--name", "Alice", "--profile", "bob"])
        return server
    }

    func sas(_ child: DuetChild) -> String? { child.lines.first { $0.hasPrefix("sas ") } }

    @Test(arguments: [false, true])
    func answerAutoAndCallTalkBothWays(relay: Bool) async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let server = try setUp()
        defer { server.stop() }
        let answering = try DuetChild(["answer", "--auto", "--profile", "bob"], home: home)
        #expect(await answering.waitForLine(containing: "waiting for a call"))
        let wav = home.appendingPathComponent("alice-heard.wav")
        let calling = try DuetChild(
            ["call", bob, "--profile", "alice", "--duration", Sanitizer.callDuration(seconds: 3), "--wav", wav.path]
                + (relay ? ["--relay"] : []), home: home)

        #expect(await calling.waitForExit() == 0, "alice: \(calling.text)")
        #expect(await answering.waitForExit() == 0, "bob: \(answering.text)")
        let path = relay ? "relay (udp)" : "p2p"
        #expect(calling.lines.contains("state connected (\(path))"), "alice: \(calling.text)")
        #expect(answering.lines.contains("state connected (\(path))"), "bob: \(answering.text)")
        #expect(calling.lines.contains { $0.hasPrefix("hearing Bob (\(bob))") && $0.contains("dBFS loss") && $0.contains("jitter") })
        #expect(answering.lines.contains { $0.hasPrefix("hearing Alice (\(alice))") })
        #expect(sas(calling) != nil && sas(calling) == sas(answering))
        #expect(calling.lines.contains("keys wiped") && answering.lines.contains("keys wiped"))
        #expect(answering.lines.contains("state ended: the other side hung up"))
        let recorded = try FileManager.default.attributesOfItem(atPath: wav.path)[.size] as? Int ?? 0
        #expect(recorded > 44 + 48_000 * 2, "at least a second of audio in the WAV file")
    }

    /// `--video` on both sides: each prints once a second whom the other's pictures show, at
    /// the camera's rate with no freezes; a camera at another size arrives at that size.
    @Test func aVideoCallShowsEachSideToTheOther() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let server = try setUp()
        defer { server.stop() }
        let saved = home.appendingPathComponent("alice.ivf")
        let answering = try DuetChild(
            ["answer", "--auto", "--video", "--video-size", "192x144", "--profile", "bob", "--save-video", saved.path], home: home)
        #expect(await answering.waitForLine(containing: "waiting for a call"))
        let calling = try DuetChild(
            ["call", bob, "--profile", "alice", "--video", "--duration", Sanitizer.callDuration(seconds: 4)], home: home)
        #expect(await calling.waitForExit() == 0, "alice: \(calling.text)")
        #expect(await answering.waitForExit() == 0, "bob: \(answering.text)")
        func seeing(_ child: DuetChild, _ who: String, _ size: String) -> [String] {
            child.lines.filter { $0.hasPrefix("seeing \(who) ") && $0.contains(" \(size) keyframes ") && $0.contains("kbit/s") }
        }
        let aliceSees = seeing(calling, "Bob (\(bob))", "192x144"), bobSees = seeing(answering, "Alice (\(alice))", "160x120")
        #expect(!aliceSees.isEmpty, "alice: \(calling.text)")
        #expect(!bobSees.isEmpty, "bob: \(answering.text)")
        // Full seconds at 15 fps (the first and the last, cut by the start and the hang-up,
        // aside): about 15 new pictures each, at least one of them a whole 14 or 15 — a loose
        // lower bound for the rest, since a busy machine can hold a frame back past a boundary.
        for sees in [aliceSees, bobSees] {
            #expect(sees.count >= 3, "\(sees)")
            let fps = sees.dropFirst().dropLast().map { line in
                line.split(separator: " ").firstIndex(of: "fps").map { Int(line.split(separator: " ")[$0 - 1]) ?? 0 } ?? 0
            }
            #expect(fps.allSatisfy { $0 >= 10 } && fps.contains { $0 >= 14 }, "\(sees)")
            #expect(sees.last.map { $0.contains("freezes 0") || $0.contains("freezes 1") } == true, "\(sees)")
        }
        // Bob kept what he saw: an IVF file ffmpeg decodes, Alice's size, seconds of frames.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/ffprobe") {
            let ffprobe = Process(), output = Pipe()
            ffprobe.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
            ffprobe.arguments = [
                "-v", "error", "-count_frames", "-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "csv=p=0",
                saved.path
            ]
            ffprobe.standardOutput = output
            try ffprobe.run()
            ffprobe.waitUntilExit()
            let probe = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let fields = probe.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            #expect(fields.prefix(3) == ["vp8", "160", "120"] && (Int(fields.last ?? "") ?? 0) >= 30, "ffprobe: \(probe)")
        }
        // Resends after a NACK are not replays, and nothing is tampered.
        #expect(!(calling.lines + answering.lines).contains { $0.hasPrefix("hearing") && $0.contains("rejected:") })
        #expect(calling.lines.contains { $0.hasPrefix("hearing Bob") }, "video does not cost the voice: \(calling.text)")
        // An invalid size is refused before anything runs.
        let refused = try duet.run(["call", bob, "--profile", "alice", "--video", "--video-size", "17x5"])
        #expect(refused.status != 0 && refused.stderr.contains("video size '17x5'"), "\(refused.stderr)")
    }

    @Test func aCalleeKilledMidCallEndsTheCallForTheCaller() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let server = try setUp()
        defer { server.stop() }
        let answering = try DuetChild(["answer", "--auto", "--profile", "bob"], home: home)
        #expect(await answering.waitForLine(containing: "waiting for a call"))
        let calling = try DuetChild(["call", bob, "--profile", "alice", "--duration", "60s"], home: home)
        #expect(await calling.waitForLine(containing: "hearing Bob"), "alice: \(calling.text)")
        answering.kill()

        let status = await calling.waitForExit(timeout: .seconds(30))
        #expect(status != nil && status != 0, "alice: \(calling.text)")
        #expect(calling.text.contains("state ended: failed: the other device stopped sending media"), "alice: \(calling.text)")
        #expect(calling.lines.contains("keys wiped"))
    }

    @Test func theEchoBotSendsBackWhatItHearsAndTheToneBotPlaysItsVoice() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let server = try setUp()
        defer { server.stop() }
        let echoNumber = "+15553090", toneNumber = "+15553091"
        try run(["register", echoNumber, "--profile", "echo", "--server", server.signaling, "--name", "Echo Test"])
        try run(["register", toneNumber, "--profile", "tone", "--server", server.signaling, "--name", "Tone"])
        try run(["contacts", "add", toneNumber, "--name", "Tone", "--profile", "alice"])
        let echo = try DuetChild(["bot", "echo", "--profile", "echo"], home: home)
        let tone = try DuetChild(["bot", "tone", "--profile", "tone"], home: home)
        #expect(await echo.waitForLine(containing: "answering calls"))
        #expect(await tone.waitForLine(containing: "answering calls"))

        let toEcho = try duet.run(["call", echoNumber, "--profile", "alice", "--duration", Sanitizer.callDuration(seconds: 4)])
        #expect(toEcho.status == 0, "\(toEcho.stdout)\(toEcho.stderr)")
        #expect(toEcho.stdout.contains("hearing you (\(alice))"), "alice hears herself: \(toEcho.stdout)")
        let toTone = try duet.run(["call", toneNumber, "--profile", "alice", "--duration", Sanitizer.callDuration(seconds: 3)])
        #expect(toTone.status == 0, "\(toTone.stdout)\(toTone.stderr)")
        #expect(toTone.stdout.contains("hearing Tone (\(toneNumber))"), "\(toTone.stdout)")
        // Bots keep answering: both saw their call end and stayed up.
        #expect(await echo.waitForLine(containing: "keys wiped"))
        echo.kill()
        tone.kill()
    }

    /// A server on IPv6 only (`[::1]`): registration, signaling, the STUN Binding and the relay
    /// all go over IPv6, and the relayed address is shown as written (`[::1]:port`). The
    /// namespaced hosts use only the IPv4 documentation ranges, so IPv6 is tested here.
    @Test func aCallThroughAServerOnIPv6() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let server = try ServerProcess(dataDirectory: home.appendingPathComponent("server"), listen: "[::1]:0", media: "[::1]:0")
        defer { server.stop() }
        #expect(server.signaling.hasPrefix("[::1]:"), "\(server.signaling)")
        try run(["register", alice, "--profile", "alice", "--server", server.signaling])
        try run(["register", bob, "--profile", "bob", "--server", server.signaling])
        let answering = try DuetChild(["answer", "--auto", "--profile", "bob"], home: home)
        #expect(await answering.waitForLine(containing: "waiting for a call"), "bob: \(answering.text)")
        let calling = try DuetChild(
            ["call", bob, "--profile", "alice", "--relay", "--duration", Sanitizer.callDuration(seconds: 4)], home: home)
        #expect(await calling.waitForExit() == 0, "alice: \(calling.text)")
        #expect(await answering.waitForExit() == 0, "bob: \(answering.text)")
        #expect(calling.lines.contains { $0.hasPrefix("path relay (udp) [::1]:") }, "alice: \(calling.text)")
        #expect(calling.lines.contains { $0.hasPrefix("hearing \(bob)") }, "alice: \(calling.text)")
        #expect(answering.lines.contains { $0.hasPrefix("hearing \(alice)") }, "bob: \(answering.text)")
    }

    /// `turns:` needs the certificate the relay must show, and a bad fingerprint is refused by
    /// name, before anything is sent anywhere.
    @Test func aTLSRelayNeedsTheCertificateItMustShow() throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let base = ["call", bob, "--profile", "alice", "--turn", "turns:198.51.100.7:5349", "--turn-user", "u", "--turn-pass", "p"]
        let missing = try duet.run(base)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("needs --turn-certificate"), "\(missing.stderr)")
        let malformed = try duet.run(base + ["--turn-certificate", "AB:CD"])
        #expect(malformed.status != 0)
        #expect(malformed.stderr.contains("is not a SHA-256 certificate fingerprint"), "\(malformed.stderr)")
        let notTLS = try duet.run([
            "call", bob, "--profile", "alice", "--turn", "turn:198.51.100.7:3478", "--turn-user", "u", "--turn-pass", "p",
            "--turn-certificate", String(repeating: "AB:", count: 31) + "AB"
        ])
        #expect(notTLS.status != 0)
        #expect(notTLS.stderr.contains("is for turns:"), "\(notTLS.stderr)")
    }
}
