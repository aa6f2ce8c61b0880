import Crypto

/// What makes a call's short authentication string cost a man in the middle one try, not
/// 2³²: the caller mixes a random value of its own into the SAS, commits to it in the offer
/// (`commitment`, a SHA-256), and reveals it only in its key confirmation — after the answer.
/// Whoever answers must pick its nonce without knowing the value, so it cannot try answers
/// until the two screens' words agree; the caller cannot change the value after seeing the
/// answer, because the callee checks it against the commitment (the ZRTP hash-commitment idea).
/// Media keys do not depend on it, so the callee's media need not wait for the reveal.
public struct SASCommitment: Sendable {
    public static let revealCount = 32

    /// The committed value (secret until the caller sends its confirmation).
    public let reveal: [UInt8]

    /// A fresh value from the system's random source.
    public static func random() -> SASCommitment {
        SASCommitment(reveal: SecureRandom.bytes(revealCount))
    }

    public init(reveal: [UInt8]) { self.reveal = reveal }

    /// What the offer carries.
    public var commitment: [UInt8] { Self.commitment(to: reveal) }

    /// Whether `reveal` is the value `commitment` was made to (and the right length).
    public static func opens(_ commitment: [UInt8], with reveal: [UInt8]) -> Bool {
        reveal.count == revealCount && Self.commitment(to: reveal) == commitment
    }

    private static func commitment(to reveal: [UInt8]) -> [UInt8] {
        var hash = SHA256()
        hash.update(data: Array("Duet SAS commitment v1".utf8))
        hash.update(data: reveal)
        return Array(hash.finalize())
    }
}
