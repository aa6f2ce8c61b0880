import Foundation
import Testing

/// `make install` and `make uninstall` into a temporary prefix (README "Install"): the binary,
/// a man page per command made by swift-argument-parser's manual generator (rendered by `man`),
/// and completion scripts (bash accepts its script). CONFIG=debug reuses the build `make test`
/// made; a user's `make install` builds for release.
@Suite("make install")
struct InstallTests {
    /// The checkout this test was built from: its Makefile is what is tested.
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `command` through the shell, its output (both streams) kept in a file so a long build
    /// log cannot fill a pipe.
    static func shell(_ command: String, in directory: URL = checkout) throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("duet-install-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "\(command) > '\(log.path)' 2>&1"]
        process.currentDirectoryURL = directory
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    @Test func installPutsTheBinaryManPagesAndCompletionsUnderThePrefixAndUninstallRemovesThem() throws {
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("duet-prefix-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: prefix) }
        let install = try Self.shell("make install PREFIX='\(prefix.path)' CONFIG=debug SWIFTPM_FLAGS=--ignore-lock")
        try #require(install.status == 0, "make install failed:\n\(install.output.suffix(3000))")

        let binary = prefix.appendingPathComponent("bin/duet").path
        #expect(FileManager.default.isExecutableFile(atPath: binary))
        #expect(try Self.shell("'\(binary)' --version").output.contains("0.1.0"))

        let man = prefix.appendingPathComponent("share/man/man1")
        let page = try Self.shell("MANWIDTH=100 man -P cat -l '\(man.appendingPathComponent("duet.1").path)'")
        #expect(page.status == 0 && page.output.contains("NAME") && page.output.contains("duet"), "\(page.output.prefix(2000))")
        let history = try Self.shell("MANWIDTH=100 man -P cat -l '\(man.appendingPathComponent("duet.history.1").path)'")
        #expect(history.status == 0 && history.output.contains("--offline"), "\(history.output.prefix(2000))")

        let completions = prefix.appendingPathComponent("share/bash-completion/completions/duet").path
        let bash = try Self.shell("bash -n '\(completions)'")
        #expect(bash.status == 0, "bash refuses the completion script: \(bash.output)")
        #expect(try String(contentsOfFile: completions, encoding: .utf8).contains("history"))
        for file in ["share/zsh/site-functions/_duet", "share/fish/vendor_completions.d/duet.fish"] {
            #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent(file).path), "\(file) missing")
        }

        let uninstall = try Self.shell("make uninstall PREFIX='\(prefix.path)'")
        #expect(uninstall.status == 0, "\(uninstall.output)")
        let left = (FileManager.default.enumerator(at: prefix, includingPropertiesForKeys: [.isRegularFileKey])?.allObjects ?? [])
            .compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
        #expect(left.isEmpty, "make uninstall left files behind: \(left.map(\.path))")
    }
}
