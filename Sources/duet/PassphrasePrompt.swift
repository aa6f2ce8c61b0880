import DuetCrypto
import Foundation
import Glibc

/// Asks for a profile's passphrase on the controlling terminal, echo off, as ssh and gpg do:
/// typed there, it never appears on screen, in the shell's history or in /proc (where an
/// environment variable would). Nil when there is no terminal (a script: DUET_PASSPHRASE).
enum PassphrasePrompt {
    static func ask(_ prompt: String) -> String? {
        let tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard tty >= 0 else { return nil }
        defer { close(tty) }
        var saved = termios()
        guard tcgetattr(tty, &saved) == 0 else { return nil }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO | ECHONL)
        quiet.c_lflag |= tcflag_t(ICANON)
        // Echo off before the prompt shows: nothing typed after it can appear.
        guard tcsetattr(tty, TCSAFLUSH, &quiet) == 0 else { return nil }
        write(tty, prompt)
        defer {
            _ = tcsetattr(tty, TCSAFLUSH, &saved)
            write(tty, "\n")
        }
        var typed: [UInt8] = []
        defer { wipe(&typed) }
        var byte: UInt8 = 0
        while read(tty, &byte, 1) == 1, byte != UInt8(ascii: "\n"), typed.count < 1024 { typed.append(byte) }
        return String(decoding: typed, as: UTF8.self)
    }

    /// A new passphrase, typed twice; nil when there is no terminal, "" when none is wanted.
    static func askNew(for profile: String) throws -> String? {
        guard let first = ask("A passphrase to seal profile '\(profile)' (Enter for none): ") else { return nil }
        guard !first.isEmpty else { return "" }
        guard ask("The same passphrase again: ") == first else { throw CommandFailure("the two passphrases differ; nothing was changed") }
        return first
    }

    private static func write(_ tty: Int32, _ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(tty, $0.baseAddress, $0.count - 1) }
    }
}
