import CSodium

/// libsodium must be initialised once before any other call; every DuetCrypto entry point
/// that reaches libsodium goes through `Sodium.ready()` first.
enum Sodium {
    /// `sodium_init` is thread-safe and idempotent: it returns 0 the first time and 1 after.
    private static let initialised: Bool = sodium_init() >= 0

    static func ready() {
        precondition(initialised, "libsodium failed to initialise (sodium_init < 0)")
    }
}
