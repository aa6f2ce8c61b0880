import Foundation
import NetworkLab
import Testing

extension NamespacedHostTests {
    /// The frame rate a `seeing` line gives (0 when it gives none).
    static func fps(_ line: String) -> Int {
        let words = line.split(separator: " ")
        return words.firstIndex(of: "fps").flatMap { Int(words[$0 - 1]) } ?? 0
    }

    /// Four members with cameras, three behind cone NATs and one on the public segment
    /// (docs/video.md "Group calls"): each sees and hears every other at the camera's rate (15 fps:
    /// at least 14 on average). Then
    /// Ben's router drops 10 % of the datagrams each way for four seconds: Ben alone degrades —
    /// the others go on seeing each other at the full rate (Ben's PLIs cost them at most a
    /// keyframe per sender a second; his loss lowers only what the SFU sends him) —
    /// and Ben still sees everyone.
    @Test func aGroupVideoCallWithOneMemberUnderLossDegradesOnlyForHim() async throws {
        defer { try? FileManager.default.removeItem(at: home) }
        let world = try world()
        defer {
            world.server.stop()
            world.lab.tearDown()
        }
        let ann = try world.device("ann", nat: .cone, home: 0)
        let (ben, benRouter) = try world.deviceAtHome("ben", nat: .cone, home: 1)
        let cat = try world.device("cat", nat: .cone, home: 2)
        let dan = try world.device("dan", nat: nil, home: 3)
        let members = [("ann", "+15557201", ann), ("ben", "+15557202", ben), ("cat", "+15557203", cat), ("dan", "+15557204", dan)]
        for (profile, number, host) in members { try register(profile, number, on: host, world: world) }
        let created = try DuetCommandLine(home: home, namespace: ann.namespace)
            .run(["group", "create", "Team"] + members.dropFirst().map(\.1) + ["--profile", "ann"])
        #expect(created.status == 0, "\(created.stdout)\(created.stderr)")

        var children: [DuetChild] = []
        for (profile, _, host) in members.dropFirst() {
            let child = try DuetChild(
                ["answer", "--auto", "--video", "--duration", "24s", "--profile", profile], home: home, namespace: host.namespace)
            #expect(await child.waitForLine(containing: "waiting for a call"), "\(profile): \(child.text)")
            children.append(child)
        }
        children.insert(
            try DuetChild(
                ["call", "Team", "--video", "--duration", Sanitizer.callDuration(seconds: 18), "--profile", "ann"], home: home,
                namespace: ann.namespace), at: 0)
        let numbers = members.map(\.1)
        func seeing(_ child: DuetChild, _ number: String) -> [String] { child.lines.filter { $0.hasPrefix("seeing \(number) ") } }
        let fps = Self.fps
        /// At the camera's rate: 14 fps or more on average, no second below 12 (a second's count
        /// is ±1 by where the report falls between frames).
        func steady(_ lines: ArraySlice<String>) -> Bool {
            !lines.isEmpty && lines.map(fps).reduce(0, +) >= 14 * lines.count && lines.allSatisfy { fps($0) >= 12 }
        }
        // Everyone sees everyone, and the call settles (the last member's join asks every sender
        // for a keyframe, and legs are still shaking hands): the last three seconds before the
        // loss are the clean ones measured.
        for (child, number) in zip(children, numbers) {
            let others = numbers.filter { $0 != number }
            #expect(
                await eventually(timeout: .seconds(40)) {
                    GroupCallCommandTests.hearsEveryone(child, others) && others.allSatisfy { seeing(child, $0).count >= 5 }
                }, "\(number): \(child.text)")
        }
        try world.lab.loseUDP(percent: 10, through: #require(benRouter))
        let lossFrom = children.map { child in numbers.map { seeing(child, $0).count } }
        try await Task.sleep(for: .seconds(4))
        try world.lab.run(["nft", "delete", "table", "inet", "loss"], in: #require(benRouter))
        let lossTo = children.map { child in numbers.map { seeing(child, $0).count } }
        for child in children { #expect(await child.waitForExit() == 0, "\(child.text)") }

        for (index, (child, number)) in zip(children, numbers).enumerated() {
            for (otherIndex, other) in numbers.enumerated() where other != number {
                let all = seeing(child, other)
                let clean = all.prefix(lossFrom[index][otherIndex]).suffix(3)
                #expect(steady(clean), "\(number) sees \(other), clean: \(clean)")
                let during = all[min(lossFrom[index][otherIndex], all.count)..<min(lossTo[index][otherIndex], all.count)]
                // Ben still sees everyone, if at fewer pictures a second (fewer layers; a lost base
                // frame waits up to a second for its keyframe).
                #expect(
                    during.count >= 3 && during.map(fps).reduce(0, +) >= 2 * during.count,
                    "\(number) sees \(other) under Ben's loss: \(during)")
                // Neither Ben nor his picture: the others' view of each other does not suffer.
                if number != "+15557202" && other != "+15557202" {
                    #expect(steady(during), "\(number) sees \(other) under Ben's loss: \(during)")
                }
            }
        }
    }
}
