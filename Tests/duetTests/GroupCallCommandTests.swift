import Foundation
import Testing

/// `duet call GROUP` and `duet answer --auto` for a group, as separate processes on a real
/// `duet server` (README.md "Groups and group calls"): every voice heard, and removing a member from the
/// group mid-call shows a rekey in every remaining participant's output.
@Suite("duet call GROUP", .serialized)
struct GroupCallCommandTests {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("duet-group-calls-\(UUID().uuidString)")
    let ann = "+15554501", ben = "+15554502", cat = "+15554503", dan = "+15554504"

    /// True when `child` has printed a hearing line in which each of `numbers` is heard.
    static func hearsEveryone(_ child: DuetChild, _ numbers: [String]) -> Bool {
        child.lines.contains { line in line.hasPrefix("hearing: ") && numbers.allSatisfy { line.contains("\($0) heard") } }
    }

    @Test func threeAutoAnsweringMembersAreHeardAndARemovalRekeysEveryone() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let duet = DuetCommandLine(home: home)
        let server = try ServerProcess(dataDirectory: home.appendingPathComponent("server"))
        defer { server.stop() }
        let people = [("ann", ann), ("ben", ben), ("cat", cat), ("dan", dan)]
        for (profile, number) in people {
            let registered = try duet.run(["register", number, "--profile", profile, "--server", server.signaling])
            #expect(registered.status == 0, "\(registered.stderr)")
        }
        let created = try duet.run(["group", "create", "Team", ben, cat, dan, "--profile", "ann"])
        #expect(created.status == 0, "\(created.stderr)")

        var answering: [String: DuetChild] = [:]
        for (profile, _) in people.dropFirst() {
            let child = try DuetChild(["answer", "--auto", "--duration", "12s", "--profile", profile], home: home)
            #expect(await child.waitForLine(containing: "waiting for a call"), "\(profile): \(child.text)")
            answering[profile] = child
        }
        let calling = try DuetChild(["call", "Team", "--duration", "10s", "--profile", "ann"], home: home)
        #expect(await calling.waitForLine(containing: "calling group Team"), "ann: \(calling.text)")

        let everyone = [ann, ben, cat, dan]
        let heard = await eventually(timeout: .seconds(40)) { Self.hearsEveryone(calling, [ben, cat, dan]) }
        #expect(heard, "ann does not hear every voice: \(calling.text)")
        for (profile, number) in people.dropFirst() {
            let child = answering[profile]!
            let others = everyone.filter { $0 != number }
            #expect(await eventually(timeout: .seconds(40)) { Self.hearsEveryone(child, others) }, "\(profile): \(child.text)")
        }

        // Ann removes Dan from the group from another terminal while the call goes on.
        let removed = try duet.run(["group", "remove", "Team", dan, "--profile", "ann"])
        #expect(removed.status == 0, "\(removed.stderr)")
        for child in [calling, answering["ben"]!, answering["cat"]!] {
            #expect(await child.waitForLine(containing: "group: \(dan) removed by \(ann)"), "\(child.text)")
            #expect(await child.waitForLine(containing: "rekey: now sending under key epoch 1 (a member left"), "\(child.text)")
        }
        #expect(await answering["dan"]!.waitForLine(containing: "removed this device from Team"), "dan: \(answering["dan"]!.text)")

        #expect(await calling.waitForExit() == 0, "ann: \(calling.text)")
        for (profile, child) in answering {
            #expect(await child.waitForExit() == 0, "\(profile): \(child.text)")
            #expect(child.lines.contains("keys: every sender key of this call wiped"), "\(profile): \(child.text)")
        }
        #expect(calling.lines.contains("keys: every sender key of this call wiped"))
    }
}

extension GroupCallCommandTests {
    /// A server with Ann, Ben and Cat registered, and Ann's group `name` of the three.
    func trio(named name: String) throws -> ServerProcess {
        let duet = DuetCommandLine(home: home)
        let server = try ServerProcess(dataDirectory: home.appendingPathComponent("server"))
        for (profile, number) in [("ann", ann), ("ben", ben), ("cat", cat)] {
            let registered = try duet.run(["register", number, "--profile", profile, "--server", server.signaling])
            #expect(registered.status == 0, "\(registered.stderr)")
        }
        #expect(try duet.run(["group", "create", name, ben, cat, "--profile", "ann"]).status == 0)
        return server
    }

    /// `--video` in a group call: once a second each member prints a `seeing` line for every
    /// other member whose camera is on, named by the pictures themselves (README.md "Video").
    @Test func membersWithCamerasSeeEachOther() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let server = try trio(named: "Team")
        defer { server.stop() }
        var answering: [DuetChild] = []
        for profile in ["ben", "cat"] {
            let child = try DuetChild(["answer", "--auto", "--video", "--duration", "8s", "--profile", profile], home: home)
            #expect(await child.waitForLine(containing: "waiting for a call"), "\(profile): \(child.text)")
            answering.append(child)
        }
        let calling = try DuetChild(["call", "Team", "--video", "--duration", "6s", "--profile", "ann"], home: home)
        #expect(await calling.waitForExit() == 0, "ann: \(calling.text)")
        for child in answering { #expect(await child.waitForExit() == 0, "\(child.text)") }
        for (child, number) in zip([calling] + answering, [ann, ben, cat]) {
            for other in [ann, ben, cat] where other != number {
                let lines = child.lines.filter { $0.hasPrefix("seeing \(other) ") }
                #expect(lines.contains { $0.contains(" 160x120 ") && $0.contains("freezes 0") }, "\(number) sees \(other): \(child.text)")
            }
        }
    }

    /// A member's process killed mid-call (docs/testing.md "Faults"): its connection to the server dies
    /// with it, the server drops it from the room, and every remaining participant prints that
    /// it left and rekeys (the dead device's key opens nothing that follows).
    @Test func aMemberKilledMidCallIsDroppedAndTheOthersRekey() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let server = try trio(named: "Trio")
        defer { server.stop() }
        let benAnswers = try DuetChild(["answer", "--auto", "--duration", "30s", "--profile", "ben"], home: home)
        let catAnswers = try DuetChild(["answer", "--auto", "--duration", "30s", "--profile", "cat"], home: home)
        for child in [benAnswers, catAnswers] { #expect(await child.waitForLine(containing: "waiting for a call"), "\(child.text)") }
        let calling = try DuetChild(["call", "Trio", "--duration", "30s", "--profile", "ann"], home: home)
        #expect(await eventually(timeout: .seconds(40)) { Self.hearsEveryone(calling, [ben, cat]) }, "ann: \(calling.text)")
        #expect(await eventually(timeout: .seconds(40)) { Self.hearsEveryone(benAnswers, [ann, cat]) }, "ben: \(benAnswers.text)")

        catAnswers.kill()
        for (name, child) in [("ann", calling), ("ben", benAnswers)] {
            #expect(await child.waitForLine(containing: "left: \(cat)", timeout: .seconds(15)), "\(name): \(child.text)")
            #expect(await child.waitForLine(containing: "(a member left: they cannot read what follows)"), "\(name): \(child.text)")
        }
        #expect(await eventually(timeout: .seconds(20)) { Self.hearsEveryone(calling, [ben]) && Self.hearsEveryone(benAnswers, [ann]) })
        calling.kill()
        benAnswers.kill()
    }
}

/// Polls `condition` until it holds or `timeout` passes (a bound, not a timing assertion).
func eventually(timeout: Duration, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return await condition()
}
