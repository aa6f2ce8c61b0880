import Foundation

/// `make check` runs the suite with DUET_SANITIZER=address or thread (docs/sanitizers.md).
/// Used only for tests TSan's own runtime crashes on, each listed with its reason in that
/// doc; AddressSanitizer and `make test` still run them. Never for a test that found a race.
enum Sanitizer {
    static let isThread = ProcessInfo.processInfo.environment["DUET_SANITIZER"] == "thread"
    static let isAddress = ProcessInfo.processInfo.environment["DUET_SANITIZER"] == "address"
    /// AddressSanitizer keeps freed memory in its quarantine (256 MiB by default) and adds
    /// shadow memory and redzones, so a process's resident size under it says nothing about
    /// what the process holds: resident-memory bounds are checked without it.
    static let measuresResidentMemory = !isAddress
}
